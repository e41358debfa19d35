/**
 * The project's benchmark harness: suites declare cases and goals; `npm run bench [-- NAME]`
 * runs them with tinybench and prints median, p99 and throughput, writes the figures to
 * bench/results/SUITE.json, and exits 1 when a goal is missed.
 *
 * A load test does not fit tinybench's repeat-a-function model: such a suite provides `run`
 * instead of `cases`, measures on its own, and returns its figures in the same shape, plus
 * `extra` numbers and goals it has already checked against what it measured.
 */
import { Bench } from 'tinybench';

export interface BenchCase {
  name: string;
  fn: () => unknown;
  beforeEach?: () => void | Promise<void>;
  /** Minimum samples; big cases keep this low so the suite stays quick. */
  iterations?: number;
  /** Minimum time to sample, in ms. */
  time?: number;
}

export interface Goal {
  case: string;
  metric: 'median' | 'p99';
  maxMs: number;
}

/** A goal on a figure a `run` suite measured itself: met when value <= max and value >= min. */
export interface MeasuredGoal {
  name: string;
  value: number;
  unit: string;
  max?: number;
  min?: number;
}

interface SuiteBase {
  name: string;
  description: string;
  setup?: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
}

export interface CaseSuite extends SuiteBase {
  cases: () => BenchCase[] | Promise<BenchCase[]>;
  goals?: Goal[];
}

export interface RunSuite extends SuiteBase {
  run: () => Promise<SuiteRun>;
}

export type BenchSuite = CaseSuite | RunSuite;

export interface SuiteRun {
  figures: CaseFigures[];
  /** Further numbers worth keeping (counts, rates, sizes), by name. */
  extra?: Record<string, number>;
  goals?: MeasuredGoal[];
}

export interface CaseFigures {
  name: string;
  samples: number;
  median_ms: number;
  p99_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
  ops_per_s: number;
}

export async function runSuite(suite: BenchSuite): Promise<SuiteRun> {
  await suite.setup?.();
  try {
    if ('run' in suite) return await suite.run();
    const figures: CaseFigures[] = [];
    for (const c of await suite.cases()) {
      const bench = new Bench({ iterations: c.iterations ?? 20, time: c.time ?? 1_000, throws: true, warmup: true });
      bench.add(c.name, c.fn, c.beforeEach ? { beforeEach: c.beforeEach } : {});
      await bench.run();
      const result = bench.tasks[0]?.result;
      if (!result || !('latency' in result)) throw new Error(`benchmark ${c.name} produced no result`);
      const { latency } = result;
      figures.push({
        name: c.name,
        samples: latency.samplesCount,
        median_ms: round(latency.p50),
        p99_ms: round(latency.p99),
        mean_ms: round(latency.mean),
        min_ms: round(latency.min),
        max_ms: round(latency.max),
        ops_per_s: round(1000 / latency.mean),
      });
    }
    return { figures };
  } finally {
    await suite.teardown?.();
  }
}

export function measuredGoalMet(goal: MeasuredGoal): boolean {
  return !Number.isNaN(goal.value) && (goal.max === undefined || goal.value <= goal.max) && (goal.min === undefined || goal.value >= goal.min);
}

/** Figures in the harness's shape from raw samples (ms), e.g. latencies a load test collected. */
export function figuresFrom(name: string, samplesMs: readonly number[], opsPerS?: number): CaseFigures {
  const sorted = Float64Array.from(samplesMs).sort();
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number));
  const mean = sorted.length === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    name,
    samples: sorted.length,
    median_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    mean_ms: round(mean),
    min_ms: round(sorted[0] ?? Number.NaN),
    max_ms: round(sorted[sorted.length - 1] ?? Number.NaN),
    ops_per_s: round(opsPerS ?? 1000 / mean),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
