/**
 * How client commands sit in the replicated log, as bytes.
 *
 * A client writes its commands once, into a *request*: the bytes every replica will read.
 * The leader never looks inside a request: it concatenates whole requests into a slot's value
 * (a copy of bytes, no second encoder), and the replicas read them when they apply the slot.
 * Nothing transport-level is in the log: a command is named by its session (client id, session
 * number) and its sequence number, never by a reply address.
 *
 *   request := u8 REQUEST_FORMAT | string clientId | uvar sessions | (uvar sessionNo, uvar ack)*
 *              | uvar commands | (uvar sessionIndex, uvar seq, uvar length, command bytes)*
 *   slot    := u8 SLOT_FORMAT | uvar requests | (uvar length, request)*
 *            | request                      (a slot of one request is that request: no copy)
 *
 * `ack` is the session's acknowledged prefix: every command numbered up to it has its answer at
 * the client, so replicas may forget those results. A request's `length` in a slot may be padded
 * (a longer uvar of the same number) so that its bytes keep their alignment modulo 8: copies into
 * and out of shared memory are word by word only then (see `alignedRunPrefix`).
 */
import {
  WireWriter,
  alignedRunPrefix,
  copySharedBytes,
  maxAlignedRunBytes,
  putAlignedRun,
  putUvar,
  putUvarOf,
  uninitializedBytes,
  freshBytes,
  clearArray,
  setLength,
  uvarBytes,
} from '@synod/actors/internals';
import { ByteReader } from './byte-reader.js';

/** A plain view of any byte array (a Buffer's or shared memory's own `subarray` costs more). */
const plainSubarray = Uint8Array.prototype.subarray;

/** The command whose outcome is being reported, read where it lies in its slot. */
export interface CommandInSlot {
  /** A view of its bytes, made on demand (valid as long as the slot is). */
  readonly command: Uint8Array;
  readonly commandLength: number;
  /** A copy of its bytes, for what must outlive the slot. */
  copyCommand(): Uint8Array;
}

export const REQUEST_FORMAT = 1;
export const SLOT_FORMAT = 2;

/** `room`'s array, checked: the runs were laid out for an array at a multiple of 8 in its buffer. */
function roomAt8(room: (size: number) => Uint8Array, size: number): Uint8Array {
  const out = room(size);
  if ((out.byteOffset & 7) !== 0 || out.length !== size)
    throw new RangeError(`room(${size}) must return ${size} bytes starting at a multiple of 8 in their buffer`);
  return out;
}

/**
 * Commands this long or longer are kept by reference until the request is finished and copied
 * once, into it; shorter ones are copied into the writer as they come (then with the rest in one
 * copy): per command, keeping a reference costs more than copying a few dozen bytes twice.
 */
const MIN_REFERENCED_COMMAND_BYTES = 1024;
/** The longest uvar readers take (`ByteReader.uvar`). */
const MAX_UVAR_BYTES = 8;

/** Writes one request: commands of one or more sessions of one client. */
export class RequestWriter {
  private readonly body = new WireWriter(4096);
  private readonly head = new WireWriter(4096);
  private readonly sessions: number[] = [];
  private readonly acks: number[] = [];
  private readonly index = new Map<number, number>();
  private n = 0;
  /** Long commands not copied yet, and where in the body each goes (their bytes are not in it). */
  private readonly referenced: Uint8Array[] = [];
  private readonly referencedAt: number[] = [];
  private referencedBytes = 0;

  /** Commands added since the last `finish`. */
  get count(): number {
    return this.n;
  }
  /** Bytes of the commands added so far, with their framing (the request is a few bytes more). */
  get bytes(): number {
    return this.body.pos + this.referencedBytes;
  }

  /**
   * Adds a command of session `sessionNo` (whose acknowledged prefix is `ack`). A long command is
   * read at `finish`: it must not change before.
   */
  add(sessionNo: number, ack: number, seq: number, command: Uint8Array): void {
    let si = this.index.get(sessionNo);
    if (si === undefined) {
      si = this.sessions.length;
      this.index.set(sessionNo, si);
      this.sessions.push(sessionNo);
      this.acks.push(ack);
    } else if (ack > this.acks[si]!) {
      this.acks[si] = ack;
    }
    const w = this.body;
    w.uvar(si);
    if (command.length < MIN_REFERENCED_COMMAND_BYTES) {
      w.uvar(seq);
      w.inline(command);
    } else {
      // `finish` places the first long command at its source's alignment modulo 8 (in room); a
      // later one keeps its own, relative to the first, by padding its seq and length prefixes
      // (longer encodings of the same numbers, which every uvar reader takes: see alignedRunPrefix).
      const seqBytes = uvarBytes(seq);
      const lengthBytes = uvarBytes(command.length);
      let pad = 0;
      if (this.referenced.length > 0) {
        // Its place in the request: its place in the body, plus the long commands before it.
        const at = w.pos + seqBytes + lengthBytes + this.referencedBytes - this.referencedAt[0]!;
        pad = (command.byteOffset - this.referenced[0]!.byteOffset - at) & 7;
      }
      // The length prefix takes what padding it can; the seq prefix the rest (none past 8 bytes).
      let seqPad = Math.max(0, pad - (MAX_UVAR_BYTES - lengthBytes));
      if (seqBytes + seqPad > MAX_UVAR_BYTES) pad = seqPad = 0;
      w.ensure(2 * MAX_UVAR_BYTES);
      w.pos = putUvarOf(w.buf, w.pos, seq, seqBytes + seqPad);
      w.pos = putUvarOf(w.buf, w.pos, command.length, lengthBytes + pad - seqPad);
      this.referenced.push(command);
      this.referencedAt.push(w.pos);
      this.referencedBytes += command.length;
    }
    this.n++;
  }

