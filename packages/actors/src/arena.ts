import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { alignedStart, copySharedBytes } from './shared-copy.js';

/**
 * Shared arenas: where large byte values (Uint8Arrays in messages: command bytes, slot batches)
 * live while they cross threads, so they are copied once, not once per hop.
 *
 * Each host owns one arena (a SharedArrayBuffer made by the main thread, replaced when its
 * worker restarts) and is the only one to allocate in it: a buddy allocator over blocks of
 * `minBlockBytes` and up, its bookkeeping local to the owner. A value put in an arena travels
 * as a reference (arena, block, offset, length); the receiver gets a view of the shared memory,
 * no copy, and forwarding that view sends the reference again.
 *
 * Reclamation: every block has a reference count in the shared memory. A record in a ring that
 * refers to a block holds one; a view handed to an actor holds one, released when the view is
 * garbage collected (a FinalizationRegistry), so nothing is reused while any actor, store or
 * message still holds it, and protocol code needs no release calls. A count reaching zero on
 * another thread pushes the block onto the owner's lock-free "freed" stack (in the arena); the
 * owner takes the whole stack with one exchange before it allocates. A full arena is no error:
 * the value is copied inline instead.
 *
 * Views are plain Uint8Arrays whose `subarray` also holds the block (a view built by hand over
 * `.buffer` would not: derive views with `subarray`, or copy with `slice`). Bytes in an arena are
 * shared by everyone holding them: treat received bytes as immutable (messages are).
 */

const HEAD = 0; // Int32 index: top of the freed stack (-1: empty)
const MAGIC = 1;
const DATA_LOG2 = 2;
const MIN_LOG2 = 3;
const PRESSURE = 4; // 1 while the owner is short of room (see ArenaTable.maybeCollect)
const ARENA_MAGIC = 0x41524e31; // "ARN1"
const HEADER_BYTES = 64;
const EMPTY = -1;

export const MIN_ARENA_BYTES = 64 * 1024;
export const MAX_ARENA_BYTES = 1 << 30;

function log2(n: number): number {
  return 31 - Math.clz32(n);
}

/** The order of the smallest power of two of blocks that holds a run of `n` blocks. */
function orderOfRun(n: number): number {
  return log2(n * 2 - 1);
}

/**
 * A new arena of `dataBytes` (a power of two) in blocks of `minBlockBytes` and up (a power of
 * two, at least 64).
 */
export function createArena(dataBytes: number, minBlockBytes: number): SharedArrayBuffer {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(dataBytes) || dataBytes < MIN_ARENA_BYTES || dataBytes > MAX_ARENA_BYTES) {
    throw new RangeError(`an arena's size must be a power of two from ${MIN_ARENA_BYTES} to ${MAX_ARENA_BYTES} bytes, got ${dataBytes}`);
  }
  if (!pow2(minBlockBytes) || minBlockBytes < 64 || minBlockBytes > dataBytes / 4) {
    throw new RangeError(`an arena's smallest block must be a power of two from 64 bytes to a quarter of the arena, got ${minBlockBytes}`);
  }
  const blocks = dataBytes / minBlockBytes;
  const sab = new SharedArrayBuffer(dataOffset(blocks) + dataBytes);
  const h = new Int32Array(sab, 0, HEADER_BYTES >> 2);
  h[HEAD] = EMPTY;
  h[MAGIC] = ARENA_MAGIC;
  h[DATA_LOG2] = log2(dataBytes);
  h[MIN_LOG2] = log2(minBlockBytes);
  return sab;
}

/** Where the data starts: after the header, a reference count per block and a next link per block. */
function dataOffset(blocks: number): number {
  return (HEADER_BYTES + 8 * blocks + 63) & ~63;
}

/** One thread's handle on an arena (any arena, owned here or not). */
export class Arena {
  readonly header: Int32Array;
  /** Reference count per block (by the index of its first minimal block). */
  readonly counts: Int32Array;
  /** Next link of the freed stack, per block. */
  readonly links: Int32Array;
  readonly dataBytes: number;
  readonly minBlockBytes: number;
  readonly blocks: number;
  readonly dataStart: number;
  /** The owner's allocator, on the owning thread only. */
  allocator: ArenaAllocator | null = null;

