// examples/src/abd/bench-main.ts — `pnpm --filter @synod/examples bench:abd`: the cell, five runs, medians.
import { abdCell, type FigureSink } from './bench.js';

const runs = new Map<string, { unit: string; values: number[] }>();
const sink: FigureSink = {
  add(name, unit, value) {
    const r = runs.get(name) ?? { unit, values: [] };
    r.values.push(value);
    runs.set(name, r);
  },
};
for (let run = 0; run < 5; run++) {
  await abdCell(sink, { mode: 'workers', replicas: 3, clients: 8, warmupMs: 300, durationMs: 1_000, storage: 'memory' });
}
for (const [name, r] of runs) {
  const sorted = [...r.values].sort((a, b) => a - b);
  console.log(`${name}: ${sorted[sorted.length >> 1]!.toFixed(1)} ${r.unit} (min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)})`);
}