  /**
   * The request for `clientId`, and starts over. It is a fresh array, or, when it holds a long
   * command and `room` is given (a client actor's `ctx.sharedBytes`), room in the thread's shared
   * arena: then no thread copies it again on its way to the acceptors and replicas, and the first
   * long command lands at its source's alignment modulo 8, so copying it in goes word by word.
   */
  finish(clientId: string, room?: (size: number) => Uint8Array): Uint8Array {
    const o = this.head;
    o.pos = 0;
    o.u8(REQUEST_FORMAT);
    o.string(clientId);
    o.uvar(this.sessions.length);
    for (let i = 0; i < this.sessions.length; i++) {
      o.uvar(this.sessions[i]!);
      o.uvar(this.acks[i]!);
    }
    o.uvar(this.n);
    const body = this.body.buf;
    const n = o.pos + this.body.pos + this.referencedBytes;
    // A request lives until its slot is cut: a small one may share a slab (see freshBytes).
    let bytes: Uint8Array;
    if (room !== undefined && this.referenced.length > 0) {
      const space = room(n + 7);
      const shift = (this.referenced[0]!.byteOffset - (space.byteOffset + o.pos + this.referencedAt[0]!)) & 7;
      // `subarray`, not the plain one: an arena view's own keeps its block held (see @synod/actors arena.ts).
      bytes = space.subarray(shift, shift + n);
    } else {
      bytes = freshBytes(n);
    }
    bytes.set(plainSubarray.call(o.buf, 0, o.pos), 0);
    // The body, with each long command copied in where it goes.
    let p = o.pos;
    let from = 0;
    for (let i = 0; i < this.referenced.length; i++) {
      const at = this.referencedAt[i]!;
      bytes.set(plainSubarray.call(body, from, at), p);
      p += at - from;
      copySharedBytes(bytes, p, this.referenced[i]!);
      p += this.referenced[i]!.length;
      from = at;
    }
    bytes.set(plainSubarray.call(body, from, this.body.pos), p);
    this.body.pos = 0;
    clearArray(this.sessions);
    clearArray(this.acks);
    this.index.clear();
    this.n = 0;
    clearArray(this.referenced);
    clearArray(this.referencedAt);
    this.referencedBytes = 0;
    return bytes;
  }
}

/**
 * Concatenates whole requests into one slot value (the leader's side: no request is read). The
 * requests are kept by reference until `finish`, which copies each once, into the slot.
 */
export class SlotBuilder {
  private readonly requests: Uint8Array[] = [];
  private readonly prefixes: number[] = [];
  private bodyBytes = 0;
  /** Commands in the requests added so far (as their senders counted them). */
  commands = 0;

  get count(): number {
    return this.requests.length;
  }
  /** At most this many bytes of the slot so far. */
  get bytes(): number {
    return this.bodyBytes;
  }

  /** Adds a request of `commands` commands (read at `finish`: it must not change before). */
  add(request: Uint8Array, commands: number): void {
    this.requests.push(request);
    this.bodyBytes += maxAlignedRunBytes(request.length);
    this.commands += commands;
  }

  /**
   * The slot value, and starts over. A slot of one request is the request itself; others are
   * written into `room(size)`: a fresh array by default, or
   * a leader's `ctx.sharedBytes`, which every send of the slot (to acceptors, then replicas) refers
   * to. Each request lands at its own alignment modulo 8, so copying it in is word by word.
   */
  finish(room: (size: number) => Uint8Array = uninitializedBytes): Uint8Array {
    const requests = this.requests;
    const prefixes = this.prefixes;
    const n = requests.length;
    if (n === 1) {
      // A slot of one request is that request (its first byte, REQUEST_FORMAT, says so): nothing
      // is copied, and a request in an arena stays there, every send referring to it (a slot of
      // one large value had been copied once more, on the leader's thread).
      const only = requests[0]!;
      this.reset();
      return only;
    }
    let p = 1 + uvarBytes(n);
    for (let i = 0; i < n; i++) {
      const prefix = alignedRunPrefix(p, requests[i]!);
      prefixes[i] = prefix;
      p += prefix + requests[i]!.length;
    }
    const size = p;
    const out = roomAt8(room, size);
    out[0] = SLOT_FORMAT;
    p = putUvar(out, 1, n);
    for (let i = 0; i < n; i++) p = putAlignedRun(out, p, requests[i]!, prefixes[i]!);
    if (p !== size) throw new Error(`slot builder: wrote ${p} of ${size} bytes`); // a bug in the sizes
    this.reset();
    return out;
  }

