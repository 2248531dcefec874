/**
 * The dashboard of a cluster of processes: three `synod node --allow-remote-faults --insecure`
 * processes, and the network dashboard source connected to them as a client. Its picture shows
 * three members, one leader, and the same applied index and digest everywhere once writes are
 * done; partition from the page cuts a member off (the others elect a leader and go on) and heal
 * restores it; a member stopped is shown down; a member without --allow-remote-faults refuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ClusterView, NodeView } from '@synod/dashboard';
import { ReplicatedMap } from '@synod/replicated';
import { NetworkDashboardSource } from '../src/net/network-source.ts';
import { makeNodes, membersOf, type NodeProcess } from '../../../test/fixtures/net-nodes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok(view)` holds; fails with the last picture after `timeoutMs`. */
async function until(source: NetworkDashboardSource, what: string, ok: (v: ClusterView) => boolean, timeoutMs = 15_000): Promise<ClusterView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = source.view();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.unreachable(`${what}: not within ${timeoutMs} ms; the picture:\n${JSON.stringify(v.nodes.map(brief), null, 1)}`);
    await sleep(100);
  }
}

function brief(n: NodeView) {
  const replica = n.actors.find((a) => a.role === 'replica');
  const leader = n.actors.find((a) => a.role === 'leader');
  return {
    member: n.worker,
    up: n.up,
    isolated: n.isolated,
    leader: leader?.leader?.status,
    applied: replica?.replica?.appliedUpTo,
    digest: replica?.replica?.digest,
    problem: n.process?.problem,
  };
}

const applied = (n: NodeView) => n.actors.find((a) => a.role === 'replica')?.replica?.appliedUpTo ?? -1;
const digest = (n: NodeView) => n.actors.find((a) => a.role === 'replica')?.replica?.digest;
/** Every member up, one leader, and the same applied index (at least `atLeast`) and digest everywhere. */
const agreed = (atLeast: number) => (v: ClusterView) =>
  v.nodes.length === 3 &&
  v.nodes.every((n) => n.up && !n.isolated) &&
  v.leader !== null &&
  v.nodes.every((n) => applied(n) >= atLeast && applied(n) === applied(v.nodes[0]!) && digest(n) === digest(v.nodes[0]!));

test('three member processes on the dashboard: members, leader, applied index; partition, heal; a member without --allow-remote-faults refuses', async () => {
  const root = mkdtempSync(join(tmpdir(), 'synod-netdash-'));
  let nodes: NodeProcess[] = [];
  let source: NetworkDashboardSource | null = null;
  let map: ReplicatedMap<string> | null = null;
  try {
    nodes = await makeNodes(root, 3, () => 'insecure');
    for (const n of nodes) n.spec.extraArgs = ['--allow-remote-faults', '--log-level', 'warn'];
    await Promise.all(nodes.map((n) => n.start()));
    const members = membersOf(nodes);
    source = new NetworkDashboardSource({ members, clusterId: 'test', tls: 'insecure', pollEveryMs: 200, statusTimeoutMs: 1_000 });
    const events: string[] = [];
    source.subscribe({ event: (e) => events.push(`${e.kind}: ${e.text}`), messages: () => {} });
    await source.start();

    map = await ReplicatedMap.connect<string>({ members, clusterId: 'test', tls: 'insecure', operationTimeoutMs: 5_000 });
    for (let i = 0; i < 20; i++) await map.set(`k${i}`, `v${i}`);
    let v = await until(source, 'three members, one leader, the same applied index after 20 writes', agreed(1));
    assert.is(v.nodes.filter((n) => n.actors.some((a) => a.leader?.status === 'leader')).length >= 1, true);
    assert.equal(
      v.nodes.map((n) => n.worker),
      [1, 2, 3],
    );
    const others = (n: NodeView) => [1, 2, 3].filter((p) => p !== n.worker).join();
    v = await until(source, 'every member shown connected to the other two', (x) => x.nodes.every((n) => n.process?.peers.join() === others(n)));
    for (const n of v.nodes) assert.ok(n.process!.bytesSent > 0 && n.process!.clients >= 1 && n.process!.remoteFaults, JSON.stringify(n.process));
    assert.match((await source.kill(0)).message, /cannot kill/);

    // Partition the leader: the other two elect one of them and go on; heal brings it back.
    const old = v.leader!;
    const cut = await source.partition(old);
    assert.ok(cut.ok, cut.message);
    v = await until(source, 'the partitioned member is shown cut off', (x) => x.nodes[old]!.isolated);
    await until(source, 'another member leads', (x) => x.leader !== null && x.leader !== old);
    for (let i = 0; i < 10; i++) await map.set(`p${i}`, `during partition ${i}`);
    const healed = await source.heal();
    assert.ok(healed.ok, healed.message);
    for (let i = 0; i < 5; i++) await map.set(`h${i}`, `after heal ${i}`);
    const before = Math.max(...v.nodes.map(applied));
    v = await until(source, 'all three agree again after the heal', agreed(before + 1));

    // A member that is stopped is shown down; restarted without --allow-remote-faults, it refuses.
    const third = nodes[2]!;
    assert.is(await third.stop(), 0);
    await until(source, 'the stopped member is shown down', (x) => !x.nodes[2]!.up);
    third.spec.extraArgs = ['--log-level', 'warn'];
    await third.start();
    await until(source, 'the restarted member answers', (x) => x.nodes[2]!.up && x.nodes[2]!.process?.remoteFaults === false);
    const refused = await source.partition(2);
    assert.is(refused.ok, false);
    assert.match(refused.message, /--allow-remote-faults/);
    assert.is(source.view().nodes[2]!.isolated, false, 'nothing was cut');
    await map.set('last', 'one');
    await until(source, 'the restarted member caught up', agreed(before + 1));
    assert.ok(
      events.some((e) => e.startsWith('member-down: member 3')),
      `events: ${events.join('\n')}`,
    );
    assert.ok(
      events.some((e) => e.startsWith('leader: ')),
      `events: ${events.join('\n')}`,
    );
  } catch (e) {
    for (const n of nodes) console.error(`--- node ${n.spec.id}:\n${n.output.slice(-15).join('\n')}`);
    throw e;
  } finally {
    await map?.shutdown().catch(() => {});
    await source?.stop().catch(() => {});
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
