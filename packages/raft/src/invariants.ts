/**
 * Raft's safety properties (the paper's Figure 3), checked over the states of all nodes after
 * every simulated step:
 *
 *  - election safety: at most one leader is ever elected in a given term;
 *  - leader append-only: a leader never overwrites or deletes entries in its log; it only
 *    appends (compaction of a committed prefix is not a deletion);
 *  - log matching: if two logs contain an entry with the same index and term, the logs are
 *    identical in all entries up through that index. Checked inductively: every (index, term)
 *    ever seen has one value and one previous term, so equal (index, term) pairs have equal
 *    prefixes;
 *  - leader completeness: an entry committed in a term is in the log of every leader of a later
 *    (or the same) term. Committed entries are those below some node's commit index, when it
 *    moved there; each leader is checked against all of them when it is first seen, and all
 *    leaders against each one when it is first seen;
 *  - state machine safety: no two nodes ever commit different entries at one index, a node never
 *    changes an entry below its commit index, and each replica applies exactly the committed log
 *    (every slot it applies holds the bytes of the entry committed there), and
 *  - replicas' applied logs are prefixes of one another (their running digests agree at the
 *    same index) and only grow, as for Multi-Paxos.
 *
 * Besides: a leader moves its commit index only over entries covered by an entry of its own
 * term stored on a majority (the commit rule of §5.4.2, the Figure 8 case), a commit index never
 * passes the end of its log nor goes back, terms along a log never decrease, and no entry has a
 * term above its node's.
 *
 * The checker reads live states (the objects the actors hold): entries are immutable once made,
 * so an unchanged entry is the same object, and a step costs only what changed. A node whose
 * state is `tentative` (it persisted something not yet durable: a crash now would undo it, and
 * persist before send has kept it from everyone) is looked at once it is durable again; until
 * then it counts as it was last seen.
 */
import { IntMap } from '@synod/actors/internals';
import { MultiPaxosInvariants, valueKey, type MultiViolation, type ReplicaState, type SlotValue } from '@synod/paxos';
import type { Entry } from './messages.js';
import type { RaftNodeState } from './state.js';

export interface RaftViolation {
  property:
    | 'election-safety'
    | 'leader-append-only'
    | 'log-matching'
    | 'leader-completeness'
    | 'state-machine-safety'
    | 'commit-rule'
    | 'commit-index'
    | 'term'
    | MultiViolation['property'];
  message: string;
}

/** The actors to check: RaftNodes and replicas (others are ignored), each maybe `tentative`. */
export interface RaftClusterView {
  actors: Iterable<{ name: string; state: unknown; tentative?: boolean }>;
}

/** What was seen of one node's incarnation at its last change. */
interface Seen {
  state: object;
  term: number;
  status: string;
  commit: number;
  last: number;
  lastEntry: Entry | undefined;
  snapIndex: number;
  /** The entries already checked, by index. */
  entries: (Entry | undefined)[];
  /** Commit claims up to here are in the ledger. */
  committedSeen: number;
  /** The term it was last seen leading in (-1: not yet). */
  ledTerm: number;
}

/** A committed entry: its term, its value (and key), and the lowest term of a node that said it was committed. */
interface Committed {
  term: number;
  key: string;
  value: SlotValue;
  commitTerm: number;
}

const isRaftNode = (s: unknown): s is RaftNodeState => (s as RaftNodeState | undefined)?.role === 'raft-node';
const isReplica = (s: unknown): s is ReplicaState => (s as ReplicaState | undefined)?.role === 'replica';

export class RaftInvariants {
  private readonly seen = new Map<string, Seen>();
  /** term → the node that led it. */
  private readonly leaders = new Map<number, number>();
  /** index → term → the entry's value key and the term before it. */
  private readonly entries = new IntMap<Map<number, { key: string; prevTerm: number }>>();
  /** index → the committed entry. */
  private readonly ledger = new IntMap<Committed>();
  /**
   * Nodes seen leading, by name, and the term they were seen leading in. The state is live: a node
   * looked at only once durable again may have moved on meanwhile (it is checked again then).
   */
  private readonly leading = new Map<string, { state: RaftNodeState; term: number }>();
  /** Per replica: the incarnation last seen, and the applied point checked against the ledger up to. */
  private readonly replicaChecked = new Map<string, [incarnation: number, upTo: number]>();
  private readonly replicas: MultiPaxosInvariants;
  /**
   * Every node's log as last seen: a running node's live state; a node that is down, the state it
   * had when it went down (it holds at least what it had made durable, and never less than it
   * acknowledged, which is all the commit rule's count needs).
   */
  private readonly lastSeen = new Map<string, RaftNodeState>();

  constructor(readonly nodeCount: number) {
    this.replicas = new MultiPaxosInvariants(nodeCount);
  }

