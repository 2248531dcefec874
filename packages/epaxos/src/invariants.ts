/**
 * EPaxos safety, checked over every replica after every simulation step:
 *  - one command per instance: at most one proposal (command and attributes) is chosen for an
 *    instance by a classic quorum of accepts in one ballot, and every commit of it is that
 *    proposal. (A fast commit is the leader's decision over its pre-accept replies: a fast quorum
 *    of unchanged pre-accepts is no choice when the leader took the slow path first, so fast
 *    commits are checked through the commits themselves, which must all agree.)
 *  - committed attributes agree: every replica that commits an instance commits the same command,
 *    sequence number and dependencies;
 *  - interfering commands execute in the same order everywhere: for every key, each replica
 *    executes the instances touching it in one common sequence (from where its snapshot left off,
 *    skipping none), and every instance comes after the same number of barriers (instances touching
 *    every key) on every replica, the b-th barrier being the same instance everywhere;
 *  - executed histories agree: at each barrier, the digests of what replicas executed are equal;
 *  - a replica's promise is never below the ballot of its vote.
 *
 * It reads each replica's journal (`keepJournal`), so each change is looked at once. Votes count
 * only when durable (persist before send: a vote a crash could undo was never sent).
 */
import { sameProposal, Status, type Instance } from './instance.js';
import { formatInstance } from './ids.js';
import type { Proposal } from './messages.js';
import { quorumsOf, type Quorums } from './quorums.js';
import { JOURNAL_SIZE, type EPaxosState } from './state.js';

export interface EPaxosViolation {
  property: 'one-command-per-instance' | 'committed-attributes-agree' | 'interfering-order' | 'executed-histories' | 'promised-at-least-voted';
  message: string;
}

interface Votes {
  proposal: Proposal;
  voters: number;
  count: number;
}

interface Cursor {
  state: object;
  installs: number;
  changed: number;
  executed: number;
  lastPos: Map<number, number>;
}

/** A replica as the checker sees it: its state, and whether everything it persisted is durable. */
export interface ReplicaView {
  name: string;
  state: EPaxosState | undefined;
  durable: boolean;
}

export class EPaxosInvariants {
  private readonly q: Quorums;
  /** instance → ballot → accepted votes. */
  private readonly accepted = new Map<number, Map<number, Votes>>();
  private readonly chosen = new Map<number, Proposal>();
  private readonly committed = new Map<number, Proposal>();
  /** key → instances touching it, in the order executed; and their positions. */
  private readonly sequences = new Map<number, number[]>();
  private readonly positions = new Map<number, Map<number, number>>();
  /** instance → barriers executed before it; barrier number → the barrier instance. */
  private readonly epochOf = new Map<number, number>();
  private readonly barrierAt = new Map<number, number>();
  private readonly digestAt = new Map<number, number>();
  private readonly cursors = new Map<string, Cursor>();

  constructor(readonly n: number) {
    this.q = quorumsOf(n);
  }

  observe(replicas: readonly ReplicaView[]): EPaxosViolation | null {
    for (const r of replicas) {
      const s = r.state;
      if (s === undefined || s.journal === null) continue;
      let c = this.cursors.get(r.name);
      if (c === undefined || c.state !== s || c.installs !== s.journal.installs) {
        c = { state: s, installs: s.journal.installs, changed: c?.state === s ? c.changed : 0, executed: s.journal.executedCount, lastPos: new Map() };
        this.cursors.set(r.name, c);
      }
      if (r.durable) {
        const v = this.records(r.name, s, c);
        if (v) return v;
      }
      const v = this.executions(r.name, s, c) ?? this.digests(r.name, s);
      if (v) return v;
    }
    return null;
  }

  private records(name: string, s: EPaxosState, c: Cursor): EPaxosViolation | null {
    const j = s.journal!;
    if (j.changedCount - c.changed > JOURNAL_SIZE) c.changed = j.changedCount - JOURNAL_SIZE;
    for (; c.changed < j.changedCount; c.changed++) {
      const key = j.changed[c.changed % JOURNAL_SIZE]!;
      const x = s.instances.get(key);
      if (x === undefined) continue;
      if (x.bal < x.vbal)
        return {
          property: 'promised-at-least-voted',
          message: `${name}, instance ${formatInstance(key)}: promised ballot ${x.bal} below its vote's ${x.vbal}`,
        };
      let v: EPaxosViolation | null = null;
      if (x.status === Status.Accepted) v = this.vote(this.acceptedVotes(key), key, s.index, x, this.q.classic, `accepted in ballot ${x.vbal}`);
      else if (x.status >= Status.Committed) v = this.commit(name, key, x);
      if (v) return v;
    }
    return null;
  }

  private acceptedVotes(key: number): Map<number, Votes> {
    let byBallot = this.accepted.get(key);
    if (!byBallot) {
      byBallot = new Map();
      this.accepted.set(key, byBallot);
    }
    return byBallot;
  }

  private vote(group: Map<number, Votes>, key: number, replica: number, x: Instance, needed: number, how: string): EPaxosViolation | null {
    const ballot = x.status === Status.Accepted ? x.vbal : 0;
    let v = group.get(ballot);
    if (!v) {
      v = { proposal: proposalOf(x), voters: 0, count: 0 };
      group.set(ballot, v);
    }
    if (!sameProposal(v.proposal, x)) {
      return { property: 'one-command-per-instance', message: `instance ${formatInstance(key)}: two proposals ${how} (${show(v.proposal)} / ${show(x)})` };
    }
    const bit = 1 << replica;
    if (v.voters & bit) return null;
    v.voters |= bit;
    if (++v.count < needed) return null;
    return this.choose(key, v.proposal, how);
  }

