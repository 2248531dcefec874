/**
 * RaftNodes and replicas on real worker threads (one worker per node, `shared` storage, batches
 * encoded as bytes) and embedded on one thread: commands from concurrent clients commit while a
 * follower's worker is killed; its supervisor restarts it from its durable state, it catches up,
 * and every replica ends with the same state.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type ActorRef } from '@synod/actors';
import { Replica, type MRequest, type MResult } from '@synod/paxos';
import { RaftNode, type RaftMsg, type RaftOptions } from '@synod/raft';
import { registers } from './fixtures/registers.ts';

const N = 3;
const COMMANDS = 2_000;

for (const mode of ['workers', 'embedded'] as const) {
  test(`${mode}: ${COMMANDS} commands commit while a follower is killed and restarted; all replicas agree`, async () => {
    const system = await ActorSystem.start({ mode });
    const restarted: string[] = [];
    system.events.on('actor:restarted', (e) => restarted.push(e.ref.name));
    try {
      const sup = await system.supervise({ name: 'raft', maxRestarts: 50, windowMs: 10_000 });
      const options: Partial<RaftOptions> = { heartbeatMs: 20, electionTimeoutMs: 300, encodeBatches: mode === 'workers' };
      const replicaOptions = { snapshotEvery: 256 };
      const replicas: ActorRef<any>[] = [];
      for (let i = 0; i < N; i++) {
        replicas.push(await sup.startChild({ actor: Replica, name: `replica-${i}`, worker: `node-${i}`, storage: 'shared', preload: [registers.module!], args: { index: i, machine: registers.key, options: replicaOptions } }));
      }
      const nodes: ActorRef<RaftMsg>[] = [];
      for (let i = 0; i < N; i++) nodes.push(await sup.startChild({ actor: RaftNode, name: `raft-${i}`, worker: `node-${i}`, storage: 'shared', args: { index: i, size: N, replicas, options } }) as ActorRef<RaftMsg>);
      nodes.forEach((ref, i) => {
        sup.setChildArgs(ref, { index: i, size: N, nodes, replicas, options });
        system.send(ref, { type: 'configure', nodes });
      });
      replicas.forEach((ref, i) => {
        sup.setChildArgs(ref, { index: i, machine: registers.key, replicas, leaders: nodes, options: replicaOptions });
        system.send(ref, { type: 'configure', replicas, leaders: nodes });
      });
      const submit = async (seq: number, key: string): Promise<MResult> => {
        for (let attempt = 0; ; attempt++) {
          const at = nodes[attempt % N]!;
          const r = await system.ask<any, MRequest>(at, { type: 'request', commands: [{ client: key, seq, op: { key, value: seq } }] }, { timeoutMs: 3_000 }).catch(() => null);
          if (r?.type === 'result' && r.ok) return r as MResult;
          if (attempt > 200) throw new Error(`command ${seq} of ${key} not committed: ${JSON.stringify(r)}`);
          await new Promise((res) => setTimeout(res, 10));
        }
      };
      let killed = false;
      const clients = ['a', 'b', 'c', 'd'].map(async (key, k) => {
        for (let seq = 1; seq <= COMMANDS / 4; seq++) {
          await submit(seq, key);
          if (mode === 'workers' && k === 0 && seq === COMMANDS / 8 && !killed) {
            killed = true;
            await system.killWorker(nodes[2]!.node);
          }
        }
      });
      await Promise.all(clients);
      // Every replica catches up to the same state.
      let states: unknown[] = [];
      for (let t = 0; t < 200; t++) {
        states = await Promise.all(replicas.map(async (r) => (await system.inspect(r).catch(() => null))?.state as { state: unknown; appliedUpTo: number } | undefined));
        const applied = states.map((s) => (s as { appliedUpTo?: number } | undefined)?.appliedUpTo);
        if (applied.every((a) => a !== undefined && a === applied[0])) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const want = { a: COMMANDS / 4, b: COMMANDS / 4, c: COMMANDS / 4, d: COMMANDS / 4 };
      for (const s of states) assert.equal((s as { state: unknown }).state, want);
      if (mode === 'workers') {
        assert.ok(killed);
        assert.ok(restarted.includes('raft-2') && restarted.includes('replica-2'), `node 2's actors were restarted (${restarted.join(', ')})`);
      }
    } finally {
      await system.shutdown();
    }
  });
}

test.run();