  observe(view: RaftClusterView): RaftViolation | null {
    const replicas: { name: string; state: unknown }[] = [];
    const actors = [...view.actors];
    for (const a of actors) if (isRaftNode(a.state) && a.tentative !== true) this.lastSeen.set(a.name, a.state);
    for (const a of actors) {
      if (isRaftNode(a.state)) {
        if (a.tentative === true) continue;
        const v = this.node(a.name, a.state);
        if (v) return v;
      } else if (isReplica(a.state)) {
        replicas.push(a);
        const v = this.replica(a.name, a.state);
        if (v) return v;
      } else if (a.state === undefined) {
        this.leading.delete(a.name);
      }
    }
    return replicas.length > 0 ? this.replicas.observe({ actors: replicas }) : null;
  }

  private node(name: string, s: RaftNodeState): RaftViolation | null {
    const log = s.log;
    const last = log.lastIndex;
    const lastEntry = log.entry(last);
    let seen = this.seen.get(name);
    const restarted = seen === undefined || seen.state !== s;
    if (
      !restarted &&
      seen!.term === s.term &&
      seen!.status === s.status &&
      seen!.commit === s.commitIndex &&
      seen!.last === last &&
      seen!.lastEntry === lastEntry &&
      seen!.snapIndex === log.snapIndex
    )
      return null;
    if (restarted) {
      seen = {
        state: s,
        term: s.term,
        status: 'follower',
        commit: s.commitIndex,
        last: log.snapIndex,
        lastEntry: undefined,
        snapIndex: log.snapIndex,
        entries: [],
        committedSeen: log.snapIndex,
        ledTerm: -1,
      };
      this.seen.set(name, seen);
    }
    const was = seen!;
    const who = `node ${s.index} (${name})`;

    if (!restarted && s.term < was.term) return { property: 'term', message: `${who}: its term went back from ${was.term} to ${s.term}` };
    if (s.commitIndex > last) return { property: 'commit-index', message: `${who}: commit index ${s.commitIndex} is past its last index ${last}` };
    if (!restarted && s.commitIndex < was.commit)
      return { property: 'commit-index', message: `${who}: commit index went back from ${was.commit} to ${s.commitIndex}` };

    // ---- the log: find the changed suffix (entries are immutable: unchanged ones are the same objects)
    const F = log.snapIndex;
    let changedFrom = last + 1;
    for (let i = last; i > F; i--) {
      if (was.entries[i] === log.entry(i)) break;
      changedFrom = i;
    }
    const oldLast = was.last;
    const rewrittenFrom = Math.max(F + 1, Math.min(changedFrom <= oldLast ? changedFrom : Infinity, last < oldLast ? last + 1 : Infinity));
    if (rewrittenFrom !== Infinity && rewrittenFrom <= oldLast && !restarted) {
      if (was.status === 'leader' && s.status === 'leader' && was.term === s.term) {
        return {
          property: 'leader-append-only',
          message: `${who}, leader of term ${s.term}: the entries from index ${rewrittenFrom} (up to ${oldLast}) were ${last < rewrittenFrom ? 'deleted' : 'overwritten'}`,
        };
      }
      if (rewrittenFrom <= was.committedSeen) {
        return {
          property: 'state-machine-safety',
          message: `${who}: committed entry ${rewrittenFrom} (commit index ${was.committedSeen}) was ${last < rewrittenFrom ? 'deleted' : 'overwritten'}`,
        };
      }
    }
    was.entries.length = Math.min(was.entries.length, last + 1);
    for (let i = changedFrom; i <= last; i++) {
      const e = log.entry(i)!;
      was.entries[i] = e;
      const prevTerm = log.term(i - 1);
      if (e.term < prevTerm)
        return { property: 'log-matching', message: `${who}: entry ${i} has term ${e.term}, below the term ${prevTerm} of the entry before it` };
      if (e.term > s.term) return { property: 'term', message: `${who}: entry ${i} has term ${e.term}, above the node's term ${s.term}` };
      let byTerm = this.entries.get(i);
      if (!byTerm) {
        byTerm = new Map();
        this.entries.set(i, byTerm);
      }
      const key = valueKey(e.value);
      const rec = byTerm.get(e.term);
      if (rec === undefined) byTerm.set(e.term, { key, prevTerm });
      else if (rec.key !== key)
        return {
          property: 'log-matching',
          message: `${who}: entry ${i} of term ${e.term} holds ${key.slice(0, 80)}, another log's holds ${rec.key.slice(0, 80)}`,
        };
      else if (rec.prevTerm !== prevTerm)
        return {
          property: 'log-matching',
          message: `${who}: entry ${i} of term ${e.term} follows an entry of term ${prevTerm}, in another log one of term ${rec.prevTerm}`,
        };
    }

    // ---- election safety, and completeness of a new leader
    if (s.status === 'leader') {
      const other = this.leaders.get(s.term);
      if (other === undefined) this.leaders.set(s.term, s.index);
      else if (other !== s.index) return { property: 'election-safety', message: `two leaders in term ${s.term}: node ${other} and node ${s.index}` };
      this.leading.set(name, { state: s, term: s.term });
      if (was.ledTerm !== s.term) {
        was.ledTerm = s.term;
        let v: RaftViolation | null = null;
        this.ledger.forEach((c, i) => {
          if (!v && c.commitTerm <= s.term) v = this.completeness(name, s, i, c);
        });
        if (v) return v;
      }
    } else {
      this.leading.delete(name);
    }

    // ---- the commit rule (§5.4.2, Figure 8): a leader's new commit index is covered by an entry
    // of its own term that a majority stores (counted in the logs last seen: never fewer entries
    // than were acknowledged)
    if (!restarted && s.status === 'leader' && was.term === s.term && s.commitIndex > was.commit) {
      const v = this.commitRule(who, s);
      if (v) return v;
    }

    // ---- commit claims: the ledger of committed entries
    for (let i = Math.max(was.committedSeen, F) + 1; i <= s.commitIndex; i++) {
      const e = log.entry(i)!;
      const key = valueKey(e.value);
      const c = this.ledger.get(i);
      if (c !== undefined) {
        if (c.term !== e.term || c.key !== key) {
          return {
            property: 'state-machine-safety',
            message: `index ${i} committed twice: entry of term ${c.term} (${c.key.slice(0, 60)}), and at ${who} entry of term ${e.term} (${key.slice(0, 60)})`,
          };
        }
        if (s.term < c.commitTerm) c.commitTerm = s.term;
        continue;
      }
      const added: Committed = { term: e.term, key, value: e.value, commitTerm: s.term };
      this.ledger.set(i, added);
      for (const [leaderName, { state: l, term }] of this.leading) {
        if (l.status !== 'leader' || l.term !== term || term < added.commitTerm) continue;
        const v = this.completeness(leaderName, l, i, added);
        if (v) return v;
      }
    }
    if (s.commitIndex > was.committedSeen) was.committedSeen = s.commitIndex;

    was.term = s.term;
    was.status = s.status;
    was.commit = s.commitIndex;
    was.last = last;
    was.lastEntry = lastEntry;
    was.snapIndex = F;
    return null;
  }

