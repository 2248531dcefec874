/** The actors of the transport benchmark, and the binary codec of their hot message. */
import { defineActor, defineCodecs, type ActorRef, type ReplyToken } from '@synod/actors';

export interface Accept {
  type: 'accept';
  ballot: number;
  slot: number;
  value: string;
}
export interface Ack {
  type: 'ack';
  upTo: number;
}

/** The hot message types of this benchmark, encoded as bytes between workers. */
export const transportCodecs = defineCodecs(import.meta.url, [
  {
    type: 'accept',
    encode: (m: Accept, w) => {
      w.u32(m.ballot);
      w.f64(m.slot);
      w.string(m.value);
    },
    decode: (r) => ({ type: 'accept', ballot: r.u32(), slot: r.f64(), value: r.string() }),
  },
  {
    type: 'ack',
    encode: (m: Ack, w) => {
      w.f64(m.upTo);
    },
    decode: (r) => ({ type: 'ack', upTo: r.f64() }),
  },
]);

/** Answers every message with the same message. */
export const Pong = defineActor<null, Accept>({
  module: import.meta.url,
  init: () => null,
  receive(_s, msg, ctx) {
    ctx.send(ctx.sender!, msg);
  },
});

type PingMsg = { type: 'run'; peer: ActorRef<Accept>; count: number } | Accept;
interface PingState {
  peer: ActorRef<Accept> | null;
  rtts: number[];
  count: number;
  t0: number;
  done: ReplyToken | undefined;
}

/** Times `count` round trips to a Pong; answers `run` with the round trip times in microseconds. */
export const Ping = defineActor<PingState, PingMsg>({
  module: import.meta.url,
  init: () => ({ peer: null, rtts: [], count: 0, t0: 0, done: undefined }),
  receive(s, msg, ctx) {
    if (msg.type === 'run') {
      s.peer = msg.peer;
      s.count = msg.count;
      s.rtts = [];
      s.done = ctx.replyToken();
      s.t0 = ctx.now();
      ctx.send(s.peer, { type: 'accept', ballot: 7, slot: 0, value: 'v' });
      return;
    }
    s.rtts.push((ctx.now() - s.t0) * 1000);
    if (s.rtts.length === s.count) {
      ctx.respond(s.done!, s.rtts);
      return;
    }
    s.t0 = ctx.now();
    ctx.send(s.peer!, { type: 'accept', ballot: 7, slot: s.rtts.length, value: 'v' });
  },
});

type SourceMsg = { type: 'run'; sink: ActorRef<Accept>; count: number; window: number; chunk: number } | Ack | { type: 'more' };
interface SourceState {
  sink: ActorRef<Accept> | null;
  count: number;
  sent: number;
  acked: number;
  window: number;
  chunk: number;
  done: ReplyToken | undefined;
}

/**
 * Sends `count` accept messages to a Sink as fast as flow control allows: at most `window`
 * unacknowledged, `chunk` per turn (a turn's sends leave as one batch).
 */
export const Source = defineActor<SourceState, SourceMsg>({
  module: import.meta.url,
  init: () => ({ sink: null, count: 0, sent: 0, acked: 0, window: 0, chunk: 0, done: undefined }),
  receive(s, msg, ctx) {
    if (msg.type === 'run') {
      Object.assign(s, { sink: msg.sink, count: msg.count, sent: 0, acked: 0, window: msg.window, chunk: msg.chunk, done: ctx.replyToken() });
    } else if (msg.type === 'ack') {
      s.acked = msg.upTo;
      if (s.acked === s.count) {
        ctx.respond(s.done!, s.count);
        return;
      }
    }
    const limit = Math.min(s.count, s.acked + s.window, s.sent + s.chunk);
    const sink = s.sink!;
    for (let i = s.sent; i < limit; i++) ctx.send(sink, { type: 'accept', ballot: 7, slot: i, value: 'v' });
    s.sent = limit;
    // More room in the window than one chunk: continue after the batch leaves.
    if (s.sent < Math.min(s.count, s.acked + s.window)) ctx.send(ctx.self, { type: 'more' });
  },
});

