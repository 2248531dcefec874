/**
 * Client sessions as replicas keep them: exactly once, in order.
 *
 * A session numbers its commands 1, 2, 3… A replica applies command `seq` only when it is the
 * session's next (so a session's pipelined writes apply in the order issued, retries included:
 * monotonic writes); an earlier one is a duplicate and gets its kept result again; a later one is
 * a gap and is not applied (its client sends again from the missing one). Results are kept until
 * the client acknowledges them (its `ack` rides on its requests), at most `sessionWindow` per
 * session. At most `maxSessions` sessions are kept; the least recently used is forgotten first
 * (or, with `firstCreated`, the one created first). Every replica applies the same log, so every
 * replica keeps and forgets the same sessions. A protocol whose replicas apply commands that do
 * not interfere in different orders (EPaxos) must use `firstCreated`: recency then differs from
 * replica to replica, the order in which sessions were created does not (their first commands
 * interfere with every command).
 */
import { WireWriter, setLength } from '@synod/actors/internals';
import { bytesEqual } from '@synod/canonical';
import { ByteReader } from './byte-reader.js';
import { Outcome } from './outcome.js';

export class Session {
  /** The next command number to apply. */
  next = 1;
  /** Results of commands `floor + 1 .. next - 1` are kept (see `kept`). */
  floor = 0;
  /**
   * The kept outcomes and results, in a ring whose size is a power of two (it doubles when full,
   * up to the window): command `floor + 1` is at `head`. A ring, not arrays shifted and copied as
   * results are acknowledged: a replica records every command it applies, and those copies were
   * a tenth of what a replica allocated.
   */
  private outcomes = new Uint8Array(4);
  private results: Uint8Array[] = [EMPTY, EMPTY, EMPTY, EMPTY];
  private head = 0;
  /** Neighbours in the table's eviction order (null at either end): see `SessionTable`. */
  older: Session | null = null;
  newer: Session | null = null;
  constructor(
    readonly client: string,
    readonly no: number,
  ) {}

  get kept(): number {
    return this.next - 1 - this.floor;
  }

  /** The kept outcome of an applied command, or undefined when it is no longer kept. */
  find(seq: number): { outcome: Outcome; result: Uint8Array } | undefined {
    if (seq <= this.floor || seq >= this.next) return undefined;
    const i = (this.head + (seq - this.floor - 1)) & (this.outcomes.length - 1);
    return { outcome: this.outcomes[i]! as Outcome, result: this.results[i]! };
  }

  /** Records the outcome of command `next` and moves on; keeps at most `window` results. */
  record(outcome: Outcome, result: Uint8Array, window: number): void {
    const kept = this.kept;
    if (kept === this.outcomes.length) this.grow();
    const i = (this.head + kept) & (this.outcomes.length - 1);
    this.outcomes[i] = outcome;
    this.results[i] = result;
    this.next++;
    if (kept + 1 > window) this.forget(this.next - 1 - window);
  }

  /** Drops the results of commands up to `seq`. */
  forget(seq: number): void {
    if (seq <= this.floor) return;
    const upTo = Math.min(seq, this.next - 1);
    const drop = upTo - this.floor;
    const mask = this.outcomes.length - 1;
    for (let k = 0; k < drop; k++) this.results[(this.head + k) & mask] = EMPTY;
    this.head = (this.head + drop) & mask;
    this.floor = upTo;
  }

  /** Twice the room, the kept results from index 0. */
  private grow(): void {
    const n = this.outcomes.length;
    const outcomes = new Uint8Array(2 * n);
    const results: Uint8Array[] = new Array(2 * n).fill(EMPTY);
    for (let k = 0; k < this.kept; k++) {
      const i = (this.head + k) & (n - 1);
      outcomes[k] = this.outcomes[i]!;
      results[k] = this.results[i]!;
    }
    this.outcomes = outcomes;
    this.results = results;
    this.head = 0;
  }

  /**
   * The session as bytes (for snapshots): its numbers, then its kept results as runs of equal ones,
   * `uvar count | u8 outcome | uvar length | bytes`. A snapshot writes every kept result (tens of
   * thousands with many commands in flight, and snapshots come every few MiB applied), and most
   * are the same few bytes (a `set`'s): runs made writing them a small part of a snapshot, where
   * one entry each was a tenth of what 256-byte writes cost beyond 16-byte ones.
   */
  write(w: WireWriter): void {
    w.string(this.client);
    w.uvar(this.no);
    w.uvar(this.next);
    w.uvar(this.floor);
    const kept = this.kept;
    w.uvar(kept);
    const outcomes = this.outcomes;
    const results = this.results;
    const mask = outcomes.length - 1;
    for (let k = 0; k < kept; ) {
      const i = (this.head + k) & mask;
      const outcome = outcomes[i]!;
      const r = results[i]!;
      let run = 1;
      while (k + run < kept) {
        const j = (this.head + k + run) & mask;
        if (outcomes[j] !== outcome || !bytesEqual(results[j]!, r)) break;
        run++;
      }
      w.uvar(run);
      w.u8(outcome);
      w.inline(r);
      k += run;
    }
  }

