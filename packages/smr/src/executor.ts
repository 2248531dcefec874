/**
 * The executor: what a replica of any protocol does with committed log entries. It applies slot
 * values in order to the state machine, exactly once per session command and in each session's
 * order, keeps each result for its client, and can never be taken down by the machine: whatever
 * `apply` throws becomes the same `Failed` outcome on every replica. It keeps a running digest of
 * the outcomes of everything applied, so replicas can compare notes at the same index,
 * and it refuses commands past the state quota (`maxStateBytes`) while those that free space go on.
 *
 * Pure: no I/O. The replica actor around it sends the results and persists the snapshots.
 */
import { hashBytes } from '@synod/canonical';
import { WireWriter, uninitializedBytes } from '@synod/actors/internals';
import { ByteReader } from './byte-reader.js';
import { SlotReader, type CommandInSlot } from './log-format.js';
import type { MachineCore, SnapshotSource } from './machine.js';
import { Outcome, describeThrown } from './outcome.js';
import { SessionTable, Verdict } from './sessions.js';
import { ResultNotPlainDataError } from './state-machine.js';

export interface ExecutorOptions {
  /** Client sessions remembered (exactly once); the least recently used is forgotten beyond. Default 100 000. */
  maxSessions: number;
  /** Results kept per session until its client acknowledges them. Default 4096. */
  sessionWindow: number;
  /** Past this many bytes of state, commands are refused with `QuotaExceeded` (those that free space go on). Default 8 GiB. */
  maxStateBytes: number;
  /**
   * Forget the session created first instead of the least recently used (see `SessionTable`).
   * Default false.
   */
  evictFirstCreated?: boolean;
  /**
   * Who decides that the state is over its quota: `each-command` (default) checks before every
   * command; `external` leaves it to the replica, which sets `overQuota` at points where every
   * replica has applied the same commands (EPaxos: at its barriers), since replicas that apply
   * non-interfering commands in different orders see different sizes in between.
   */
  quotaCheck?: 'each-command' | 'external';
}

export const defaultExecutorOptions: ExecutorOptions = {
  maxSessions: 100_000,
  sessionWindow: 4096,
  maxStateBytes: 8 * 1024 ** 3,
};

/** Where results go: the replica batches them per client. */
export interface ResultSink {
  /**
   * The outcome of one command of the slot being applied: `applied` is true when it was applied
   * now (false for a duplicate answered from the session, or one not applied at all); `command`
   * says where its bytes lie in the slot (read it during the call); `index` is the slot + 1.
   */
  result(client: string, sessionNo: number, seq: number, outcome: Outcome, bytes: Uint8Array, command: CommandInSlot, applied: boolean, index: number): void;
}

const encoder = new TextEncoder();
const NO_RESULT = new Uint8Array(0);

export class Executor<S = unknown> {
  state: S;
  /** Slots below this are applied. */
  appliedUpTo = 0;
  /** Commands applied (duplicates and refusals not counted). */
  applied = 0;
  /** Running digest of every slot applied: its commands' outcomes, in order. */
  digest = 0;
  /** Bytes of the last snapshot's state and of the commands applied since (the quota's estimate without `size`). */
  private estimatedBytes = 0;
  /** With `quotaCheck: 'external'`: commands (other than those that free space) are refused while set. */
  overQuota = false;
  readonly sessions: SessionTable;
  private readonly reader = new SlotReader();

  constructor(
    readonly machine: MachineCore<S>,
    readonly options: ExecutorOptions = defaultExecutorOptions,
  ) {
    this.state = machine.initial();
    this.sessions = new SessionTable(options.maxSessions, options.sessionWindow, options.evictFirstCreated === true);
  }

  /** Bytes the state holds, as the quota counts them. */
  get stateBytes(): number {
    return this.machine.size ? this.machine.size(this.state) : this.estimatedBytes;
  }

