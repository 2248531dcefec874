import { ReplicatedMap } from '@synod/replicated';
import { MpDriver, type MpResult } from './multipaxos/driver.js';
const storage = (process.argv[2] ?? 'shared') as 'shared';
const size = Number(process.argv[3] ?? 256);
const map = await ReplicatedMap.start<string>({ mode: 'workers', replicas: 3, storage, name: 'bench', systemOptions: { statsIntervalMs: 0, mailboxCapacity: 1 << 18, ...(process.env.NOARENA ? { rings: { arenaBytes: 0 } } : {}), ...(process.env.PORTS ? { transport: 'ports' } : {}) } as any });
map.system.events.on('actor:crashed', (e) => console.error(`${e.ref.name} crashed: ${e.error.message}`));
await map.set('warm', 'up');
const { system, cluster } = map.rsm;
for (let k = 0; k < 2; k++) {
  const driver = await system.spawn(MpDriver, { name: `drv${k}`, worker: process.env.DRIVER_OWN ? 'driver' : cluster.workerKey(map.rsm.leaderIndex), restart: 'temporary' });
  const outstanding = Math.min(Math.max(2 * 1024 * 64, 512), 65_536, Math.max(64, Math.floor((32 << 20) / Math.max(size, 64))));
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const l = (await system.inspect(cluster.leaders[map.rsm.leaderIndex]!).catch(() => null))?.state as any;
    const a = (await system.inspect(cluster.acceptors[0]!).catch(() => null))?.state as any;
    const rs = await Promise.all(cluster.replicas.map((r) => system.inspect(r).then((x) => x.state as any).catch(() => null)));
    if (process.env.FULL) console.log(JSON.stringify({ status: l?.status, ballot: l?.ballot, next: l?.nextSlot, pending: l?.pending, reads: l?.reads, stats: l?.stats, quorumApplied: l?.quorumApplied, inflight: l?.inflight }));
    console.log(JSON.stringify({ commit: l?.commitUpTo, truncated: l?.truncatedBelow, inflightBytes: l?.inflightBytes, applyLag: l?.applyLag, accSlots: a ? Object.keys(a.accepted ?? {}).length : null, accTrunc: a?.truncatedBelow, reps: rs.map((r) => r && [r.appliedUpTo, r.snapshotAt, r.writingSnapshot]) }));
  }, 300);
  const r = await system.ask<MpResult>(driver, { type: 'run', cluster: { leaders: cluster.leaders, replicas: cluster.replicas }, outstanding, valueBytes: size, warmupMs: 150, measureMs: 450 }, { timeoutMs: 30_000 }).catch((e) => e.message);
  console.log(k, Date.now() - t0, 'ms', typeof r === 'string' ? r : { perS: Math.round(r.commands / r.ms * 1000), p50: Math.round(r.latencyUsP50) });
  clearInterval(timer);
  await system.stop(driver).catch(() => {});
}
await map.shutdown();