  /** A session written by `write`; `eachResult`: written one result at a time (snapshot format 1). */
  static read(r: ByteReader, eachResult = false): Session {
    const s = new Session(r.string(), r.uvar());
    const next = r.uvar();
    s.floor = r.uvar();
    const kept = r.uvar();
    if (s.floor + kept !== next - 1) throw new RangeError(`corrupt session ${s.client}/${s.no}: ${kept} results kept between ${s.floor} and ${next}`);
    s.next = s.floor + 1;
    // `record` with no window bound: the snapshot kept what the window allowed. A run's results
    // share one array: results are never changed in place.
    for (let k = 0; k < kept; ) {
      const run = eachResult ? 1 : r.uvar();
      if (run < 1 || k + run > kept) throw new RangeError(`corrupt session ${s.client}/${s.no}: a run of ${run} results after ${k} of ${kept}`);
      const outcome = r.u8();
      const result = r.bytesView().slice();
      for (let j = 0; j < run; j++) s.record(outcome, result, Number.POSITIVE_INFINITY);
      k += run;
    }
    return s;
  }
}

const EMPTY = new Uint8Array(0);

/** What to do with a command. */
export const enum Verdict {
  Apply,
  Duplicate,
  Gap,
  UnknownSession,
  Forgotten,
}

/**
 * Every client session a replica knows: by client and number, and in eviction order (least
 * recently used first, or first created) as a list through the sessions themselves. Each command
 * looks its session up and moves it to the end: a Map keyed by `client/no` strings, reordered by
 * delete and set, cost a string and two rehashes per request, a twentieth of a replica's time with
 * one command per request.
 */
export class SessionTable {
  /** Client id → session number → session. */
  private readonly byClient = new Map<string, Map<number, Session>>();
  private count = 0;
  /** Ends of the eviction order: `oldest` goes first. */
  private oldest: Session | null = null;
  private newest: Session | null = null;
  /** The sessions of the request being applied, by their index in it. */
  private readonly current: (Session | undefined)[] = [];
  private currentClient = '';
  private readonly currentNos: number[] = [];

  /**
   * @param firstCreated - forget the session created first instead of the least recently used
   *   (use does not reorder sessions).
   */
  constructor(
    readonly maxSessions: number,
    readonly window: number,
    readonly firstCreated = false,
  ) {}

  get size(): number {
    return this.count;
  }

  /** A request's sessions and acknowledgements, before its commands. */
  beginRequest(client: string, sessionNos: readonly number[], acks: readonly number[]): void {
    this.currentClient = client;
    const sessions = this.byClient.get(client);
    setLength(this.current, sessionNos.length);
    setLength(this.currentNos, sessionNos.length);
    for (let i = 0; i < sessionNos.length; i++) {
      const s = sessions?.get(sessionNos[i]!);
      this.currentNos[i] = sessionNos[i]!;
      this.current[i] = s;
      if (s !== undefined) {
        if (!this.firstCreated) this.touch(s);
        s.forget(acks[i]!);
      }
    }
  }

  /** The session at `index` in the current request (undefined if unknown). */
  session(index: number): Session | undefined {
    return this.current[index];
  }

  /** What to do with command `seq` of the session at `index` in the current request. */
  verdict(index: number, seq: number): Verdict {
    const s = this.current[index];
    if (s === undefined) return seq === 1 ? Verdict.Apply : Verdict.UnknownSession;
    if (seq === s.next) return Verdict.Apply;
    if (seq > s.next) return Verdict.Gap;
    return seq > s.floor ? Verdict.Duplicate : Verdict.Forgotten;
  }

  /** Records the outcome of the session's next command (creating the session at its first). */
  record(index: number, outcome: Outcome, result: Uint8Array): void {
    let s = this.current[index];
    if (s === undefined) {
      s = new Session(this.currentClient, this.currentNos[index]!);
      this.current[index] = s;
      this.add(s);
      if (this.count > this.maxSessions) {
        const evicted = this.oldest!;
        this.remove(evicted);
        // A session of this very request may be the one forgotten: later commands treat it as unknown.
        for (let i = 0; i < this.current.length; i++) if (this.current[i] === evicted) this.current[i] = undefined;
      }
    }
    s.record(outcome, result, this.window);
  }

  /** The sessions as bytes, in eviction order (for snapshots). */
  write(w: WireWriter): void {
    w.uvar(this.count);
    for (let s = this.oldest; s !== null; s = s.newer) s.write(w);
  }

  /** Replaces every session with those of a snapshot (`eachResult`: see `Session.read`). */
  read(r: ByteReader, eachResult = false): void {
    this.byClient.clear();
    this.count = 0;
    this.oldest = this.newest = null;
    const n = r.uvar();
    for (let i = 0; i < n; i++) this.add(Session.read(r, eachResult));
  }

  /** For tests and inspection. */
  get(client: string, no: number): Session | undefined {
    return this.byClient.get(client)?.get(no);
  }

  /** Adds a session as the newest (replacing one of the same client and number: a corrupt snapshot's duplicate). */
  private add(s: Session): void {
    let sessions = this.byClient.get(s.client);
    if (sessions === undefined) {
      sessions = new Map();
      this.byClient.set(s.client, sessions);
    }
    const old = sessions.get(s.no);
    if (old !== undefined) this.remove(old);
    sessions.set(s.no, s);
    this.count++;
    this.link(s);
  }

  private remove(s: Session): void {
    const sessions = this.byClient.get(s.client)!;
    sessions.delete(s.no);
    if (sessions.size === 0) this.byClient.delete(s.client);
    this.count--;
    this.unlink(s);
  }

  /** Most recently used last. */
  private touch(s: Session): void {
    if (this.newest === s) return;
    this.unlink(s);
    this.link(s);
  }

  private link(s: Session): void {
    s.older = this.newest;
    s.newer = null;
    if (this.newest !== null) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
  }

  private unlink(s: Session): void {
    if (s.older !== null) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer !== null) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = s.newer = null;
  }
}