  /**
   * Applies the value of slot `appliedUpTo` (null: a no-op that filled a gap) and moves on.
   * Throws only for bytes that are not a slot (a corrupt log), never for what the machine does.
   */
  applySlot(value: Uint8Array | null, sink: ResultSink | null): void {
    if (value !== null && this.machine.copiesCommands !== true && value.buffer instanceof SharedArrayBuffer) value = ownSlot(value);
    const slot = this.appliedUpTo;
    let h = hashBytes(NO_RESULT, this.digest ^ slot);
    if (value !== null) {
      const r = this.reader.reset(value);
      const table = this.sessions;
      while (r.nextRequest()) {
        table.beginRequest(r.clientId, r.sessionNos, r.acks);
        while (r.nextCommand()) {
          const index = r.sessionIndex;
          const seq = r.seq;
          let outcome: Outcome;
          let bytes: Uint8Array;
          const verdict = table.verdict(index, seq);
          switch (verdict) {
            case Verdict.Apply:
              bytes = this.apply(r);
              outcome = this.outcome;
              table.record(index, outcome, bytes);
              break;
            case Verdict.Duplicate: {
              const kept = table.session(index)!.find(seq)!;
              outcome = kept.outcome;
              bytes = kept.result;
              break;
            }
            case Verdict.Gap:
              outcome = Outcome.Gap;
              bytes = NO_RESULT;
              break;
            case Verdict.UnknownSession:
              outcome = Outcome.UnknownSession;
              bytes = NO_RESULT;
              break;
            default:
              outcome = Outcome.Forgotten;
              bytes = NO_RESULT;
          }
          // Every replica applies the same commands (consensus sees to that): what can differ is
          // what came of them, so the digest covers the outcomes (and, at checkpoints, the state).
          h = bytes.length <= 4 ? mixOutcome(h, outcome, bytes) : hashBytes(bytes, h ^ outcome);
          sink?.result(r.clientId, r.sessionNos[index]!, seq, outcome, bytes, r, verdict === Verdict.Apply, slot + 1);
        }
      }
    }
    this.digest = h >>> 0;
    this.appliedUpTo = slot + 1;
  }

  /** The outcome of the last `apply` (a field, not a pair: no array per command). */
  private outcome = Outcome.Ok;

  /** Applies the reader's command to the machine; never throws. Its result's bytes; the outcome in `outcome`. */
  private apply(r: SlotReader): Uint8Array {
    const m = this.machine;
    const length = r.commandEnd - r.commandStart;
    if (this.options.quotaCheck === 'external') {
      // The same text on every replica: the size each one sees right now may differ.
      if (this.overQuota && !this.frees(r.command)) {
        this.outcome = Outcome.QuotaExceeded;
        return encoder.encode(`the state is over maxStateBytes (${this.options.maxStateBytes}); nothing was changed (deletes still work)`);
      }
    } else if (this.stateBytes + length > this.options.maxStateBytes && !this.frees(r.command)) {
      this.outcome = Outcome.QuotaExceeded;
      return encoder.encode(
        `the state holds ${this.stateBytes} bytes; with this command it would pass maxStateBytes (${this.options.maxStateBytes}); nothing was changed (deletes still work)`,
      );
    }
    try {
      const out = m.applyRange !== undefined ? m.applyRange(this.state, r.source, r.commandStart, r.commandEnd) : m.apply(this.state, r.command);
      this.state = out.state;
      this.applied++;
      this.estimatedBytes += length;
      this.outcome = Outcome.Ok;
      return out.result;
    } catch (e) {
      // `instanceof` itself can throw (a hostile Proxy): nothing thrown may escape this catch.
      if (isResultNotPlainData(e)) this.state = (e as ResultNotPlainDataError).state as S;
      this.applied++;
      this.estimatedBytes += length;
      this.outcome = Outcome.Failed;
      return encoder.encode(describeThrown(e));
    }
  }

  private frees(command: Uint8Array): boolean {
    try {
      return this.machine.frees?.(command) ?? false;
    } catch {
      return false;
    }
  }

