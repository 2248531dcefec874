import { defineActor, type ActorRef } from '@synod/actors';

export type TokenMsg = { type: 'peers'; peers: ActorRef<TokenMsg>[]; tokens: number } | { type: 'token'; hops: number };

/**
 * The simulator's throughput workload: each actor passes every token it receives to a peer
 * chosen with `ctx.random`, so many messages are in flight at once on every link.
 */
export const TokenPasser = defineActor<{ peers: ActorRef<TokenMsg>[]; passed: number; waiting: number }, TokenMsg>({
  module: import.meta.url,
  init: () => ({ peers: [], passed: 0, waiting: 0 }),
  receive(s, msg, ctx) {
    if (msg.type === 'peers') {
      s.peers = msg.peers;
      const n = msg.tokens + s.waiting;
      s.waiting = 0;
      for (let i = 0; i < n; i++) ctx.send(s.peers[i % s.peers.length]!, { type: 'token', hops: 0 });
      return;
    }
    // A token that came before this actor knew its peers waits for them.
    if (s.peers.length === 0) {
      s.waiting++;
      return;
    }
    s.passed++;
    ctx.send(s.peers[Math.floor(ctx.random() * s.peers.length)]!, { type: 'token', hops: msg.hops + 1 });
  },
});