  private choose(key: number, p: Proposal, how: string): EPaxosViolation | null {
    const before = this.chosen.get(key);
    if (before === undefined) this.chosen.set(key, p);
    else if (!sameProposal(before, p)) {
      return {
        property: 'one-command-per-instance',
        message: `instance ${formatInstance(key)}: two proposals chosen (${show(before)}, then ${show(p)} ${how} by a quorum)`,
      };
    }
    const done = this.committed.get(key);
    if (done !== undefined && !sameProposal(done, p)) {
      return { property: 'one-command-per-instance', message: `instance ${formatInstance(key)}: committed ${show(done)}, but ${show(p)} is chosen (${how})` };
    }
    return null;
  }

  private commit(name: string, key: number, x: Instance): EPaxosViolation | null {
    const before = this.committed.get(key);
    if (before === undefined) this.committed.set(key, proposalOf(x));
    else if (!sameProposal(before, x)) {
      return {
        property: 'committed-attributes-agree',
        message: `instance ${formatInstance(key)}: ${name} committed ${show(x)}, another replica ${show(before)}`,
      };
    }
    const chosen = this.chosen.get(key);
    if (chosen !== undefined && !sameProposal(chosen, x)) {
      return { property: 'one-command-per-instance', message: `instance ${formatInstance(key)}: ${name} committed ${show(x)}, but ${show(chosen)} was chosen` };
    }
    return null;
  }

  private executions(name: string, s: EPaxosState, c: Cursor): EPaxosViolation | null {
    const j = s.journal!;
    if (j.executedCount - c.executed > JOURNAL_SIZE) {
      // Fell behind the ring: start over from here (positions unknown again).
      c.executed = j.executedCount;
      c.lastPos.clear();
      return null;
    }
    const end = j.executedCount;
    for (; c.executed < end; c.executed++) {
      const key = j.executed[c.executed % JOURNAL_SIZE]!;
      const epoch = j.epochs[c.executed % JOURNAL_SIZE]!;
      const x = s.instances.get(key);
      if (x === undefined) continue;
      const v = this.commit(name, key, x);
      if (v) return v;
      if (x.keys === null) {
        const at = this.barrierAt.get(epoch);
        if (at === undefined) this.barrierAt.set(epoch, key);
        else if (at !== key) {
          return {
            property: 'interfering-order',
            message: `${name} executed ${formatInstance(key)} as barrier ${epoch}, another replica ${formatInstance(at)}`,
          };
        }
        continue;
      }
      if (x.keys.length === 0) continue;
      const e = this.epochOf.get(key);
      if (e === undefined) this.epochOf.set(key, epoch);
      else if (e !== epoch) {
        return { property: 'interfering-order', message: `${name} executed ${formatInstance(key)} after ${epoch} barriers, another replica after ${e}` };
      }
      for (const k of x.keys) {
        let seq = this.sequences.get(k);
        let pos = this.positions.get(k);
        if (!seq || !pos) {
          seq = [];
          pos = new Map();
          this.sequences.set(k, seq);
          this.positions.set(k, pos);
        }
        let p = pos.get(key);
        if (p === undefined) {
          p = seq.length;
          seq.push(key);
          pos.set(key, p);
        }
        const last = c.lastPos.get(k);
        if (last !== undefined) {
          if (p !== last + 1) {
            const expected = seq[last + 1];
            return {
              property: 'interfering-order',
              message: `${name} executed ${formatInstance(key)} on key ${k} after ${formatInstance(seq[last]!)}, where another replica executed ${expected === undefined ? 'nothing yet' : formatInstance(expected)}`,
            };
          }
        } else {
          // First on this key since the replica (re)started: what came before must be executed already.
          for (let i = 0; i < p; i++) {
            const before = seq[i]!;
            if (!executedAt(s, before) || laterInJournal(j, c.executed + 1, end, before)) {
              return {
                property: 'interfering-order',
                message: `${name} executed ${formatInstance(key)} on key ${k} before ${formatInstance(before)}, which another replica executed first`,
              };
            }
          }
        }
        c.lastPos.set(k, p);
      }
    }
    return null;
  }

  private digests(name: string, s: EPaxosState): EPaxosViolation | null {
    let v: EPaxosViolation | null = null;
    s.checkpoints.forEach(([log], barrier) => {
      if (v) return;
      const seen = this.digestAt.get(barrier);
      if (seen === undefined) this.digestAt.set(barrier, log);
      else if (seen !== log)
        v = {
          property: 'executed-histories',
          message: `${name} executed different instances (or outcomes) before barrier ${barrier} than another replica (digest ${log.toString(16)} vs ${seen.toString(16)})`,
        };
    });
    return v;
  }
}

function executedAt(s: EPaxosState, key: number): boolean {
  const q = key % 32;
  const i = Math.floor(key / 32);
  return i <= s.executedUpTo[q]! || s.instances.get(key)?.status === Status.Executed || s.extraExecuted.has(key);
}

function laterInJournal(j: { executed: number[] }, from: number, end: number, key: number): boolean {
  for (let i = from; i < end; i++) if (j.executed[i % JOURNAL_SIZE] === key) return true;
  return false;
}

function proposalOf(x: Proposal): Proposal {
  return { value: x.value, keys: x.keys, seq: x.seq, deps: [...x.deps] };
}

function show(p: Proposal): string {
  const what = p.value === null ? (p.keys === null ? 'a barrier' : 'a no-op') : `${p.value.length} bytes`;
  return `${what}, seq ${p.seq}, deps [${p.deps.join(',')}]`;
}