  constructor(
    readonly id: number,
    readonly buffer: SharedArrayBuffer,
  ) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES >> 2);
    if (this.header[MAGIC] !== ARENA_MAGIC) throw new TypeError('not an arena buffer (see createArena)');
    this.dataBytes = 2 ** this.header[DATA_LOG2]!;
    this.minBlockBytes = 2 ** this.header[MIN_LOG2]!;
    this.blocks = this.dataBytes / this.minBlockBytes;
    this.counts = new Int32Array(buffer, HEADER_BYTES, this.blocks);
    this.links = new Int32Array(buffer, HEADER_BYTES + 4 * this.blocks, this.blocks);
    this.dataStart = dataOffset(this.blocks);
  }

  /** Where block `block`'s bytes start in the buffer. */
  blockStart(block: number): number {
    return this.dataStart + block * this.minBlockBytes;
  }

  retain(block: number): void {
    Atomics.add(this.counts, block, 1);
  }

  /** Drops one reference; the last one frees the block (here if this thread owns it, else via the owner's freed stack). */
  release(block: number): void {
    const before = Atomics.sub(this.counts, block, 1);
    if (before !== 1) {
      if (before < 1) throw new Error(`arena ${this.id}: block ${block} released more often than held`);
      return;
    }
    if (this.allocator !== null) {
      this.allocator.free(block);
      return;
    }
    const h = this.header;
    for (;;) {
      const top = Atomics.load(h, HEAD);
      Atomics.store(this.links, block, top);
      if (Atomics.compareExchange(h, HEAD, top, block) === top) return;
    }
  }

  /** The blocks freed on other threads since the last call (the owner's side of the stack). */
  takeFreed(): number {
    return Atomics.exchange(this.header, HEAD, EMPTY);
  }
}

/**
 * A buddy allocator over an arena's blocks, run by its owner alone: runs of `minBlockBytes`
 * blocks, cut from a block of a power of two of them, split on demand, merged with their buddy when
 * both are free. A run keeps only the blocks it needs: the rest of its power of two is free at once
 * (as buddies of decreasing size), so a value just past a power of two (64 KiB and a request's
 * header) takes about its size, not twice it.
 */
export class ArenaAllocator {
  private readonly maxOrder: number;
  /** Free block starts, per order. */
  private readonly freeLists: Set<number>[] = [];
  /** Order of the free block starting at a block index, or -1. */
  private readonly freeOrder: Int8Array;
  /** Blocks of the run allocated at a block index, or 0. */
  private readonly allocBlocks: Int32Array;
  /** Bytes allocated now (whole blocks). */
  usedBytes = 0;

  constructor(readonly arena: Arena) {
    this.maxOrder = log2(arena.blocks);
    for (let o = 0; o <= this.maxOrder; o++) this.freeLists.push(new Set());
    this.freeOrder = new Int8Array(arena.blocks).fill(-1);
    this.allocBlocks = new Int32Array(arena.blocks);
    this.freeLists[this.maxOrder]!.add(0);
    this.freeOrder[0] = this.maxOrder;
    arena.allocator = this;
  }

  private blocksFor(bytes: number): number {
    return Math.max(1, Math.ceil(bytes / this.arena.minBlockBytes));
  }

  /** The power of two (of blocks) a run of `bytes` is cut from: it needs a free block that large. */
  orderFor(bytes: number): number {
    return orderOfRun(this.blocksFor(bytes));
  }

  /**
   * A run of blocks of at least `bytes`, its count set to 1 (the caller's reference); -1 when
   * none is free (the caller copies the value inline instead).
   */
  alloc(bytes: number): number {
    const a = this.arena;
    if (bytes > a.dataBytes / 4) return -1;
    const n = this.blocksFor(bytes);
    const want = orderOfRun(n);
    this.reclaim();
    let o = want;
    while (o <= this.maxOrder && this.freeLists[o]!.size === 0) o++;
    if (o > this.maxOrder) {
      Atomics.store(a.header, PRESSURE, 1);
      return -1;
    }
    const block: number = this.freeLists[o]!.values().next().value!;
    this.take(block, o);
    // Split down to the size wanted: the upper halves become free buddies.
    while (o > want) {
      o--;
      this.put(block + (1 << o), o);
    }
    // Past the run, the rest of the block is free again: pieces of growing size, each aligned.
    for (let p = n, k = 0; p < 1 << want; k++) {
      if (p & (1 << k)) {
        this.put(block + p, k);
        p += 1 << k;
      }
    }
    this.allocBlocks[block] = n;
    this.usedBytes += n * a.minBlockBytes;
    Atomics.store(a.counts, block, 1);
    this.signal();
    return block;
  }

