/** `npm run bench [-- SUITE...]`: runs benchmark suites, prints figures, checks goals. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { measuredGoalMet, runSuite, type BenchSuite, type CaseFigures } from './harness.js';
import { heartbeatsSuite } from './heartbeats.bench.js';
import { inventorySuite } from './inventory.bench.js';
import { placementSuite } from './placement.bench.js';
import { discoverySuite } from './discovery.bench.js';
import { failoverSuite } from './failover.bench.js';
import { cliSuite } from './cli.bench.js';

const SUITES: BenchSuite[] = [cliSuite, inventorySuite, heartbeatsSuite, discoverySuite, placementSuite, failoverSuite];

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function print(figures: CaseFigures[]): void {
  const width = Math.max(...figures.map((f) => f.name.length), 4);
  console.log(`${pad('case', width)}  ${pad('samples', 7, true)}  ${pad('median ms', 10, true)}  ${pad('p99 ms', 10, true)}  ${pad('ops/s', 9, true)}`);
  for (const f of figures) {
    console.log(`${pad(f.name, width)}  ${pad(String(f.samples), 7, true)}  ${pad(f.median_ms.toFixed(2), 10, true)}  ${pad(f.p99_ms.toFixed(2), 10, true)}  ${pad(f.ops_per_s.toFixed(1), 9, true)}`);
  }
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown benchmark suite: ${unknown.join(', ')} (suites: ${SUITES.map((s) => s.name).join(', ')})`);
  process.exit(2);
}
const outDir = join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
let missed = 0;
for (const suite of SUITES.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
  console.log(`\n== ${suite.name}: ${suite.description}`);
  let outcome: Awaited<ReturnType<typeof runSuite>>;
  try {
    outcome = await runSuite(suite);
  } catch (error) {
    console.error(`suite ${suite.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    missed++;
    continue;
  }
  const { figures, extra, goals: measured = [] } = outcome;
  print(figures);
  for (const [key, value] of Object.entries(extra ?? {})) console.log(`${key}: ${value}`);
  const goals: Record<string, unknown>[] = ('cases' in suite ? suite.goals ?? [] : []).map((goal) => {
    const f = figures.find((x) => x.name === goal.case);
    const value = f ? (goal.metric === 'median' ? f.median_ms : f.p99_ms) : Number.NaN;
    const pass = value <= goal.maxMs;
    console.log(`goal ${pass ? 'met   ' : 'MISSED'} ${goal.case}: ${goal.metric} ${value.toFixed(2)} ms <= ${goal.maxMs} ms`);
    if (!pass) missed++;
    return { ...goal, value_ms: value, pass };
  });
  for (const goal of measured) {
    const pass = measuredGoalMet(goal);
    const bounds = [goal.min !== undefined && `>= ${goal.min} ${goal.unit}`, goal.max !== undefined && `<= ${goal.max} ${goal.unit}`].filter(Boolean).join(' and ');
    console.log(`goal ${pass ? 'met   ' : 'MISSED'} ${goal.name}: ${goal.value} ${goal.unit} ${bounds}`);
    if (!pass) missed++;
    goals.push({ ...goal, pass });
  }
  const file = join(outDir, `${suite.name}.json`);
  const result = { suite: suite.name, date: new Date().toISOString(), node: process.version, cpus: cpus().length, cases: figures, goals, ...(extra && { extra }) };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}
process.exitCode = missed > 0 ? 1 : 0;
