import {
  checkSnapshotId,
  type BackendWriter,
  type SnapshotBackend,
  type SnapshotOwner,
  type SnapshotReader,
  type SnapshotStore,
  type SnapshotWriter,
} from './snapshots.js';

/** What the snapshots of an actor need of its cell (the cell implements it). */
export interface SnapshotCell {
  readonly storeKey: string;
  readonly status: string;
  /** The envelope being handled, or null outside a turn. */
  readonly current: unknown;
  /** Write number of the actor's last durable change: its messages wait for it. */
  lastTicket: number;
  readonly host: { endOutsideTurn(cell: any): void };
}

/**
 * `ctx.snapshots` of one actor incarnation: the host's snapshot backend of the actor's storage
 * kind, seen under the actor's name, tied to the actor's turns. A finish makes the turn's (and
 * later turns') messages wait for the snapshot's write number, as a persist does; deletes of
 * finished snapshots wait for the end of the turn, after its persisted state.
 */
export class ActorSnapshots implements SnapshotStore, SnapshotOwner {
  /** Finished snapshots deleted in the current turn: hidden now, removed when the turn ends. */
  private deletes: string[] = [];
  private readonly writers = new Set<BackendWriter>();
  private readonly actor: string;

  constructor(
    private readonly cell: SnapshotCell,
    private readonly backend: SnapshotBackend,
  ) {
    this.actor = cell.storeKey;
    backend.attach(this.actor, this);
  }

  get alive(): boolean {
    return this.cell.status === 'running';
  }

  create(id: string): SnapshotWriter {
    checkSnapshotId(id, 'ctx.snapshots.create');
    for (const old of this.writers) if (!old.open) this.writers.delete(old);
    const w = this.backend.create(this.actor, id, this);
    this.writers.add(w);
    return new ActorSnapshotWriter(this, w);
  }

  open(id: string): SnapshotReader | undefined {
    checkSnapshotId(id, 'ctx.snapshots.open');
    if (this.deletes.length > 0 && this.deletes.includes(id)) return undefined;
    return this.backend.open(this.actor, id);
  }

  list(): string[] {
    const ids = this.backend.list(this.actor);
    return this.deletes.length === 0 ? ids : ids.filter((id) => !this.deletes.includes(id));
  }

  delete(id: string): void {
    checkSnapshotId(id, 'ctx.snapshots.delete');
    this.backend.discard(this.actor, id);
    if (!this.deletes.includes(id)) this.deletes.push(id);
    if (this.cell.current === null) this.cell.host.endOutsideTurn(this.cell);
  }

  /** Whether the turn has deletes to apply. */
  get pendingDeletes(): boolean {
    return this.deletes.length > 0;
  }

  /** At the end of a turn, after its persisted state was written: removes what it deleted. */
  applyDeletes(): void {
    const ids = this.deletes;
    this.deletes = [];
    for (const id of ids) {
      const t = this.backend.delete(this.actor, id);
      if (t > this.cell.lastTicket) this.cell.lastTicket = t;
    }
  }

  /** The turn failed: its deletes do not happen. */
  dropTurn(): void {
    this.deletes.length = 0;
  }

  /** The incarnation ended (crash, stop): its unfinished snapshots can never be finished. */
  end(): void {
    this.deletes.length = 0;
    for (const w of this.writers) w.abort();
    this.writers.clear();
  }

  /** A writer finished: messages of this turn and later ones wait for it to be durable. */
  finished(w: BackendWriter, ticket: number): void {
    this.writers.delete(w);
    const i = this.deletes.indexOf(w.id);
    if (i >= 0) this.deletes.splice(i, 1); // the new snapshot replaces the deleted one
    if (ticket > this.cell.lastTicket) this.cell.lastTicket = ticket;
    if (this.cell.current === null) this.cell.host.endOutsideTurn(this.cell);
  }

  forget(w: BackendWriter): void {
    this.writers.delete(w);
  }
}

/**
 * What `create` returns. Its internals sit in private fields, so an actor state holding a writer
 * still clones (for inspection) as plain data: `{ id }`.
 */
class ActorSnapshotWriter implements SnapshotWriter {
  readonly #view: ActorSnapshots;
  readonly #w: BackendWriter;
  readonly id: string;

  constructor(view: ActorSnapshots, w: BackendWriter) {
    this.#view = view;
    this.#w = w;
    this.id = w.id;
  }

  get bytes(): number {
    return this.#w.bytes;
  }
  get chunks(): number {
    return this.#w.chunks;
  }

  append(chunk: Uint8Array): void {
    try {
      this.#w.append(chunk);
    } finally {
      if (!this.#w.open) this.#view.forget(this.#w);
    }
  }

  reserve(n: number): Uint8Array | null {
    return this.#w.reserve(n);
  }

  finish(meta: Uint8Array): void {
    let ticket: number;
    try {
      ticket = this.#w.finish(meta);
    } catch (e) {
      if (!this.#w.open) this.#view.forget(this.#w);
      throw e;
    }
    this.#view.finished(this.#w, ticket);
  }

  abort(): void {
    this.#w.abort();
    this.#view.forget(this.#w);
  }
}
