/**
 * The directory of a runtime (an actor system, a simulation): every live actor by ref and by name,
 * in start order, with its supervisor; names reserved by spawns in progress; and tombstones of
 * actors that ended, so a late send to one is refused as `ActorNotFoundError` rather than lost.
 */
import type { ActorChildSpec, Supervisor } from './supervisor.js';
import { DuplicateNameError, assert } from './errors.js';
import { refKey, type ActorRef } from './ref.js';

/** What a runtime knows of one live actor. */
export interface ActorRecord {
  readonly ref: ActorRef<any>;
  /** The actor that spawned it with `ctx.spawn`; null for actors started by a supervisor. */
  readonly parent: ActorRef<any> | null;
  /** Start order: actors stop in reverse. */
  readonly order: number;
  /** The supervisor of a top-level actor (null for children spawned by actors). */
  readonly supervisor: Supervisor | null;
  readonly spec: ActorChildSpec | null;
  /** How many times its supervisor restarted it. Only grows. */
  incarnation: number;
}

/** Bounds of a directory. */
export interface DirectoryLimits {
  /** Ended actors remembered (oldest forgotten first). Default 100 000. */
  maxTombstones: number;
}

export class ActorDirectory {
  private readonly byKey = new Map<number, ActorRecord>();
  private readonly byName = new Map<string, ActorRecord>();
  private readonly reserved = new Set<string>();
  private readonly tombstones = new Set<number>();
  private order = 0;

  constructor(private readonly limits: DirectoryLimits = { maxTombstones: 100_000 }) {}

  /** Live actors by ref key (read only). */
  get records(): ReadonlyMap<number, ActorRecord> {
    return this.byKey;
  }

  /** Live actors by name (read only). */
  get names(): ReadonlyMap<string, ActorRecord> {
    return this.byName;
  }

  get(ref: { node: number; id: number }): ActorRecord | undefined {
    return this.byKey.get(refKey(ref.node, ref.id));
  }

  byNameOf(name: string): ActorRecord | undefined {
    return this.byName.get(name);
  }

  /** Whether the name is taken by a live actor or a spawn in progress. */
  taken(name: string): boolean {
    return this.byName.has(name) || this.reserved.has(name);
  }

  /** Holds a name for a spawn in progress; `DuplicateNameError` when it is taken. */
  reserve(name: string, op = 'spawn'): void {
    if (this.taken(name)) throw new DuplicateNameError(`${op}: an actor named "${name}" is already running; names must be unique`);
    this.reserved.add(name);
  }

  release(name: string): void {
    this.reserved.delete(name);
  }

  /** Whether this ref names an actor that ended (and is remembered). */
  ended(ref: { node: number; id: number }): boolean {
    return this.tombstones.has(refKey(ref.node, ref.id));
  }

  /** Adds a live actor; undefined when it is known already (a record is made once per ref). */
  add(
    ref: ActorRef<any>,
    parent: ActorRef<any> | null,
    supervisor: Supervisor | null,
    spec: ActorChildSpec | null,
    incarnation: number,
  ): ActorRecord | undefined {
    const key = refKey(ref.node, ref.id);
    if (this.byKey.has(key)) return undefined;
    const rec: ActorRecord = { ref, parent, supervisor, spec, incarnation, order: this.order++ };
    this.byKey.set(key, rec);
    this.byName.set(ref.name, rec);
    this.tombstones.delete(key);
    return rec;
  }

  /** A restart of a known actor: its incarnation, which only grows. */
  restarted(rec: ActorRecord, incarnation: number): void {
    assert(incarnation >= rec.incarnation, () => `the incarnation of "${rec.ref.name}" went back from ${rec.incarnation} to ${incarnation}`);
    rec.incarnation = incarnation;
  }

  /** Removes an actor that ended for good; its record, or undefined when it was not live. */
  remove(ref: { node: number; id: number }): ActorRecord | undefined {
    const key = refKey(ref.node, ref.id);
    const rec = this.byKey.get(key);
    if (rec === undefined) return undefined;
    this.byKey.delete(key);
    if (this.byName.get(rec.ref.name) === rec) this.byName.delete(rec.ref.name);
    this.tombstones.add(key);
    if (this.tombstones.size > this.limits.maxTombstones) this.tombstones.delete(this.tombstones.values().next().value!);
    return rec;
  }

  /** Every live actor, in start order. */
  inOrder(): ActorRecord[] {
    return [...this.byKey.values()].sort((a, b) => a.order - b.order);
  }

  /** The live actors on one node, in start order. */
  onNode(node: number): ActorRecord[] {
    return this.inOrder().filter((r) => r.ref.node === node);
  }
}
