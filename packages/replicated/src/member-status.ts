/**
 * A member's status actor: what a dashboard (or any client) reads of a member process over the
 * network, and, only when the member allows it, where it injects faults into that member's
 * traffic. `startMember` starts it right after the cluster's actors, so every client computes
 * its ref from the cluster layout (`memberStatusRef` in cluster-layout.ts).
 *
 * It is glue of one process, not a protocol core: it reads the transport and inspects the local
 * leader candidate and replica through the actor system, on this thread (members are embedded).
 */
import {
  defineActor,
  type ActorRef,
  type ActorSnapshot,
  type ActorSystem,
  type NetFaultSettings,
  type NetStats,
  type NetTransport,
  type ReplyToken,
  type Replies,
} from '@synod/actors';
import type { Cluster } from './cluster.js';

/** What the runtime says of one of the member's actors. */
export interface MemberActorStatus {
  /** `running`, or why not. */
  status: string;
  /** Messages waiting in its mailbox. */
  mailbox: number;
  /** Messages it handled since it (re)started. */
  processed: number;
  /** Restarts of the actor in this process. */
  incarnation: number;
}

/** What the local leader candidate says (Multi-Paxos's leader, Raft's node); none for a leaderless protocol. */
export interface MemberLeaderStatus {
  /** What the runtime says of the actor. */
  actor: MemberActorStatus;
  /** `leader`, `candidate`, `follower` (Raft also `pre-candidate`). */
  status: string;
  /** Multi-Paxos: its ballot (round and proposer packed in one number, larger is newer). Raft: its term. */
  ballot: number;
  /** The member (0-based) it follows, itself when leading; null when it knows none. */
  following: number | null;
  /** Multi-Paxos: slots below are chosen. Raft: entries up to here are committed. */
  commitUpTo: number;
  /** Client commands waiting for a slot or an entry. */
  pending: number;
  /** Multi-Paxos: the next slot it proposes in, and the slots in phase 2 now (null for Raft). */
  nextSlot: number | null;
  inflight: number | null;
  /** Raft: its log's last index, and the index its log starts after (null for Multi-Paxos). */
  lastIndex: number | null;
  snapIndex: number | null;
}

/** What the local replica says. */
export interface MemberReplicaStatus {
  /** What the runtime says of the actor. */
  actor: MemberActorStatus;
  /** Slots below are applied to the state machine. */
  appliedUpTo: number;
  /** Slots below are known to be chosen (null when the protocol does not say). */
  knownUpTo: number | null;
  /** Digest of the state machine's state at `appliedUpTo`: equal on members that agree. */
  digest: number;
  /** Client sessions it keeps. */
  sessions: number;
  /** Bytes of the state machine's encoded state. */
  stateBytes: number;
  /** The index of its last snapshot (0: none). */
  snapshotAt: number;
}

/** The answer to `{ type: 'status' }`. */
export interface MemberStatus {
  type: 'member-status';
  /** The member's node number (1..n). */
  node: number;
  protocol: string;
  /** Its wall clock when it answered (ms since the epoch). */
  atMs: number;
  /** Null for a leaderless protocol (EPaxos), or when it could not be inspected (see `problems`). */
  leader: MemberLeaderStatus | null;
  /** Null when it could not be inspected (see `problems`). */
  replica: MemberReplicaStatus | null;
  /** Why a part is missing (an actor restarting, ...). */
  problems: string[];
  /** The transport's counters: connected peers, frames and bytes. */
  net: NetStats;
  /** The faults injected into its traffic now. */
  faults: NetFaultSettings;
  /** Whether it takes fault commands over the network (`synod node --allow-remote-faults`). */
  remoteFaults: boolean;
}

/** The answer to a fault command. */
export interface FaultCommandResult {
  type: 'fault-result';
  ok: boolean;
  /** What was done, or why not. */
  message: string;
  /** The faults in force afterwards. */
  faults: NetFaultSettings;
}

/** What a status actor answers when it cannot do what was asked (busy, an unknown message). */
export interface MemberStatusError {
  type: 'error';
  message: string;
}

/** Fault commands (taken only from a member started with `allowRemoteFaults`). */
export type MemberFaultCommand = { type: 'partition'; nodes: number[] } | { type: 'heal' } | ({ type: 'faults' } & Partial<NetFaultSettings>);

/** The messages of a member's status actor. */
export type MemberStatusMsg =
  | ({ type: 'status' } & Replies<MemberStatus | MemberStatusError>)
  | (MemberFaultCommand & Replies<FaultCommandResult | MemberStatusError>)
  /** Internal: an inspection this actor started has finished. */
  | { type: '$status-read' };