  private commitRule(who: string, l: RaftNodeState): RaftViolation | null {
    const majority = Math.floor(this.nodeCount / 2) + 1;
    for (let j = l.commitIndex; j <= l.log.lastIndex; j++) {
      if (l.log.term(j) !== l.term) continue;
      let holders = 0;
      for (const n of this.lastSeen.values()) if (n.log.term(j) === l.term) holders++;
      if (holders >= majority) return null;
    }
    return {
      property: 'commit-rule',
      message: `${who}, leader of term ${l.term}, moved its commit index to ${l.commitIndex} (entry of term ${l.log.term(l.commitIndex)}), but no entry of term ${l.term} at or above it is stored on a majority`,
    };
  }

  /** Leader completeness for one committed entry and one leader. */
  private completeness(name: string, l: RaftNodeState, i: number, c: Committed): RaftViolation | null {
    if (i <= l.log.snapIndex) return null; // compacted: it was committed there, hence this very entry
    const e = l.log.entry(i);
    if (e === undefined) {
      return {
        property: 'leader-completeness',
        message: `node ${l.index} (${name}), leader of term ${l.term}, lacks committed entry ${i} (of term ${c.term}): its log ends at ${l.log.lastIndex}`,
      };
    }
    if (e.term !== c.term || valueKey(e.value) !== c.key) {
      return {
        property: 'leader-completeness',
        message: `node ${l.index} (${name}), leader of term ${l.term}, holds an entry of term ${e.term} at index ${i}, where an entry of term ${c.term} was committed`,
      };
    }
    return null;
  }

  /**
   * A replica's applied log must be the committed log: each slot it applied since last seen (and
   * still holds: those in a snapshot it installed were checked where they were applied) holds the
   * bytes of the entry committed at that index (slot i is entry i + 1).
   */
  private replica(name: string, r: ReplicaState): RaftViolation | null {
    const applied = r.exec.appliedUpTo;
    const seen = this.replicaChecked.get(name);
    let from = seen !== undefined && seen[0] === r.incarnationStart ? seen[1] : 0;
    if (from > applied) from = 0;
    let slot = from;
    for (; slot < applied; slot++) {
      if (!r.log.has(slot)) continue;
      const c = this.ledger.get(slot + 1);
      // Not seen committed yet (it will be: a replica gets only what some node committed): look again later.
      if (c === undefined) break;
      const v = r.log.get(slot) ?? null;
      if (valueKey(v) !== c.key) {
        return {
          property: 'state-machine-safety',
          message: `${name} applied slot ${slot} holding ${describe(v)}, but entry ${slot + 1} was committed holding ${describe(c.value)}`,
        };
      }
    }
    this.replicaChecked.set(name, [r.incarnationStart, slot]);
    return null;
  }
}

function describe(v: SlotValue): string {
  return v === null ? 'a no-op' : `${v.length} bytes ${Buffer.from(v.subarray(0, 16)).toString('hex')}${v.length > 16 ? '…' : ''}`;
}
