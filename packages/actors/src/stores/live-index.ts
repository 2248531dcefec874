import type { PersistKey, Recovered } from '../store.js';
import { RecordKind, encodeRecord, type DecodedRecord, type SerializedOp } from './record.js';
import { decodeValue, encodedBytes, type EncodedValue } from './value-codec.js';

interface LiveActor {
  /** The serialized whole state, when `ctx.persist` was called. */
  state: EncodedValue | undefined;
  entries: Map<PersistKey, EncodedValue>;
}

/**
 * What a log currently holds, per actor, with values still serialized: `load` deserializes a
 * fresh copy each time (an actor may mutate what it gets), and compaction writes the bytes back
 * as they are, without serializing anything again.
 */
export class LiveIndex {
  private readonly actors = new Map<string, LiveActor>();

  /** Applies one turn's changes of an actor. */
  applyChanges(actor: string, ops: readonly SerializedOp[]): void {
    let a = this.actors.get(actor);
    if (!a) {
      a = { state: undefined, entries: new Map() };
      this.actors.set(actor, a);
    }
    for (const op of ops) {
      if (op.key === null) a.state = op.value;
      else if (op.value === undefined) a.entries.delete(op.key);
      else a.entries.set(op.key, op.value);
    }
    if (a.state === undefined && a.entries.size === 0) this.actors.delete(actor);
  }

  remove(actor: string): void {
    this.actors.delete(actor);
  }

  apply(rec: DecodedRecord): void {
    if (rec.kind === RecordKind.Padding) return;
    if (rec.kind === RecordKind.Remove) this.remove(rec.actor);
    else this.applyChanges(rec.actor, rec.ops);
  }

  load(actor: string): Recovered | undefined {
    const a = this.actors.get(actor);
    if (!a) return undefined;
    const entries = new Map<PersistKey, unknown>();
    for (const [k, v] of a.entries) entries.set(k, decodeValue(v));
    return { hasState: a.state !== undefined, state: a.state === undefined ? undefined : decodeValue(a.state), entries };
  }

  get size(): number {
    return this.actors.size;
  }

  /**
   * The changes that recreate everything live, one record's worth at a time: per actor its whole
   * state and its entries, split so that no record passes `maxRecordBytes` (each value alone fit
   * when it was written).
   */
  *records(maxRecordBytes: number): Generator<[actor: string, ops: SerializedOp[]]> {
    for (const [actor, a] of this.actors) {
      const base = 64 + Buffer.byteLength(actor);
      let ops: SerializedOp[] = [];
      let bytes = base;
      for (const [op, size] of liveOps(a)) {
        if (ops.length > 0 && bytes + size > maxRecordBytes) {
          yield [actor, ops];
          ops = [];
          bytes = base;
        }
        ops.push(op);
        bytes += size;
      }
      if (ops.length > 0) yield [actor, ops];
    }
  }

  /** The records of {@link records}, encoded. */
  snapshot(maxRecordBytes: number): Buffer[] {
    const out: Buffer[] = [];
    for (const [actor, ops] of this.records(maxRecordBytes)) out.push(encodeRecord(RecordKind.Changes, actor, ops, Number.MAX_SAFE_INTEGER));
    return out;
  }
}

/** An actor's live ops (its whole state, then its entries), each with about the bytes it takes in a record. */
function* liveOps(a: LiveActor): Generator<[SerializedOp, number]> {
  if (a.state !== undefined) yield [{ key: null, value: a.state }, 16 + encodedBytes(a.state)];
  for (const [key, value] of a.entries) yield [{ key, value }, 16 + (typeof key === 'string' ? Buffer.byteLength(key) : 8) + encodedBytes(value)];
}