/** Bounds of a status actor. */
export interface MemberStatusOptions {
  /** Status asks waiting for one inspection (more are answered at once with an error). Default 64. */
  maxWaiting: number;
  /** Peers a fault command may name. Default 1024. */
  maxFaultNodes: number;
}

export const defaultMemberStatusOptions: MemberStatusOptions = { maxWaiting: 64, maxFaultNodes: 1024 };

/** What a status actor reads and acts on. */
export interface MemberStatusDeps {
  system: ActorSystem;
  net: NetTransport;
  cluster: Cluster;
  /** This member's node number. */
  node: number;
  allowRemoteFaults: boolean;
  options?: Partial<MemberStatusOptions>;
}

function isNodeList(v: unknown, max: number): v is number[] {
  return Array.isArray(v) && v.length <= max && v.every((n) => Number.isInteger(n) && n >= 1 && n <= 0xfffe);
}

/** Checks a fault command from the network; returns what to do, or why it is refused. */
export function checkFaultCommand(m: unknown, maxNodes: number): { ok: true; command: MemberFaultCommand } | { ok: false; message: string } {
  const msg = m as Record<string, unknown>;
  if (msg?.type === 'heal') return { ok: true, command: { type: 'heal' } };
  if (msg?.type === 'partition') {
    if (!isNodeList(msg.nodes, maxNodes)) return { ok: false, message: `partition needs nodes: node numbers (at most ${maxNodes})` };
    return { ok: true, command: { type: 'partition', nodes: [...msg.nodes] } };
  }
  if (msg?.type === 'faults') {
    const f: Partial<NetFaultSettings> = {};
    if (msg.dropRate !== undefined) {
      if (!(typeof msg.dropRate === 'number' && msg.dropRate >= 0 && msg.dropRate <= 1)) return { ok: false, message: 'dropRate must be a number in 0..1' };
      f.dropRate = msg.dropRate;
    }
    if (msg.delayMs !== undefined) {
      if (!(typeof msg.delayMs === 'number' && Number.isFinite(msg.delayMs) && msg.delayMs >= 0))
        return { ok: false, message: 'delayMs must be a non-negative number' };
      f.delayMs = msg.delayMs;
    }
    for (const k of ['blockedOut', 'blockedIn'] as const) {
      if (msg[k] === undefined) continue;
      if (!isNodeList(msg[k], maxNodes)) return { ok: false, message: `${k} must be node numbers (at most ${maxNodes})` };
      f[k] = [...(msg[k] as number[])];
    }
    return { ok: true, command: { type: 'faults', ...f } };
  }
  return { ok: false, message: `unknown command ${JSON.stringify(msg?.type)}` };
}

/** Reads the status of this member (inspects its own leader candidate and replica). */
export async function readMemberStatus(d: Pick<MemberStatusDeps, 'system' | 'net' | 'cluster' | 'node' | 'allowRemoteFaults'>): Promise<MemberStatus> {
  const i = d.node - 1;
  const problems: string[] = [];
  const inspect = async (ref: ActorRef<any> | undefined, what: string) => {
    if (!ref) return null;
    try {
      return await d.system.inspect(ref);
    } catch (e) {
      problems.push(`${what}: ${(e as Error)?.message ?? String(e)}`);
      return null;
    }
  };
  const leaderRef = d.cluster.leaderless ? undefined : d.cluster.leaders[i];
  const [leaderSnap, replicaSnap] = await Promise.all([inspect(leaderRef, 'leader'), inspect(d.cluster.replicas[i], 'replica')]);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const actor = (snap: ActorSnapshot): MemberActorStatus => ({
    status: snap.status,
    mailbox: snap.mailbox,
    processed: snap.processed,
    incarnation: snap.incarnation,
  });
  // The definitions' own inspect views are small (a few figures), so no projection is needed.
  let leader: MemberLeaderStatus | null = null;
  if (leaderSnap?.state) {
    const s = leaderSnap.state as Record<string, unknown>;
    const raft = typeof s.term === 'number';
    const following = num(raft ? s.leader : s.leaderIndex);
    leader = {
      actor: actor(leaderSnap),
      status: String(s.status),
      ballot: num(raft ? s.term : s.ballot) ?? 0,
      following: following !== null && following >= 0 ? following : null,
      commitUpTo: num(raft ? s.commitIndex : s.commitUpTo) ?? 0,
      pending: num(s.pending) ?? 0,
      nextSlot: raft ? null : num(s.nextSlot),
      inflight: raft ? null : num(s.inflight),
      lastIndex: raft ? num(s.lastIndex) : null,
      snapIndex: raft ? num(s.snapIndex) : null,
    };
  }
  let replica: MemberReplicaStatus | null = null;
  if (replicaSnap?.state) {
    const s = replicaSnap.state as Record<string, unknown>;
    replica = {
      actor: actor(replicaSnap),
      appliedUpTo: num(s.appliedUpTo) ?? 0,
      knownUpTo: num(s.knownUpTo),
      digest: num(s.digest) ?? 0,
      sessions: num(s.sessions) ?? 0,
      stateBytes: num(s.stateBytes) ?? 0,
      snapshotAt: num(s.snapshotAt) ?? 0,
    };
  }
  return {
    type: 'member-status',
    node: d.node,
    protocol: d.cluster.protocol,
    atMs: Date.now(),
    leader,
    replica,
    problems,
    net: d.net.stats(),
    faults: d.net.faultSettings,
    remoteFaults: d.allowRemoteFaults,
  };
}