  /** Tells the threads holding views whether this arena is short of room (over three quarters used). */
  private signal(): void {
    const short = this.usedBytes * 4 > this.arena.dataBytes * 3 ? 1 : 0;
    if (this.arena.header[PRESSURE] !== short) Atomics.store(this.arena.header, PRESSURE, short);
  }

  /** Frees a run whose count reached zero, merging its pieces with free buddies. */
  free(block: number): void {
    const n = this.allocBlocks[block]!;
    if (n === 0) throw new Error(`arena ${this.arena.id}: block ${block} freed but not allocated`);
    this.allocBlocks[block] = 0;
    this.usedBytes -= n * this.arena.minBlockBytes;
    // The run as pieces of decreasing size from its start, each aligned to its size (the run
    // starts at a multiple of the power of two it was cut from).
    let p = block;
    for (let o = log2(n); o >= 0; o--) {
      if (n & (1 << o)) {
        this.freePiece(p, o);
        p += 1 << o;
      }
    }
  }

  private freePiece(block: number, order: number): void {
    let b = block;
    let o = order;
    while (o < this.maxOrder) {
      const buddy = b ^ (1 << o);
      if (this.freeOrder[buddy] !== o) break;
      this.take(buddy, o);
      b = Math.min(b, buddy);
      o++;
    }
    this.put(b, o);
  }

  /** Frees what other threads released (the arena's freed stack). */
  reclaim(): void {
    const a = this.arena;
    let top = a.takeFreed();
    if (top === EMPTY) return;
    while (top !== EMPTY) {
      const next = Atomics.load(a.links, top);
      this.free(top);
      top = next;
    }
    this.signal();
  }

  private take(block: number, order: number): void {
    this.freeLists[order]!.delete(block);
    this.freeOrder[block] = -1;
  }

  private put(block: number, order: number): void {
    this.freeLists[order]!.add(block);
    this.freeOrder[block] = order;
  }
}

/**
 * A full garbage collection, for {@link ArenaTable.maybeCollect}: views are small objects, so the
 * heap rarely grows enough for V8 to collect them by itself (and only a full collection runs
 * finalizers), while the arena memory they hold is outside its view. `gc` is exposed through
 * V8's flag for new contexts. Null where that is not possible.
 */
let collect: (() => void) | null | undefined;
function fullCollection(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    collect = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    collect = null;
  }
  return collect;
}

/** Releases a view's block when the view is garbage collected: `arena id * 2^21 + block`. */
const TOKEN_BLOCKS = 2 ** 21;

/** What a view of arena memory holds: its arena and block. */
interface Hold {
  arena: Arena;
  block: number;
}
const holds = new WeakMap<Uint8Array, Hold>();

/**
 * `subarray` of an arena view: another view that holds the block too (set on each view as an own,
 * non-enumerable property, so views stay plain Uint8Arrays for equality checks and encoders).
 */
function holdingSubarray(this: Uint8Array, begin?: number, end?: number): Uint8Array {
  const s = Uint8Array.prototype.subarray.call(this, begin, end);
  const h = holds.get(this);
  if (h === undefined) return s;
  h.arena.retain(h.block);
  return holdView(h.arena, h.block, s.byteOffset, s.length);
}

/** Whether `b` is a view of arena memory that holds its block (a value received by reference). */
export function isArenaView(b: Uint8Array): boolean {
  return holds.has(b);
}

let registry: FinalizationRegistry<number> | null = null;
/** The arenas this thread knows, by id (ids are unique in the process: see {@link newArenaId}). */
const arenasById = new Map<number, Arena>();
let lastArenaId = 0;

/** A fresh arena id; arenas are made on the main thread only, so ids are unique across the process. */
export function newArenaId(): number {
  lastArenaId = lastArenaId >= 0x7fff_ffff ? 1 : lastArenaId + 1;
  return lastArenaId;
}

/** Bytes of arena views this thread made since its last collection (see maybeCollect). */
let viewBytes = 0;

