/**
 * A member's status actor at its edges: fault commands that come over the network are checked
 * before anything is done with them, and every member and client computes the same status ref
 * (the next id on the member's node after the cluster's actors).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapMachine, startCluster, type ClusterHost } from '@synod/replicated';
import { layoutHost, memberStatusRef } from '../src/cluster-layout.ts';
import { checkFaultCommand } from '../src/member-status.ts';

test('fault commands from the network: well-formed ones pass, anything else is refused with what is wrong', () => {
  assert.equal(checkFaultCommand({ type: 'heal' }, 8), { ok: true, command: { type: 'heal' } });
  assert.equal(checkFaultCommand({ type: 'partition', nodes: [2, 3] }, 8), { ok: true, command: { type: 'partition', nodes: [2, 3] } });
  assert.equal(checkFaultCommand({ type: 'faults', dropRate: 0.5, blockedIn: [1] }, 8), {
    ok: true,
    command: { type: 'faults', dropRate: 0.5, blockedIn: [1] },
  });
  const refused = (m: unknown, why: RegExp) => {
    const r = checkFaultCommand(m, 8);
    assert.is(r.ok, false, JSON.stringify(m));
    if (!r.ok) assert.match(r.message, why);
  };
  refused({ type: 'partition', nodes: 'all' }, /node numbers/);
  refused({ type: 'partition', nodes: [1.5] }, /node numbers/);
  refused({ type: 'partition', nodes: [0] }, /node numbers/);
  refused({ type: 'partition', nodes: Array.from({ length: 9 }, (_, i) => i + 1) }, /at most 8/);
  refused({ type: 'faults', dropRate: 2 }, /dropRate/);
  refused({ type: 'faults', delayMs: -1 }, /delayMs/);
  refused({ type: 'faults', blockedOut: [null] }, /blockedOut/);
  refused({ type: 'shutdown' }, /unknown command/);
  refused(null, /unknown command/);
});

test('the status ref: the next id on each member after the cluster, the same for a member and a client', async () => {
  const sent: unknown[] = [];
  const nowhere: ClusterHost = { mode: 'embedded', supervise: () => Promise.reject(new Error('a client starts nothing')), send: (_to, m) => sent.push(m) };
  const layouts: Record<string, number[]> = {};
  for (const protocol of ['multipaxos', 'raft', 'epaxos']) {
    const client = layoutHost(nowhere, null, 3);
    const cluster = await startCluster(client, { name: 'map', protocol, replicas: 3, machine: mapMachine, storage: 'memory' });
    const refs = [0, 1, 2].map((i) => memberStatusRef(client, i, 'map'));
    layouts[protocol] = refs.map((r) => r.id);
    refs.forEach((r, i) => {
      assert.is(r.node, i + 1);
      const mine = [...cluster.leaders, ...cluster.replicas, ...Object.values(cluster.roles).flat()].filter((a) => a.node === i + 1);
      assert.is(r.id, Math.max(...mine.map((a) => a.id)) + 1, `${protocol}: member ${i + 1}'s status actor comes right after its cluster actors`);
    });
  }
  // Multi-Paxos starts three actors on a member (acceptor, replica, leader), Raft two, EPaxos one.
  assert.equal(layouts, { multipaxos: [4, 4, 4], raft: [3, 3, 3], epaxos: [2, 2, 2] });
});

test.run();