  private reset(): void {
    clearArray(this.requests);
    clearArray(this.prefixes);
    this.bodyBytes = 0;
    this.commands = 0;
  }
}

/** The bytes of a slot holding exactly these requests. */
export function slotOf(requests: readonly Uint8Array[]): Uint8Array {
  const b = new SlotBuilder();
  for (const r of requests) b.add(r, 0);
  return b.finish();
}

/**
 * Reads a slot: `nextRequest` moves to each request in turn (its client and sessions in the
 * fields), then `nextCommand` to each of its commands (`sessionIndex`, `seq`, and where its bytes
 * lie in the slot: `source[commandStart, commandEnd)`; `command` makes a view of them). A replica
 * reads every command of every slot: it makes no object per request or command.
 */
export class SlotReader implements CommandInSlot {
  private readonly slot = new ByteReader();
  private readonly req = new ByteReader();
  private requestsLeft = 0;
  private commandsLeft = 0;
  /** The slot is one request (see the format above). */
  private single = false;
  clientId = '';
  readonly sessionNos: number[] = [];
  readonly acks: number[] = [];
  /** Commands in the current request. */
  commandCount = 0;
  sessionIndex = 0;
  seq = 0;
  /** The slot's bytes: the current command is `source[commandStart, commandEnd)`. */
  source: Uint8Array = new Uint8Array(0);
  commandStart = 0;
  commandEnd = 0;

  /** The current command, as a view of the slot's bytes (valid as long as the slot is). */
  get command(): Uint8Array {
    return plainSubarray.call(this.source, this.commandStart, this.commandEnd);
  }

  get commandLength(): number {
    return this.commandEnd - this.commandStart;
  }

  copyCommand(): Uint8Array {
    // Not `source.slice`: a Buffer's slice is a view.
    const out = new Uint8Array(this.commandEnd - this.commandStart);
    out.set(this.command);
    return out;
  }

  /** Starts reading a slot value. Throws RangeError for bytes that are not one. */
  reset(slot: Uint8Array): this {
    const r = this.slot.reset(slot);
    this.source = slot;
    const format = r.u8();
    this.single = format === REQUEST_FORMAT;
    if (!this.single && format !== SLOT_FORMAT)
      throw new RangeError(`unknown slot format ${format} (this build reads formats ${SLOT_FORMAT} and ${REQUEST_FORMAT}, a slot of one request)`);
    this.requestsLeft = this.single ? 1 : r.uvar();
    this.commandsLeft = 0;
    return this;
  }

  nextRequest(): boolean {
    if (this.requestsLeft === 0) {
      if (!this.single && !this.slot.done) throw new RangeError('corrupt slot: bytes after its last request');
      return false;
    }
    this.requestsLeft--;
    let r: ByteReader;
    if (this.single) r = this.req.reset(this.source, 0, this.source.length);
    else {
      const n = this.slot.skipRun();
      r = this.req.reset(this.source, this.slot.runStart, this.slot.runStart + n);
    }
    const format = r.u8();
    if (format !== REQUEST_FORMAT) throw new RangeError(`unknown request format ${format} (this build reads format ${REQUEST_FORMAT})`);
    this.clientId = r.string();
    const sessions = r.uvar();
    if (sessions * 2 > r.end - r.pos) throw new RangeError(`corrupt request: ${sessions} sessions in ${r.end - r.pos} bytes`);
    setLength(this.sessionNos, sessions);
    setLength(this.acks, sessions);
    for (let i = 0; i < sessions; i++) {
      this.sessionNos[i] = r.uvar();
      this.acks[i] = r.uvar();
    }
    this.commandsLeft = r.uvar();
    this.commandCount = this.commandsLeft;
    return true;
  }

  nextCommand(): boolean {
    if (this.commandsLeft === 0) return false;
    this.commandsLeft--;
    const r = this.req;
    this.sessionIndex = r.uvar();
    if (this.sessionIndex >= this.sessionNos.length) throw new RangeError(`corrupt request: session index ${this.sessionIndex} of ${this.sessionNos.length}`);
    this.seq = r.uvar();
    const n = r.skipRun();
    this.commandStart = r.runStart;
    this.commandEnd = r.runStart + n;
    return true;
  }
}
