/**
 * The way of a message through the simulated network: from a sender's host into a delivery
 * event (or lost to a drop, a partition, a missing node; perhaps duplicated), and, when it reaches
 * a node that is down, reported as a dead letter as in workers mode.
 */
import { Envelope, Kind } from '../envelope.js';
import { messageType } from '../errors.js';
import type { ActorRef } from '../ref.js';
import { Outcome, type Network } from './network.js';
import type { Tracer } from './tracer.js';
import type { SimWorld } from './world.js';

export class MessagePath {
  constructor(
    private readonly world: SimWorld,
    private readonly network: Network,
    private readonly tracer: Tracer,
    /** The ref of a live actor, for dead-letter reports. */
    private readonly lookup: (node: number, id: number) => ActorRef<any> | undefined,
  ) {}

  /** What a node's transport calls for every envelope its host sends. */
  readonly transmit = (from: number, env: Envelope): void => {
    const world = this.world;
    const to = env.toNode;
    world.stats.sends++;
    if (!(to >= 0 && to < world.nodes.length)) {
      this.tracer.message('drop', from, env, world.now, 'no such node');
      world.nodes[from]?.host?.deadLetter(env, 'unreachable', `no node ${to} in this simulation`);
      return;
    }
    const net = this.network;
    switch (net.decide(from, to, world.now)) {
      case Outcome.Partitioned:
        world.stats.drops++;
        this.tracer.message('drop', from, env, world.now, 'partitioned');
        return;
      case Outcome.Dropped:
        world.stats.drops++;
        this.tracer.message('drop', from, env, world.now, 'lost');
        return;
      case Outcome.Deliver: {
        const at = net.at;
        this.tracer.message('send', from, env, at, undefined);
        world.queue.pushDelivery(at, to, env, from);
        const dupAt = net.dupAt;
        if (dupAt === dupAt) {
          world.stats.duplicates++;
          const copy = new Envelope(env.to, env.toNode, env.from, env.kind, env.corr, env.msg);
          this.tracer.message('duplicate', from, copy, dupAt, undefined);
          world.queue.pushDelivery(dupAt, to, copy, from);
        }
      }
    }
  };

  /**
   * A notice of the runtime (a death watch's `terminated`) from the driver: it does not cross the
   * faulty network (in workers mode the runtime's notices are not cut by partitions either), so
   * it arrives at once, unless the watcher's node is down or paused.
   */
  notify(from: number, env: Envelope): void {
    this.world.stats.sends++;
    this.tracer.message('send', from, env, this.world.now, 'runtime notice');
    // Delivered as from the watcher's own node, which no partition cuts off.
    this.world.queue.pushDelivery(this.world.now, env.toNode, env, env.toNode);
  }

  /** A message reached a crashed node: lost, reported as a dead letter (as in workers mode). */
  reportDead(env: Envelope, detail: string): void {
    if (env.kind === Kind.Reply) return;
    const world = this.world;
    world.stats.deadLetters++;
    if (world.events.listenerCount('dead-letter') > 0) {
      world.events.emit('dead-letter', {
        to: this.lookup(env.toNode, env.to) ?? { node: env.toNode, id: env.to },
        from: env.from,
        messageType: messageType(env.msg),
        reason: 'unreachable',
        detail,
      });
    }
  }
}
