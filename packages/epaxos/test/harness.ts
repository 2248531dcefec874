/**
 * EPaxos replicas on the hand-driven network of the Paxos tests (packages/paxos/test/harness.ts):
 * the tests call `init` and `receive` directly, decide which message is delivered when, and move
 * time. Commands are writes of the registers machine (fixtures/registers.ts).
 */
import type { ActorRef } from '@synod/actors';
import { encode } from '@synod/canonical';
import { ReadsWriter, RequestWriter, type MClientReads, type MClientRequest } from '@synod/smr';
import { EPaxosReplica, type EPaxosArgs, type EPaxosOptions, type EPaxosState } from '../src/index.js';
import { Net } from '../../paxos/test/harness.js';
import { RegisterMachine, type Registers } from './fixtures/registers.js';

export { Net };

export interface TestCluster {
  net: Net;
  refs: ActorRef<any>[];
  state(i: number): EPaxosState;
  /** The registers' log of replica i: the writes in the order it applied them. */
  log(i: number): string[];
  args(i: number): EPaxosArgs;
}

export function cluster(n: number, epaxos: Partial<EPaxosOptions> = {}): TestCluster {
  const net = new Net();
  const refs: ActorRef<any>[] = [];
  const argsOf = (i: number, replicas: ActorRef<any>[]): EPaxosArgs => ({
    index: i,
    n,
    machine: RegisterMachine.key,
    replicas: replicas as never,
    leaders: replicas,
    epaxos: { keepJournal: true, ...epaxos },
  });
  for (let i = 0; i < n; i++) refs.push(net.spawn(EPaxosReplica, `r${i}`, argsOf(i, [])));
  for (const r of refs) net.tell(r, { type: 'configure', replicas: refs, leaders: refs });
  net.run();
  return {
    net,
    refs,
    state: (i) => net.state<EPaxosState>(`r${i}`),
    log: (i) => (net.state<EPaxosState>(`r${i}`).exec.state as Registers).log,
    args: (i) => argsOf(i, refs),
  };
}

/** A request of client `client`'s session 1: writes with their sequence numbers. */
export function writes(client: string, from: ActorRef<any>, ...ws: [seq: number, key: string, value: unknown][]): MClientRequest {
  const w = new RequestWriter();
  for (const [seq, key, value] of ws) w.add(1, 0, seq, encode({ key, value }));
  return { type: 'client-request', from, client, commands: ws.length, bytes: w.finish(client) };
}

/** One read message (id 1) of the registers: the value of `key`, or the log. */
export function read(client: string, from: ActorRef<any>, consistency: MClientReads['consistency'], afterIndex: number, key?: string): MClientReads {
  const w = new ReadsWriter();
  w.add(1, encode(key === undefined ? {} : { key }));
  return { type: 'client-reads', from, client, consistency, afterIndex, bytes: w.finish() };
}
