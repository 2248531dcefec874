/** The actors of the persist benchmark, and the binary codec of their hot messages. */
import { defineActor, defineCodecs, type ActorRef, type ReplyToken } from '@synod/actors';

/** What an acceptor persists per phase-2 message: the ballot and the value it accepted for a slot. */
export interface Accept {
  type: 'accept';
  ballot: number;
  slot: number;
  value: string;
}
export interface Accepted {
  type: 'accepted';
  slot: number;
}

export const persistCodecs = defineCodecs(import.meta.url, [
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
    type: 'accepted',
    encode: (m: Accepted, w) => {
      w.f64(m.slot);
    },
    decode: (r) => ({ type: 'accepted', slot: r.f64() }),
  },
]);

interface AcceptorState {
  ballot: number;
  slot: number;
  value: string;
  turns: number;
}

/**
 * Every message is one persisted turn: it persists what it accepted, then answers. The answer
 * leaves only once that state is durable (persist before send), so an answer is an
 * acknowledged durable turn.
 */
export const Acceptor = defineActor<AcceptorState, Accept, void, { ballot: number; slot: number; value: string }>({
  module: import.meta.url,
  init: (_a, _ctx, recovered) => ({ ballot: recovered?.ballot ?? 0, slot: recovered?.slot ?? -1, value: recovered?.value ?? '', turns: 0 }),
  receive(s, msg, ctx) {
    s.ballot = msg.ballot;
    s.slot = msg.slot;
    s.value = msg.value;
    s.turns++;
    ctx.persist({ ballot: s.ballot, slot: s.slot, value: s.value });
    ctx.reply({ type: 'accepted', slot: msg.slot } satisfies Accepted);
  },
});

export interface Run {
  type: 'run';
  acceptors: ActorRef<Accept>[];
  window: number;
  warmupMs: number;
  durationMs: number;
}
export interface RunResult {
  turns: number;
  elapsedMs: number;
}
type DriverMsg = Run | Accepted;
interface DriverState {
  acceptors: ActorRef<Accept>[];
  next: number;
  inFlight: number;
  phase: 'idle' | 'warmup' | 'measure' | 'done';
  start: number;
  t0: number;
  elapsedMs: number;
  counted: number;
  warmupMs: number;
  durationMs: number;
  done: ReplyToken | undefined;
}

/**
 * Keeps `window` accepts in flight, spread over the acceptors round robin; after `warmupMs`
 * counts the answers received during `durationMs`, then answers `run` with the count at once
 * (what is still in flight is left to the system's shutdown) and sends nothing more.
 */
export const Driver = defineActor<DriverState, DriverMsg>({
  module: import.meta.url,
  init: () => ({ acceptors: [], next: 0, inFlight: 0, phase: 'idle', start: 0, t0: 0, elapsedMs: 0, counted: 0, warmupMs: 0, durationMs: 0, done: undefined }),
  receive(s, msg, ctx) {
    const send = () => {
      const a = s.acceptors[s.next++ % s.acceptors.length]!;
      ctx.send(a, { type: 'accept', ballot: 1, slot: s.next, value: 'value-of-a-typical-slot' });
      s.inFlight++;
    };
    if (msg.type === 'run') {
      Object.assign(s, {
        acceptors: msg.acceptors,
        next: 0,
        inFlight: 0,
        phase: 'warmup',
        start: ctx.now(),
        counted: 0,
        warmupMs: msg.warmupMs,
        durationMs: msg.durationMs,
        done: ctx.replyToken(),
      });
      for (let i = 0; i < msg.window; i++) send();
      return;
    }
    s.inFlight--;
    const now = ctx.now();
    if (s.phase === 'warmup' && now - s.start >= s.warmupMs) {
      s.phase = 'measure';
      s.t0 = now;
    } else if (s.phase === 'measure') {
      s.counted++;
      if (now - s.t0 >= s.durationMs) {
        s.phase = 'done';
        s.elapsedMs = now - s.t0;
        ctx.respond(s.done!, { turns: s.counted, elapsedMs: s.elapsedMs } satisfies RunResult);
      }
    }
    if (s.phase !== 'done') send();
  },
});