function holdView(arena: Arena, block: number, byteOffset: number, length: number): Uint8Array {
  viewBytes += length;
  const v = new Uint8Array(arena.buffer, byteOffset, length);
  holds.set(v, { arena, block });
  Object.defineProperty(v, 'subarray', { value: holdingSubarray, writable: true, configurable: true, enumerable: false });
  registry ??= new FinalizationRegistry<number>((token) => {
    const a = arenasById.get(Math.floor(token / TOKEN_BLOCKS));
    a?.release(token % TOKEN_BLOCKS);
  });
  registry.register(v, arena.id * TOKEN_BLOCKS + block);
  return v;
}

/** An arena as handed to a host: its id and its memory. */
export interface ArenaRef {
  id: number;
  buffer: SharedArrayBuffer;
}

/** Retired arenas a host keeps readable (records to it may still be in flight), oldest dropped first. */
const MAX_RETIRED = 16;

/** What a host's arenas have done (statistics). */
export interface ArenaStats {
  /** Values placed in this host's arena (copied once, then passed by reference). */
  placed: number;
  /** Arena views sent on by reference (no copy). */
  forwarded: number;
  /** Large values copied inline because this host's arena was full. */
  fullFallbacks: number;
  /** Bytes of this host's arena in use now. */
  usedBytes: number;
  /** Collections this thread ran to free arena memory (see ArenaTable.maybeCollect). */
  collections: number;
  /** Arrays handed out to be filled in place (see ArenaTable.allocate): never copied into the arena. */
  allocated: number;
}

/**
 * The arenas a host knows (its own, to allocate in, and every other live host's, to read and
 * forward), and how large values are written and read through them by the ring transport's
 * WireWriter and WireReader.
 */
export class ArenaTable {
  private readonly own: ArenaAllocator;
  /** Arenas whose owner died: still readable, no longer referenced in new records. */
  private readonly retired = new Set<number>();
  readonly stats: ArenaStats = { placed: 0, forwarded: 0, fullFallbacks: 0, usedBytes: 0, collections: 0, allocated: 0 };

  private readonly known = new Set<number>();
  /**
   * Values placed in this host's arena since the last flush, and where (their block is the one
   * holding that offset): the same array sent to several hosts (a broadcast) is copied once and
   * referred to by every record.
   */
  private readonly placedInFlush = new Map<Uint8Array, number>();

  /** The transport published what it wrote: records from now on place their values again. */
  flushed(): void {
    if (this.placedInFlush.size > 0) this.placedInFlush.clear();
  }

  /** `minBytes`: values this large or larger go into the arena; smaller ones are copied inline. */
  constructor(
    own: ArenaRef,
    readonly minBytes: number,
  ) {
    const a = new Arena(own.id, own.buffer);
    arenasById.set(a.id, a);
    this.known.add(a.id);
    this.own = new ArenaAllocator(a);
  }

  /** Learns another host's arena (idempotent). */
  add(ref: ArenaRef): void {
    if (arenasById.has(ref.id)) return;
    arenasById.set(ref.id, new Arena(ref.id, ref.buffer));
    this.known.add(ref.id);
  }

  /** Its owner died: read what still refers to it, but refer to it no more (a host that joins later does not know it). */
  retire(id: number): void {
    if (id === this.own.arena.id || !this.known.has(id) || this.retired.has(id)) return;
    this.retired.add(id);
    if (this.retired.size > MAX_RETIRED) {
      const oldest = this.retired.values().next().value!;
      this.retired.delete(oldest);
      this.forget(oldest);
    }
  }

  /** This host is done: its arenas are forgotten (views still alive keep their memory). */
  close(): void {
    for (const id of this.known) arenasById.delete(id);
    this.known.clear();
  }

  private forget(id: number): void {
    arenasById.delete(id);
    this.known.delete(id);
  }

  /**
   * A view of `n` bytes of this host's arena (not zeroed) for the caller to fill and then send:
   * every record of it refers to its block, none copies it. Null below `minBytes` (inline is
   * cheaper) or when the arena is full.
   */
  allocate(n: number): Uint8Array | null {
    if (n < this.minBytes) return null;
    const own = this.own;
    const block = own.alloc(n);
    // Full: the caller gets a plain array, and its sends count as fallbacks if it still is.
    if (block < 0) return null;
    this.stats.allocated++;
    return holdView(own.arena, block, own.arena.blockStart(block), n);
  }