/**
 * The status actor's definition, bound to this member's system and transport (it runs on this
 * thread only, so it needs no module). One inspection at a time: asks that come while one runs
 * wait for it (at most `maxWaiting`) and all get its answer.
 */
export function memberStatusActor(d: MemberStatusDeps) {
  const o = { ...defaultMemberStatusOptions, ...d.options };
  let read: MemberStatus | Error | null = null;
  return defineActor<{ waiting: ReplyToken[]; reading: boolean }, MemberStatusMsg>({
    label: `status of member ${d.node}`,
    init: () => ({ waiting: [], reading: false }),
    receive(s, msg, ctx) {
      switch (msg?.type) {
        case 'status': {
          const token = ctx.replyToken();
          if (!token) return;
          if (s.waiting.length >= o.maxWaiting) {
            ctx.log.warn(`status asks over maxWaiting (${o.maxWaiting}): one refused`);
            ctx.respond(token, { type: 'error', message: `member ${d.node} is busy: ${o.maxWaiting} status asks are waiting` });
            return;
          }
          s.waiting.push(token);
          if (s.reading) return;
          s.reading = true;
          const self = ctx.self;
          readMemberStatus(d)
            .then(
              (st) => {
                read = st;
              },
              (e: unknown) => {
                read = e instanceof Error ? e : new Error(String(e));
              },
            )
            .finally(() => {
              if (d.system.running) d.system.send(self, { type: '$status-read' });
            });
          return;
        }
        case '$status-read': {
          if (!s.reading || read === null) return; // not one of ours
          const answer: MemberStatus | MemberStatusError = read instanceof Error ? { type: 'error', message: `member ${d.node}: ${read.message}` } : read;
          read = null;
          s.reading = false;
          for (const t of s.waiting.splice(0)) ctx.respond(t, answer);
          return;
        }
        case 'partition':
        case 'heal':
        case 'faults': {
          const asker = ctx.sender ?? ctx.replyToken()?.to;
          const from = asker ? `node ${asker.node}` : 'an unknown sender';
          if (!d.allowRemoteFaults) {
            ctx.reply({
              type: 'fault-result',
              ok: false,
              message: `member ${d.node} takes no fault commands over the network: start it with --allow-remote-faults (synod node) or allowRemoteFaults: true (startMember) to allow them`,
              faults: d.net.faultSettings,
            });
            return;
          }
          const checked = checkFaultCommand(msg, o.maxFaultNodes);
          if (!checked.ok) {
            ctx.reply({ type: 'fault-result', ok: false, message: `member ${d.node} refused the command: ${checked.message}`, faults: d.net.faultSettings });
            return;
          }
          const c = checked.command;
          let done: string;
          try {
            if (c.type === 'partition') {
              d.net.partition(c.nodes);
              done = c.nodes.length
                ? `member ${d.node} is cut off from node${c.nodes.length > 1 ? 's' : ''} ${c.nodes.join(', ')}`
                : `member ${d.node} is cut off from no node`;
            } else if (c.type === 'heal') {
              d.net.heal();
              done = `member ${d.node}: every injected fault ended`;
            } else {
              const { type: _, ...f } = c;
              d.net.setFaults(f);
              done = `member ${d.node}: faults set`;
            }
          } catch (e) {
            ctx.reply({
              type: 'fault-result',
              ok: false,
              message: `member ${d.node} could not apply ${c.type}: ${(e as Error).message}`,
              faults: d.net.faultSettings,
            });
            return;
          }
          ctx.log.warn(`${c.type} from ${from} (remote fault injection): ${JSON.stringify(d.net.faultSettings)}`);
          ctx.reply({ type: 'fault-result', ok: true, message: done, faults: d.net.faultSettings });
          return;
        }
        default:
          ctx.reply({ type: 'error', message: `member ${d.node}'s status actor does not understand ${JSON.stringify((msg as { type?: unknown })?.type)}` });
      }
    },
  });
}
