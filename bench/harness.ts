/**
 * The project's benchmark harness: suites declare cases and goals; `npm run bench [-- NAME]`
 * runs them with tinybench and prints median, p99 and throughput, writes the figures to
 * bench/results/SUITE.json, and exits 1 when a goal is missed.
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

export interface BenchSuite {
  name: string;
  description: string;
  setup?: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
  cases: () => BenchCase[] | Promise<BenchCase[]>;
  goals?: Goal[];
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

export async function runSuite(suite: BenchSuite): Promise<CaseFigures[]> {
  await suite.setup?.();
  try {
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
    return figures;
  } finally {
    await suite.teardown?.();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