/** Counts accepts and acknowledges every `ackEvery` (and the last). */
export const Sink = defineActor<{ got: number; ackEvery: number; total: number }, Accept | { type: 'expect'; total: number; ackEvery: number }>({
  module: import.meta.url,
  init: () => ({ got: 0, ackEvery: 1, total: 0 }),
  receive(s, msg, ctx) {
    if (msg.type === 'expect') {
      s.got = 0;
      s.total = msg.total;
      s.ackEvery = msg.ackEvery;
      ctx.reply(true);
      return;
    }
    s.got++;
    if (s.got % s.ackEvery === 0 || s.got === s.total) ctx.send(ctx.sender!, { type: 'ack', upTo: s.got });
  },
});

/** A large value in flight: `bytes` travel as bytes (arenas with rings, copies with ports). */
export interface Chunk {
  type: 'chunk';
  seq: number;
  bytes: Uint8Array;
}

export const chunkCodecs = defineCodecs(import.meta.url, [
  {
    type: 'chunk',
    encode: (m: Chunk, w) => {
      w.u32(m.seq);
      w.bytes(m.bytes);
    },
    decode: (r) => ({ type: 'chunk', seq: r.u32(), bytes: r.bytes() }),
  },
]);

type ChunkSourceMsg = { type: 'run'; sink: ActorRef<Chunk>; count: number; size: number; window: number } | Ack;
interface ChunkSourceState {
  sink: ActorRef<Chunk> | null;
  count: number;
  sent: number;
  acked: number;
  window: number;
  value: Uint8Array;
  done: ReplyToken | undefined;
}

/** Sends `count` chunks of `size` bytes (a fresh array each, as an application would), at most `window` unacknowledged. */
export const ChunkSource = defineActor<ChunkSourceState, ChunkSourceMsg>({
  module: import.meta.url,
  init: () => ({ sink: null, count: 0, sent: 0, acked: 0, window: 0, value: new Uint8Array(0), done: undefined }),
  receive(s, msg, ctx) {
    if (msg.type === 'run') {
      Object.assign(s, { sink: msg.sink, count: msg.count, sent: 0, acked: 0, window: msg.window, done: ctx.replyToken() });
      s.value = new Uint8Array(msg.size).fill(7);
    } else {
      s.acked = msg.upTo;
      if (s.acked === s.count) {
        ctx.respond(s.done!, s.count);
        return;
      }
    }
    const limit = Math.min(s.count, s.acked + s.window);
    for (; s.sent < limit; s.sent++) ctx.send(s.sink!, { type: 'chunk', seq: s.sent, bytes: s.value.slice() });
  },
});

/** Counts chunks (reading every byte's sum of a sample, so a value is really touched) and acknowledges every `ackEvery`. */
export const ChunkSink = defineActor<
  { got: number; ackEvery: number; total: number; sum: number },
  Chunk | { type: 'expect'; total: number; ackEvery: number }
>({
  module: import.meta.url,
  init: () => ({ got: 0, ackEvery: 1, total: 0, sum: 0 }),
  receive(s, msg, ctx) {
    if (msg.type === 'expect') {
      s.got = 0;
      s.total = msg.total;
      s.ackEvery = msg.ackEvery;
      ctx.reply(true);
      return;
    }
    s.got++;
    s.sum += msg.bytes[msg.bytes.length - 1]!;
    if (s.got % s.ackEvery === 0 || s.got === s.total) ctx.send(ctx.sender!, { type: 'ack', upTo: s.got });
  },
});

type RelayMsg = Chunk | Ack | { type: 'route'; to: ActorRef<Chunk>; back: ActorRef<Ack> };

/** Passes chunks on to `to` (the same message, bytes and all) and acknowledgements back to `back`: a second hop. */
export const ChunkRelay = defineActor<{ to: ActorRef<Chunk> | null; back: ActorRef<Ack> | null }, RelayMsg>({
  module: import.meta.url,
  init: () => ({ to: null, back: null }),
  receive(s, msg, ctx) {
    if (msg.type === 'route') {
      s.to = msg.to;
      s.back = msg.back;
      ctx.reply(true);
      return;
    }
    if (msg.type === 'chunk') ctx.send(s.to!, msg);
    else ctx.send(s.back!, msg);
  },
});
