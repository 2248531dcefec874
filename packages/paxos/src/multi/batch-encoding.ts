/**
 * A slot's batch as bytes. Acceptors never look inside a slot value and the leader sends each one
 * to every acceptor and replica: encoding the batch once, at the leader, turns all those sends
 * into byte copies (instead of a structured clone of every command per destination), and only
 * the replicas decode it, once, when they apply it. Pure functions (no I/O).
 *
 * Format (version 1): `u8 1 | uvar clients | client strings | uvar refs | refs (name, node, id) |
 * uvar commands | per command: uvar client index, uvar seq, u8 flags, [uvar ref index, u32 corr],
 * [u8 origin], op (WireWriter.value)`. Session names and reply addresses repeat across a batch's
 * commands, so each is written once per batch.
 */
import { WireReader, WireWriter, type ActorRef } from '@synod/actors';
import type { Batch, Command, SlotValue } from './messages.js';

const FORMAT = 1;
const HAS_REPLY = 1;
const HAS_ORIGIN = 2;

/** Builds one batch's bytes command by command, so the leader can bound a batch by its encoded size. */
export class BatchEncoder {
  private readonly body = new WireWriter(64 * 1024);
  private readonly out = new WireWriter(64 * 1024);
  private readonly clients = new Map<string, number>();
  private readonly clientList: string[] = [];
  private readonly refs = new Map<string, number>();
  private readonly refList: ActorRef<any>[] = [];
  private n = 0;

  /** Commands added since the last `finish`. */
  get count(): number { return this.n; }
  /** Bytes of the commands added so far (without the tables). */
  get bytes(): number { return this.body.pos; }

  add(c: Command): void {
    const w = this.body;
    let ci = this.clients.get(c.client);
    if (ci === undefined) { ci = this.clientList.length; this.clients.set(c.client, ci); this.clientList.push(c.client); }
    w.uvar(ci);
    w.uvar(c.seq);
    w.u8((c.reply ? HAS_REPLY : 0) | (c.origin !== undefined ? HAS_ORIGIN : 0));
    if (c.reply) {
      const to = c.reply.to;
      const key = `${to.node}.${to.id}`;
      let ri = this.refs.get(key);
      if (ri === undefined) { ri = this.refList.length; this.refs.set(key, ri); this.refList.push(to); }
      w.uvar(ri);
      w.u32(c.reply.corr);
    }
    if (c.origin !== undefined) w.u8(c.origin);
    w.value(c.op);
    this.n++;
  }

  /** The batch of every command added since the last call (a fresh array), and starts over. */
  finish(): Uint8Array {
    const o = this.out;
    o.pos = 0;
    o.u8(FORMAT);
    o.uvar(this.clientList.length);
    for (const c of this.clientList) o.string(c);
    o.uvar(this.refList.length);
    for (const r of this.refList) { o.string(r.name); o.u16(r.node); o.u32(r.id); }
    o.uvar(this.n);
    o.ensure(this.body.pos);
    o.buf.set(this.body.buf.subarray(0, this.body.pos), o.pos);
    o.pos += this.body.pos;
    const bytes = o.buf.slice(0, o.pos);
    this.body.pos = 0;
    this.clients.clear();
    this.clientList.length = 0;
    this.refs.clear();
    this.refList.length = 0;
    this.n = 0;
    return bytes;
  }
}

const encoder = new BatchEncoder();

/** The batch as bytes (a fresh array, not a view on a shared pool). */
export function encodeBatch(commands: Command[]): Uint8Array {
  for (const c of commands) encoder.add(c);
  return encoder.finish();
}

const reader = new WireReader();

/** The commands of an encoded batch. */
export function decodeBatch(bytes: Uint8Array): Command[] {
  const r = reader;
  r.buf = bytes;
  r.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  r.pos = 0;
  const format = r.u8();
  if (format !== FORMAT) throw new RangeError(`unknown batch format ${format} (this build reads format ${FORMAT})`);
  const clients: string[] = new Array(r.uvar());
  for (let i = 0; i < clients.length; i++) clients[i] = r.string();
  const refs: ActorRef<any>[] = new Array(r.uvar());
  for (let i = 0; i < refs.length; i++) refs[i] = { name: r.string(), node: r.u16(), id: r.u32() };
  const n = r.uvar();
  const commands: Command[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const client = clients[r.uvar()]!;
    const seq = r.uvar();
    const flags = r.u8();
    const reply = flags & HAS_REPLY ? { to: refs[r.uvar()]!, corr: r.u32() } : undefined;
    const origin = flags & HAS_ORIGIN ? r.u8() : undefined;
    const c: Command = { client, seq, op: r.value() };
    if (reply) c.reply = reply;
    if (origin !== undefined) c.origin = origin;
    commands[i] = c;
  }
  return commands;
}

/** The batch of a slot value, decoding it if it travels as bytes; null for a no-op. */
export function batchOf(value: SlotValue): Batch | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return { commands: decodeBatch(value) };
  return value;
}