  /** Answers a read at the current state; a throw becomes `[false, message]`. */
  query(query: Uint8Array): [ok: boolean, bytes: Uint8Array] {
    try {
      return [true, this.machine.query(this.state, query)];
    } catch (e) {
      return [false, encoder.encode(describeThrown(e))];
    }
  }

  /**
   * A snapshot at `appliedUpTo`: its header (index, digest, sessions) now, and the state's chunks
   * from `source`, which the state's later changes do not affect. With `changesOnly`, the chunks
   * hold only what changed since the last snapshot, where the machine can tell (`changes`: see
   * `MachineCore.snapshotChanges`); the header is whole either way.
   */
  snapshot(changesOnly = false): { header: Uint8Array; source: SnapshotSource; changes: boolean } {
    const w = new WireWriter(4096);
    w.u8(SNAPSHOT_FORMAT);
    w.uvar(this.appliedUpTo);
    w.u32(this.digest);
    w.uvar(this.applied);
    this.sessions.write(w);
    const header = w.buf.slice(0, w.pos);
    const changes = changesOnly ? (this.machine.snapshotChanges?.(this.state) ?? null) : null;
    return changes !== null ? { header, source: changes, changes: true } : { header, source: this.machine.snapshot(this.state), changes: false };
  }

  /** Puts a snapshot in place: its header and the state rebuilt from its chunks; `stateBytes` its size. */
  install(header: Uint8Array, state: S, stateBytes: number): void {
    const r = new ByteReader().reset(header);
    const format = r.u8();
    if (format !== SNAPSHOT_FORMAT && format !== 1)
      throw new RangeError(`unknown snapshot format ${format} (this build reads formats 1 and ${SNAPSHOT_FORMAT})`);
    this.appliedUpTo = r.uvar();
    this.digest = (r.u8() | (r.u8() << 8) | (r.u8() << 16) | (r.u8() << 24)) >>> 0;
    this.applied = r.uvar();
    this.sessions.read(r, format === 1);
    this.state = state;
    this.estimatedBytes = stateBytes;
  }
}

/** 2: a session's kept results as runs of equal ones (1, still read: one entry per result). */
export const SNAPSHOT_FORMAT = 2;

/**
 * A slot's bytes out of shared memory (a thread's arena, whose blocks are reused once every view
 * is gone), in memory of this replica's own, so the machine may keep views of its commands
 * (`MachineCore.apply`; a machine that `copiesCommands` reads them where they lie). One copy of the whole slot, at the source's alignment modulo 8 (a copy
 * out of shared memory is word by word only then: @synod/actors shared-copy.ts).
 */
function ownSlot(value: Uint8Array): Uint8Array {
  const own = uninitializedBytes(value.length, value.byteOffset & 7);
  own.set(value);
  return own;
}

/** Folds a short outcome (at most 4 bytes) into a running digest without a call per byte run. */
export function mixOutcome(h: number, outcome: number, bytes: Uint8Array): number {
  let k = outcome | (bytes.length << 8);
  for (let i = 0; i < bytes.length; i++) k = Math.imul(k ^ bytes[i]!, 0x01000193);
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function isResultNotPlainData(e: unknown): boolean {
  try {
    return e instanceof ResultNotPlainDataError;
  } catch {
    return false;
  }
}

/**
 * Bytes applied after which a replica's next snapshot is due: `everyBytes`, or for a large state
 * a quarter of it (writing snapshots costs at most about four times what is applied), or up to as
 * many bytes as the state where `maxLagBytes` allows (one byte written per byte applied).
 */
export function snapshotBytesDue(stateBytes: number, everyBytes: number, maxLagBytes = 0): number {
  return Math.max(everyBytes, Math.min(stateBytes, Math.max(maxLagBytes, Math.floor(stateBytes / 4))));
}

/** The log index a snapshot header stands at, without installing it. */
export function snapshotIndex(header: Uint8Array): number {
  const r = new ByteReader().reset(header);
  r.u8();
  return r.uvar();
}
