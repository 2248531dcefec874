/**
 * How the dashboard shows a member process from what its status actor answered (pure: no
 * network, no clock). The network dashboard source keeps the last answer of every member and
 * turns it into the page's NodeView with these.
 */
import type { ActorView, NodeView, ProcessView, Role } from '@synod/dashboard/protocol';
import type { NetPeer } from '@synod/actors';
import { formatBallot } from '@synod/paxos';
import type { MemberStatus } from '@synod/replicated';

/** What the source knows of one member. */
export interface MemberRecord {
  peer: NetPeer;
  /** Its last answer (kept while it does not answer, to show what it last said). */
  status: MemberStatus | null;
  /** Whether its last status ask was answered. */
  answered: boolean;
  /** Why the last ask was not answered, or null. */
  problem: string | null;
  /** Messages per second its leader candidate and replica handled between the last two answers. */
  rates: { leader: number; replica: number };
}

/** Messages per second an actor handled between two answers (0 across a restart or without two answers). */
export function messageRate(before: MemberStatus | null, after: MemberStatus, role: 'leader' | 'replica'): number {
  const a = before?.[role]?.actor;
  const b = after[role]?.actor;
  if (!a || !b || a.incarnation !== b.incarnation || b.processed < a.processed || after.atMs <= before!.atMs) return 0;
  return ((b.processed - a.processed) * 1000) / (after.atMs - before!.atMs);
}

/** The role of the actor that leads, by protocol: Multi-Paxos's leader candidate, Raft's node. */
export function leadingRole(protocol: string): Role | null {
  if (protocol === 'multipaxos') return 'leader';
  if (protocol === 'raft') return 'raft';
  return null;
}

/** A ballot or a term as people read it. */
export function ballotText(protocol: string, ballot: number): string {
  return protocol === 'raft' ? `term ${ballot}` : `ballot ${formatBallot(ballot)}`;
}

/** Whether a member's injected faults cut it off from every other member. */
export function isolatedFrom(status: MemberStatus, memberCount: number): boolean {
  if (memberCount < 2) return false;
  const out = new Set(status.faults.blockedOut);
  const inn = new Set(status.faults.blockedIn);
  for (let n = 1; n <= memberCount; n++) {
    if (n === status.node) continue;
    if (!out.has(n) || !inn.has(n)) return false;
  }
  return true;
}

/** The faults in words ("" when none). */
export function faultsText(f: MemberStatus['faults']): string {
  const parts: string[] = [];
  if (f.blockedOut.length && f.blockedOut.join() === f.blockedIn.join()) parts.push(`cut off from ${f.blockedOut.join(', ')}`);
  else {
    if (f.blockedOut.length) parts.push(`sends nothing to ${f.blockedOut.join(', ')}`);
    if (f.blockedIn.length) parts.push(`ignores ${f.blockedIn.join(', ')}`);
  }
  if (f.dropRate > 0) parts.push(`drops ${Math.round(f.dropRate * 100)}% of frames`);
  if (f.delayMs > 0) parts.push(`delays frames ${f.delayMs} ms`);
  return parts.join('; ');
}

/** Restarts of the member's actors in its current process. */
export function restartsOf(status: MemberStatus | null): number {
  if (!status) return 0;
  return (status.leader?.actor.incarnation ?? 0) + (status.replica?.actor.incarnation ?? 0);
}

/** The card of member `index` (0-based). */
export function memberNodeView(index: number, r: MemberRecord, memberCount: number, protocol: string): NodeView {
  const s = r.status;
  const live = r.answered && s !== null;
  const address = `${r.peer.host}:${r.peer.port}`;
  const process: ProcessView = {
    address,
    peers: s ? s.net.connected.filter((n) => n <= memberCount && n !== s.node) : [],
    clients: s ? s.net.connected.filter((n) => n > memberCount).length : 0,
    framesSent: s?.net.framesSent ?? 0,
    bytesSent: s?.net.bytesSent ?? 0,
    framesReceived: s?.net.framesReceived ?? 0,
    bytesReceived: s?.net.bytesReceived ?? 0,
    faults: s ? faultsText(s.faults) : '',
    remoteFaults: s?.remoteFaults ?? false,
    problem: r.answered ? null : (r.problem ?? 'no status yet'),
  };
  const unavailable = !live ? (r.problem === null ? 'starting' : 'unreachable') : null;
  const problemOf = (what: string) => s?.problems.find((p) => p.startsWith(`${what}:`)) ?? null;
  const actors: ActorView[] = [];
  const role = leadingRole(protocol);
  if (role !== null) {
    const l = live ? s.leader : null;
    const view: ActorView = {
      role,
      name: `leader candidate of member ${r.peer.node}`,
      status: unavailable ?? l?.actor.status ?? problemOf('leader') ?? 'not inspected',
      incarnation: s?.leader?.actor.incarnation ?? 0,
      mailbox: l?.actor.mailbox ?? 0,
      messagesPerSecond: live ? r.rates.leader : 0,
    };
    if (l && role === 'leader') {
      view.leader = {
        status: l.status as 'leader' | 'candidate' | 'follower',
        ballot: formatBallot(l.ballot),
        commitUpTo: l.commitUpTo,
        nextSlot: l.nextSlot ?? l.commitUpTo,
        inflight: l.inflight ?? 0,
        pending: l.pending,
        following: l.following,
      };
    } else if (l && role === 'raft') {
      view.raft = {
        status: l.status as 'leader' | 'candidate' | 'pre-candidate' | 'follower',
        term: l.ballot,
        leader: l.following,
        commitIndex: l.commitUpTo,
        lastIndex: l.lastIndex ?? l.commitUpTo,
        snapIndex: l.snapIndex ?? 0,
        pending: l.pending,
      };
    }
    actors.push(view);
  }
  const rep = live ? s.replica : null;
  const replica: ActorView = {
    role: 'replica',
    name: `replica of member ${r.peer.node}`,
    status: unavailable ?? rep?.actor.status ?? problemOf('replica') ?? 'not inspected',
    incarnation: s?.replica?.actor.incarnation ?? 0,
    mailbox: rep?.actor.mailbox ?? 0,
    messagesPerSecond: live ? r.rates.replica : 0,
  };
  if (rep) {
    replica.replica = {
      appliedUpTo: rep.appliedUpTo,
      knownUpTo: rep.knownUpTo ?? rep.appliedUpTo,
      sessions: rep.sessions,
      snapshotAt: rep.snapshotAt,
      digest: rep.digest,
    };
  }
  actors.push(replica);
  return {
    index,
    worker: r.peer.node,
    label: `Member ${r.peer.node}`,
    process,
    up: live,
    isolated: live && isolatedFrom(s, memberCount),
    restarts: restartsOf(s),
    actors,
  };
}

/**
 * The member that leads now: among those that answered, one whose leader candidate says it leads,
 * the one in the highest ballot (or term). Null when none does.
 */
export function leaderOf(records: readonly MemberRecord[]): { index: number; ballot: number } | null {
  let best: { index: number; ballot: number } | null = null;
  records.forEach((r, index) => {
    const l = r.answered ? r.status?.leader : null;
    if (l && l.status === 'leader' && (best === null || l.ballot > best.ballot)) best = { index, ballot: l.ballot };
  });
  return best;
}