  /**
   * Writes `b` for the wire: `u8 0 | uvar length | bytes` inline, or `u8 1 | u32 arena |
   * u32 block | u32 offset | uvar length` by reference (placing it in this host's arena first
   * unless it is already in a live arena). The reference is held for the record.
   */
  write(w: { u8(v: number): void; u32(v: number): void; uvar(v: number): void; inline(b: Uint8Array): void }, b: Uint8Array): void {
    const n = b.length;
    const h = n >= 64 ? holds.get(b) : undefined;
    if (h !== undefined && !this.retired.has(h.arena.id) && arenasById.get(h.arena.id) === h.arena) {
      h.arena.retain(h.block);
      this.stats.forwarded++;
      this.ref(w, h.arena, h.block, b.byteOffset, n);
      return;
    }
    if (n >= this.minBytes) {
      const own = this.own;
      const placedAt = this.placedInFlush.get(b);
      if (placedAt !== undefined) {
        // Sent again before the flush (a broadcast): the block cannot have been released yet,
        // since no reader sees a record before the flush publishes it.
        const block = Math.floor((placedAt - own.arena.dataStart) / own.arena.minBlockBytes);
        own.arena.retain(block);
        this.stats.forwarded++;
        this.ref(w, own.arena, block, placedAt, n);
        return;
      }
      // At the value's own alignment modulo 8 (a copy into shared memory is word by word only then:
      // shared-copy.ts), unless the few bytes that takes would need a run cut from a block twice
      // the size (a value of exactly a power of two: half as many would fit).
      const a = own.arena;
      const shift = alignedStart(a.dataStart, b) - a.dataStart; // blocks start at multiples of 8 from dataStart
      const shifted = shift === 0 || own.orderFor(n + shift) === own.orderFor(n);
      const block = own.alloc(shifted ? n + shift : n);
      if (block >= 0) {
        const at = a.blockStart(block) + (shifted ? shift : 0);
        copySharedBytes(new Uint8Array(a.buffer, at, n), 0, b);
        this.stats.placed++;
        this.placedInFlush.set(b, at);
        this.ref(w, a, block, at, n);
        return;
      }
      this.stats.fullFallbacks++;
    }
    w.u8(0);
    w.inline(b);
  }

  private ref(w: { u8(v: number): void; u32(v: number): void; uvar(v: number): void }, a: Arena, block: number, byteOffset: number, n: number): void {
    w.u8(1);
    w.u32(a.id);
    w.u32(block);
    w.u32(byteOffset);
    w.uvar(n);
  }

  /** Reads a reference written by {@link write} (the mode byte already read): a view that holds the record's reference. */
  readRef(r: { u32(): number; uvar(): number }): Uint8Array {
    const id = r.u32();
    const block = r.u32();
    const byteOffset = r.u32();
    const n = r.uvar();
    const a = arenasById.get(id);
    if (a === undefined) throw new RangeError(`a record refers to arena ${id}, which this host does not know`);
    return holdView(a, block, byteOffset, n);
  }

  /** Frees what other threads released, and updates `stats.usedBytes`. */
  reclaim(): void {
    this.own.reclaim();
    this.stats.usedBytes = this.own.usedBytes;
  }

  private lastCollection = 0;

  /**
   * Reclamation waits for views to be garbage collected, and V8 may not collect for a long
   * time while a stream of large values fills an arena. So: when some arena is short of room
   * and this thread has made views of more than a sixteenth of an arena since its last
   * collection, it runs one, at most every `intervalMs` (0: never). Returns whether it did.
   * Called by worker run loops between turns (never inside one, and never on the main thread,
   * which is the user's). `--expose-gc` is set for the process the first time (V8's flags are
   * process-wide: new vm contexts then see `gc`).
   */
  maybeCollect(intervalMs: number): boolean {
    if (intervalMs <= 0 || viewBytes * 16 < this.own.arena.dataBytes) return false;
    let pressed = false;
    for (const id of this.known) {
      const a = arenasById.get(id);
      if (a !== undefined && Atomics.load(a.header, PRESSURE) === 1) {
        pressed = true;
        break;
      }
    }
    if (!pressed) return false;
    const now = performance.now();
    if (now - this.lastCollection < intervalMs) return false;
    const gc = fullCollection();
    if (gc === null) return false;
    this.lastCollection = now;
    viewBytes = 0;
    this.stats.collections++;
    gc();
    return true;
  }
}
