/**
 * Fault injection in a simulation: the faults of a plan (or of `sim.fault`) applied to the
 * network and the nodes: partitions, one-way cuts, degraded links, heals, node crashes (with
 * what the disk keeps), actor crashes, and pauses (a node past the heartbeat timeout is declared
 * dead, as in workers mode).
 */
import type { ActorLifecycle } from '../actor-lifecycle.js';
import { NodeLostError } from '../errors.js';
import type { Prng } from '../random.js';
import { DRIVER } from './cluster.js';
import { PlanError } from './errors.js';
import { EventType } from './event-queue.js';
import type { MessagePath } from './message-path.js';
import type { Network } from './network.js';
import type { SimNode } from './node.js';
import type { DiskPlan, Fault, NodeSelector } from './plan.js';
import { traceCode, type TraceKind } from './trace.js';
import type { Tracer } from './tracer.js';
import type { SimWorld } from './world.js';

export class Faults {
  private faultIds = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly network: Network,
    private readonly tracer: Tracer,
    private readonly lifecycle: ActorLifecycle,
    private readonly path: MessagePath,
    private readonly disk: Required<DiskPlan>,
    private readonly diskRng: Prng,
    private readonly heartbeatTimeoutMs: number,
  ) {}

  /** Applies a fault now; `index` is its place in the plan (-1 for `sim.fault`). */
  apply(f: Fault, index: number): void {
    const world = this.world;
    world.stats.faults++;
    this.tracer.event('fault', -1, index, traceCode[f.kind as TraceKind] ?? 0, f.kind, () => ({ detail: JSON.stringify(f) }));
    if (world.events.listenerCount('fault') > 0) world.events.emit('fault', { fault: f, timeMs: world.now });
    const where = index >= 0 ? `plan.faults[${index}]` : 'fault';
    const endAfter = (id: number, durationMs: number | undefined) => {
      if (durationMs === undefined) return;
      world.callAt(world.now + durationMs, () => {
        if (this.network.end(id)) this.tracer.event('heal', -1, id, 0, undefined, () => ({ detail: `${f.kind} ended after ${durationMs} ms` }));
      });
    };
    switch (f.kind) {
      case 'partition': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'groups', groups: f.groups.map((g, i) => g.map((n, j) => this.resolveNode(n, `${where}.groups[${i}][${j}]`))) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'isolate': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'isolate', node: this.resolveNode(f.node, `${where}.node`) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'cut': {
        const id = ++this.faultIds;
        this.network.add({ id, kind: 'cut', from: this.resolveNode(f.from, `${where}.from`), to: this.resolveNode(f.to, `${where}.to`) });
        endAfter(id, f.durationMs);
        break;
      }
      case 'degrade': {
        const id = ++this.faultIds;
        const { kind: _k, from, to, durationMs, ...rates } = f as Extract<Fault, { kind: 'degrade' }> & { atMs?: number };
        delete (rates as { atMs?: number }).atMs;
        this.network.add({
          id,
          kind: 'degrade',
          rates,
          from: from === undefined || from === '*' ? '*' : this.resolveNode(from, `${where}.from`),
          to: to === undefined || to === '*' ? '*' : this.resolveNode(to, `${where}.to`),
        });
        endAfter(id, durationMs);
        break;
      }
      case 'heal': {
        const n = this.network.heal();
        this.tracer.event('heal', -1, n, 0, undefined, () => ({ detail: `${n} network fault(s) ended` }));
        break;
      }
      case 'crash-node': {
        const n = this.resolveNode(f.node, `${where}.node`);
        if (n === DRIVER) throw new PlanError(`${where}: node 0 is the driver (the outside world); it cannot crash`);
        this.crashNode(world.nodes[n]!, f.downMs ?? 0, index >= 0 ? `crash-node (plan.faults[${index}])` : 'crash-node');
        break;
      }
      case 'crash-actor': {
        const rec = this.lifecycle.directory.byNameOf(f.actor);
        if (!rec) throw new PlanError(`${where}: no actor named "${f.actor}" in this simulation`);
        const node = world.nodes[rec.ref.node]!;
        if (node.up && !node.paused) node.host!.crashActor(rec.ref.id, `injected crash${index >= 0 ? ` (plan.faults[${index}])` : ''}`);
        break;
      }
      case 'pause': {
        const n = this.resolveNode(f.node, `${where}.node`);
        if (n === DRIVER) throw new PlanError(`${where}: node 0 is the driver (the outside world); it cannot pause`);
        this.pauseNode(world.nodes[n]!, f.durationMs);
        break;
      }
    }
  }

  /** A node by number, or the node of an actor by name; undefined when there is none. */
  tryResolveNode(sel: NodeSelector): number | undefined {
    if (typeof sel === 'number') return sel < this.world.nodes.length ? sel : undefined;
    return this.lifecycle.directory.byNameOf(sel)?.ref.node;
  }

  private resolveNode(sel: NodeSelector, where: string): number {
    const n = this.tryResolveNode(sel);
    if (n === undefined) {
      throw new PlanError(
        typeof sel === 'number'
          ? `${where}: node ${sel} does not exist (this simulation has nodes 0..${this.world.nodes.length - 1}; 0 is the driver)`
          : `${where}: no actor named "${sel}" in this simulation`,
      );
    }
    return n;
  }

  /** Crashes a node as a worker crash would: its host is gone, its disk keeps what it synced (and maybe more). */
  crashNode(node: SimNode, downMs: number, why: string): void {
    if (!node.up) return;
    const world = this.world;
    node.up = false;
    node.paused = false;
    node.pauseToken++;
    // Messages that waited for a paused node die with it, like those in a dead worker's port.
    for (const ev of node.deferred) {
      if (ev.type !== EventType.Deliver) continue;
      world.stats.lost++;
      this.tracer.message('lost', ev.arg, ev.env!, world.now, 'node crashed while paused');
      this.path.reportDead(ev.env!, `node ${node.id} crashed`);
    }
    node.deferred = [];
    node.downUntil = world.now + downMs;
    node.transport!.dead = true;
    node.host = null;
    node.memory = null;
    node.file = null;
    node.syncRequested = false;
    this.tracer.event('node-down', node.id, 0, 0, undefined, () => ({ detail: why }));
    const unsynced = node.disk.unsynced;
    const keep = this.disk.unsyncedOnCrash === 'random-prefix' ? this.diskRng.int(unsynced + 1) : 0;
    const torn = this.disk.tornWriteRate > 0 && keep < unsynced && this.diskRng.next() < this.disk.tornWriteRate;
    const loss = node.disk.crash(keep, torn);
    if (unsynced > 0) {
      this.tracer.event('disk-loss', node.id, loss.kept, loss.lost + (loss.torn ? 1 << 20 : 0), undefined, () => ({
        detail: `${loss.lost} unsynced write(s) lost, ${loss.kept} kept${loss.torn ? ', the first lost one torn' : ''}`,
      }));
    }
    for (const rec of this.lifecycle.directory.onNode(node.id)) {
      world.stats.crashes++;
      this.tracer.event('crash', node.id, rec.ref.id, 0, undefined, () => ({ to: this.tracer.describe(rec.ref.node, rec.ref.id), detail: why }));
    }
    this.lifecycle.nodeLost(node.id, new NodeLostError(node.id, why), 'node');
    world.asyncPending = true;
  }

  /** Pauses a node (a long GC, a stopped process): its events wait; past the heartbeat timeout it is declared dead. */
  pauseNode(node: SimNode, durationMs: number): void {
    if (!node.up) return;
    const world = this.world;
    node.paused = true;
    const token = ++node.pauseToken;
    node.pausedUntil = Math.max(node.pausedUntil, world.now + durationMs);
    this.tracer.event('pause', node.id, 0, 0, undefined, () => ({ detail: `until ${node.pausedUntil.toFixed(3)} ms` }));
    const hb = this.heartbeatTimeoutMs;
    if (hb > 0 && node.pausedUntil - world.now >= hb) {
      world.callAt(world.now + hb, () => {
        if (node.pauseToken === token && node.paused) this.crashNode(node, 0, `no heartbeat for ${hb} ms (paused)`);
      });
    }
    world.callAt(node.pausedUntil, () => {
      if (node.pauseToken !== token || !node.paused) return;
      node.paused = false;
      this.tracer.event('resume', node.id, node.deferred.length, 0, undefined, () => ({ detail: `${node.deferred.length} deferred event(s)` }));
      const deferred = node.deferred;
      node.deferred = [];
      for (const ev of deferred) world.queue.reschedule(ev, world.now);
    });
  }
}
