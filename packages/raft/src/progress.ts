/**
 * What the leader knows of each follower, as etcd's tracker models it (tracker/progress.go and
 * tracker/inflights.go):
 *
 *  - `probe`: the leader does not know where the follower's log matches its own; it sends one
 *    AppendEntries at a time (then waits for an answer or the next heartbeat answer) and steps
 *    `next` back on each rejection;
 *  - `replicate`: the logs match up to `match`; the leader streams entries optimistically,
 *    advancing `next` as it sends, with a window of messages in flight bounded in count and bytes
 *    ({@link Inflights});
 *
 * etcd's third state, `snapshot` (replication paused while a snapshot crosses), is not needed:
 * the snapshot a follower gets from Raft is only the compaction point, and the state crosses
 * between the replicas (snapshot-transfer.ts), so probing resumes at once.
 */

/**
 * A sliding window of AppendEntries messages in flight to one follower: the last index each one
 * carries and its bytes. Full at `capacity` messages or `maxBytes` bytes; an acknowledgement of
 * index i frees every message up to i.
 */
export class Inflights {
  private readonly index: number[];
  private readonly size: number[];
  private start = 0;
  /** Messages in flight. */
  count = 0;
  /** Bytes in flight. */
  bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {
    this.index = new Array(capacity).fill(0);
    this.size = new Array(capacity).fill(0);
  }

  full(): boolean {
    return this.count === this.capacity || this.bytes >= this.maxBytes;
  }

  /** A message carrying entries up to `index` (increasing from one call to the next), of `bytes`. */
  add(index: number, bytes: number): void {
    if (this.count === this.capacity) throw new RangeError('inflights: add on a full window');
    const at = (this.start + this.count) % this.capacity;
    this.index[at] = index;
    this.size[at] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees the messages whose entries are all at or below `index`. */
  freeLE(index: number): void {
    while (this.count > 0 && this.index[this.start]! <= index) {
      this.bytes -= this.size[this.start]!;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

export type ProgressState = 'probe' | 'replicate';

/** The leader's view of one follower. */
export class Progress {
  /** The follower's log is known to match the leader's up to here. */
  match = 0;
  /** The next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = 'probe';
  /** In `probe`: a message was sent and nothing since said whether it arrived (paused until then). */
  probeSent = false;
  /** The highest commit index sent to this follower. */
  sentCommit = 0;
  /** Heard from since the last quorum check (CheckQuorum). */
  recentActive = false;
  /** The follower was found to have lost entries it acknowledged (reported once). */
  lossReported = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    this.resetState('probe');
    this.next = this.match + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  /** A message with `entries` entries of `bytes` bytes, ending at `last`, was sent. */
  sentEntries(entries: number, last: number, bytes: number): void {
    if (this.state === 'replicate' && entries > 0) {
      this.next = last + 1;
      this.inflights.add(last, bytes);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** An acknowledgement of index `n`; false when it says nothing new (stale or duplicated). */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    if (this.next < n + 1) this.next = n + 1;
    this.probeSent = false;
    return true;
  }

  /**
   * The follower lost entries it had acknowledged: nothing of its log is known to match any more.
   * Probing starts again at `probeAt`, the follower's hint of where the logs may match.
   */
  forgetMatch(probeAt: number): void {
    this.resetState('probe');
    this.match = 0;
    this.next = Math.max(1, probeAt + 1);
  }

  /**
   * A rejection of the message that had `prevIndex === rejected`, with the follower's hint of
   * where the logs may match. False when the rejection is stale (duplicated or reordered).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probing sends one message at a time: only the answer to the latest one counts.
    if (this.next - 1 !== rejected) return false;
    const next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    // Not a step back: the follower's log is behind what it acknowledged (it lost durable
    // entries). Probing again at once would only repeat this; the next heartbeat answer does.
    if (next === this.next) return false;
    this.next = next;
    this.probeSent = false;
    return true;
  }
}
