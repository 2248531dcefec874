/**
 * Synod across processes: three `synod node` processes on 127.0.0.1 with `file` storage and
 * mutual TLS. Clients in this process write, read and compare-and-set while the leader's process
 * and then a follower's are SIGKILLed and restarted, and while a member is partitioned. Afterwards
 * no acknowledged write is lost, the members agree (same applied index and state digest) and the
 * recorded history is linearizable. A client without a certificate of the cluster CA, a client of
 * another cluster, a member of another cluster and garbage bytes on a port are refused, harmlessly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeDevCertificates } from '@synod/actors';
import { Prng } from '@synod/actors/internals';
import { HistoryRecorder, check, formatExplanation, replicatedMapModel, type ReplicatedMapInput } from '@synod/checker';
import { ReplicatedMap } from '@synod/replicated';
import { runMapClients } from './fixtures/map-clients.js';
import { NodeProcess, makeNodes, membersOf } from './fixtures/net-nodes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `fn` rejects with an error whose message matches `pattern`; fails otherwise. */
async function rejects(fn: () => Promise<unknown>, pattern: RegExp, message?: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match(String((e as Error)?.message ?? e), pattern, message);
    return;
  }
  assert.unreachable(message ?? `expected a rejection matching ${pattern}`);
}

test('three node processes: kills, restarts and a partition lose no acknowledged write; strangers are refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'synod-net-'));
  const seed = (Number(process.env.SEED) || Date.now()) >>> 0;
  let nodes: NodeProcess[] = [];
  let map: ReplicatedMap<string> | null = null;
  try {
    const certs = await writeDevCertificates(join(root, 'certs'), { nodes: 3, clients: 1 });
    const other = await writeDevCertificates(join(root, 'other-certs'), { nodes: 1, clients: 1 });
    nodes = await makeNodes(root, 3, (id) => ({ ca: certs.ca, cert: certs.nodes[id - 1]!.cert, key: certs.nodes[id - 1]!.key }));
    await Promise.all(nodes.map((n) => n.start()));
    const members = membersOf(nodes);
    const tls = (files: { ca: string; clients: readonly { cert: string; key: string }[] }) => ({
      ca: readFileSync(files.ca),
      cert: readFileSync(files.clients[0]!.cert),
      key: readFileSync(files.clients[0]!.key),
    });
    map = await ReplicatedMap.connect<string>({ members, clusterId: 'test', tls: tls(certs), operationTimeoutMs: 4_000, attemptTimeoutMs: 300 });
    await map.set('hello', 'world');

    // Clients: sessions doing set / get / compareAndSet on a few keys, and unique writes.
    const rng = new Prng(seed);
    const rec = new HistoryRecorder<ReplicatedMapInput, unknown>();
    const acked = new Map<string, string>();
    let running = true;
    const m0 = map;
    const clients = runMapClients(m0, { count: 4, rng, rec, acked, running: () => running });
    const progress = async (what: string): Promise<void> => {
      const before = acked.size;
      for (let i = 0; i < 300 && acked.size < before + 10; i++) await sleep(50);
      assert.ok(acked.size >= before + 10, `writes go on ${what} (${acked.size - before} acknowledged)`);
    };

    await progress('at the start');
    // The leader's process dies where it stands, and comes back from its directory.
    const leader = nodes[m0.rsm.leaderIndex]!;
    await leader.kill();
    await progress(`with the leader (node ${leader.spec.id}) killed`);
    await leader.start();
    await progress('after the old leader restarted');
    // Then a follower's.
    const follower = nodes.find((n) => n.spec.id - 1 !== m0.rsm.leaderIndex)!;
    await follower.kill();
    await progress(`with a follower (node ${follower.spec.id}) killed`);
    await follower.start();
    // A member cut off from the other two (both ways), then healed.
    const cut = nodes[m0.rsm.leaderIndex]!;
    await cut.control({ type: 'partition', nodes: nodes.filter((n) => n !== cut).map((n) => n.spec.id) });
    await progress(`with the leader (node ${cut.spec.id}) partitioned`);
    await cut.control({ type: 'heal' });
    await progress('after the partition healed');
    running = false;
    await clients;

    // Strangers: another CA's client, another cluster's client and member, garbage bytes.
    await rejects(
      () => ReplicatedMap.connect({ members, clusterId: 'test', tls: tls(other), connectTimeoutMs: 2_000 }),
      /could not connect/,
      'a client whose certificate another CA signed is refused',
    );
    await rejects(
      () => ReplicatedMap.connect({ members, clusterId: 'elsewhere', tls: tls(certs), connectTimeoutMs: 2_000 }),
      /wrong cluster id/,
      'a client of another cluster is refused, and told why',
    );
    const intruder = new NodeProcess(
      {
        id: 1,
        port: (await import('./fixtures/net-nodes.js').then((f) => f.freePorts(1)))[0]!,
        dir: join(root, 'intruder'),
        tls: nodes[0]!.spec.tls,
        clusterId: 'elsewhere',
      },
      nodes.filter((n) => n.spec.id !== 1).map((n) => ({ id: n.spec.id, port: n.spec.port })),
    );
    await intruder.start();
    for (let i = 0; i < 100 && !nodes.slice(1).some((n) => n.output.some((l) => l.includes('wrong cluster id'))); i++) await sleep(50);
    await intruder.kill();
    assert.ok(
      nodes.slice(1).some((n) => n.output.some((l) => l.includes('wrong cluster id'))),
      'a member of another cluster is refused, with the reason logged',
    );
    for (const n of nodes) {
      const s = net.connect(n.spec.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x13garbage'.repeat(50)));
      await new Promise((r) => s.once('close', r));
    }
    assert.ok(
      nodes.some((n) => n.output.some((l) => l.includes('refused a TLS connection'))),
      'garbage is refused with the reason logged',
    );

    // Every acknowledged write is there, and the cluster still works.
    const missing: string[] = [];
    for (const [k, v] of acked) if ((await m0.get(k)) !== v) missing.push(k);
    assert.equal(missing, [], `every acknowledged write is present (${acked.size} checked)`);
    await m0.set('after', 'all');
    // The members agree: the same applied index and state digest.
    let statuses: { appliedUpTo: number; digest: number }[] = [];
    for (let i = 0; i < 100; i++) {
      statuses = await Promise.all(nodes.map((n) => n.control<{ appliedUpTo: number; digest: number }>({ type: 'status' }, 'status')));
      if (statuses.every((s) => s.appliedUpTo === statuses[0]!.appliedUpTo && s.digest === statuses[0]!.digest)) break;
      await sleep(100);
    }
    assert.ok(
      statuses.every((s) => s.appliedUpTo === statuses[0]!.appliedUpTo && s.digest === statuses[0]!.digest),
      `members agree: ${JSON.stringify(statuses)}`,
    );
    const history = rec.history();
    const result = check(history, replicatedMapModel, { timeLimitMs: 60_000 });
    console.log(`net cluster: ${history.operations.length} operations, ${acked.size} unique writes acknowledged (seed ${seed})`);
    assert.is(result.verdict, 'linearizable', result.explanation ? formatExplanation(result.explanation) : result.reason);
    // SIGTERM stops a member cleanly.
    assert.is(await nodes[2]!.stop(), 0, 'SIGTERM stops a member with status 0');
  } catch (e) {
    for (const n of nodes) console.log(`--- node ${n.spec.id} output (last 30 lines)\n${n.output.slice(-30).join('\n')}`);
    console.log(`replay: SEED=${seed} pnpm test net-cluster`);
    throw e;
  } finally {
    await map?.shutdown().catch(() => {});
    for (const n of nodes) await n.kill();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
