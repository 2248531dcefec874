/**
 * Type tests (checked by `tsc -p tsconfig.test.json` in `pnpm test`, never run): reply types flow
 * from an actor's definition, and a wrong use fails to compile. Every `@ts-expect-error` below is
 * a use the compiler must refuse; an unused one fails the type-check.
 */
import { ActorSystem, defineActor, type ActorContext, type ActorRef, type Replies, type Terminated } from '@synod/actors';
import { Simulation } from '@synod/actors/sim';

type CounterMsg = { type: 'inc'; by: number } | ({ type: 'get' } & Replies<number>) | ({ type: 'name' } & Replies<string>);
interface Plain {
  type: 'ping';
}
interface Report extends Replies<{ max: number }> {
  type: 'report';
}

const Counter = defineActor<{ n: number }, CounterMsg>({
  init: () => ({ n: 0 }),
  receive(state, msg, ctx) {
    if (msg.type === 'inc') state.n += msg.by;
    else if (msg.type === 'get') ctx.reply(state.n);
    else ctx.reply('counter');
    // @ts-expect-error -- this actor's messages declare number and string replies, not booleans
    ctx.reply(true);
  },
});

declare const system: ActorSystem;
declare const sim: Simulation;
declare const counter: ActorRef<CounterMsg>;
declare const plain: ActorRef<Plain>;
declare const reporter: ActorRef<Report | Plain>;
declare const untyped: ActorRef<any>;
declare const ctx: ActorContext<Terminated>;

export async function inferred(): Promise<void> {
  const n: number = await system.ask(counter, { type: 'get' });
  const s: string = await system.ask(counter, { type: 'name' });
  const r: { max: number } = await system.ask(reporter, { type: 'report' });
  const m: number = await sim.call(counter, { type: 'get' });
  const c: number = await ctx.ask(counter, { type: 'get' });
  // @ts-expect-error -- `get` answers a number
  const wrong: string = await system.ask(counter, { type: 'get' });
  // @ts-expect-error -- `get` answers a number (the simulator's ask too)
  const wrong2: string = await sim.ask(counter, { type: 'get' });
  // @ts-expect-error -- not a message of this actor
  await system.ask(counter, { type: 'reset' });
  // A message that declares no reply answers `unknown`: it must be narrowed before use.
  const u = await system.ask(plain, { type: 'ping' });
  // @ts-expect-error -- unknown is not a number
  const notNumber: number = u;
  void [n, s, r, m, c, wrong, wrong2, notNumber];
}

type GaugeMsg = { type: 'set'; to: number } | ({ type: 'read' } & Replies<number>);
declare const gauge: ActorRef<GaugeMsg>;

export async function explicit(): Promise<void> {
  // The reply type given by hand: checked against what the target declares (all its declared
  // replies must be it; an actor with several reply types is asked without one, as above).
  const n: number = await system.ask<number>(gauge, { type: 'read' });
  // @ts-expect-error -- this actor answers numbers
  await system.ask<string>(gauge, { type: 'read' });
  // @ts-expect-error -- this actor answers numbers and strings, never booleans
  await system.ask<boolean>(counter, { type: 'get' });
  // @ts-expect-error -- the same in the simulator
  await sim.call<boolean>(counter, { type: 'get' });
  // @ts-expect-error -- and inside an actor
  await ctx.ask<boolean>(counter, { type: 'get' });
  // Actors that declare nothing, and refs of unknown type, take any expectation, as before.
  const p: { ok: boolean } = await system.ask<{ ok: boolean }>(plain, { type: 'ping' });
  const a: string = await system.ask<string>(untyped, { anything: true });
  void [n, p, a];
}

export function deathWatch(): void {
  ctx.watch(counter);
  ctx.unwatch(counter);
  const stop = system.watch(counter, (t) => {
    const reason: 'stopped' | 'failed' | 'node-lost' | 'not-found' = t.reason;
    void reason;
  });
  stop();
  // @ts-expect-error -- a ref, not a name
  ctx.watch('counter');
}

export async function disposable(): Promise<void> {
  await using sys = await ActorSystem.start({ mode: 'embedded' });
  await sys.ask(counter, { type: 'get' }, { signal: AbortSignal.timeout(1000) });
}

void Counter;
