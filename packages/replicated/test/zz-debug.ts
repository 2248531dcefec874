import { Simulation } from '@synod/actors/sim';
import { mapScenario } from '@synod/replicated/scenarios';
const seed = Number(process.argv[2]);
const sc = mapScenario as any;
const sim = new Simulation({ ...(sc.simulation ?? {}), seed, plan: sc.plan(seed) });
const ctx = await sc.setup(sim, seed);
await sc.run(sim, ctx);
const pick = (o: any, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o?.[k]]));
for (let i = 0; i < ctx.shape.replicas; i++) {
  const l: any = sim.state(`map-leader-${i}`);
  const r: any = sim.state(`map-replica-${i}`);
  console.log(`node ${i} leader`, l && { status: l.election.status, ballot: l.election.ballot, leaderIndex: l.election.leaderIndex, commitUpTo: l.pipeline.commitUpTo, nextSlot: l.pipeline.nextSlot, readyAt: l.pipeline.readyAt, reads: l.reads.waiting.length, round: l.heartbeats.round, confirmed: l.heartbeats.confirmedRound, pending: l.batching.pendingCommands });
  console.log(`node ${i} replica`, r && { applied: r.exec.appliedUpTo, known: r.knownUpTo, ahead: r.ahead.size, restoring: r.restoring && pick(r.restoring, ['from', 'next', 'chunks']), guard: r.guard, halted: r.halted, waitingReads: r.answers.waitingReads, snapshot: r.snapshot?.index, writing: r.writing?.index });
}
for (const p of ctx.processes) { const s: any = sim.state(p); console.log(p, { finalDone: s.finalDone, failed: s.finalFailed, current: s.current?.input, leaderGuess: s.client.leaderIndex, pending: s.client.pending }); }
console.log('failed', sim.failed);
for (let i = 0; i < ctx.shape.replicas; i++) {
  const a: any = sim.state(`map-acceptor-${i}`);
  console.log(`acceptor ${i}`, { promised: a.promised, truncatedBelow: a.truncatedBelow, slots: a.accepted.keysArray().slice(0, 30).map((k: number) => `${k}@${a.accepted.get(k).ballot}`).join(' ') });
}
const l: any = sim.state('map-leader-1');
const inf: string[] = [];
l.pipeline.inflight.forEach((f: any, slot: number) => inf.push(`${slot}:${f.chosen ? 'C' : ''}m${f.votes?.mask ?? f.mask ?? JSON.stringify(Object.keys(f))}`));
console.log('leader 1 inflight', inf.join(' '));
console.log('leader 1 retention', l.retention, 'flow', { quorumApplied: l.flow.quorumApplied });
