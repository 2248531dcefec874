/**
 * The entry of every worker thread: one ActorHost, its end of the port mesh, a comlink control
 * object for the main thread, and events posted back in batches.
 *
 * A worker boots generic and becomes a node when the main thread `adopt`s it: that lets the
 * pool keep spare workers booted, so a crashed worker's actors are back in milliseconds.
 */
import { deserialize, serialize } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { TrackingClock, randomCorrBase, realClock } from './clock.js';
import { CLONE_TAG, CodecRegistry, isCodecSet, type CodecSet } from './codec.js';
import { Comlink, nodeEndpoint } from './comlink.js';
import { isActorDefinition, type ActorDefinition } from './define.js';
import { Activity } from './activity.js';
import { ArenaTable } from './arena.js';
import { Doorbell } from './doorbell.js';
import { ActorLoadError, errorText, toWire } from './errors.js';
import { ActorHost, realScheduler, type DeadLetter, type HostEvents } from './host.js';
import { HostNetwork } from './host-network.js';
import type { LogRecord } from './logger.js';
import type { MeshTransport } from './transport.js';
import { PortTransport } from './port-transport.js';
import { WorkerRingLoop } from './ring-loop.js';
import { RingTransport } from './ring-transport.js';
import { refKey, type ActorRef } from './ref.js';
import { createStores, type HostStores } from './stores.js';
import type { AdoptRequest, HostStats, SpawnRequest, WorkerBoot, WorkerControl, WorkerEvent } from './worker-protocol.js';

const boot = workerData as WorkerBoot;
const port = parentPort!;

// ---- events to the main thread, batched per microtask
let outbox: WorkerEvent[] = [];
let outboxScheduled = false;
function emit(e: WorkerEvent): void {
  outbox.push(e);
  if (!outboxScheduled) {
    outboxScheduled = true;
    queueMicrotask(flushEvents);
  }
}
function flushEvents(): void {
  outboxScheduled = false;
  if (outbox.length === 0) return;
  const batch = outbox;
  outbox = [];
  port.postMessage({ t: 'events', events: batch });
}

const events: HostEvents = {
  started: (ref, parent, restart) => emit({ e: 'started', ref, parent, restart }),
  stopped: (ref, incarnation) => emit({ e: 'stopped', ref, incarnation }),
  crashed: (ref, error, during, messageType, incarnation) => emit({ e: 'crashed', ref, error: toWire(error), during, messageType, incarnation }),
  deadLetter: (letter: DeadLetter) => emit({ e: 'dead', letter }),
};

// ---- the directory: names of refs on other nodes, for decoded senders
const directory = new Map<number, ActorRef<any>>();
function resolveRef(node: number, id: number): ActorRef<any> {
  const key = refKey(node, id);
  let ref = directory.get(key);
  if (ref === undefined) {
    ref = { name: node === 0 && id === 0 ? '$system' : `#${node}.${id}`, node, id };
    directory.set(key, ref);
  }
  return ref;
}

const codecs = new CodecRegistry();

/** Set by `adopt`. */
let node = -1;
let host: ActorHost | null = null;
let stores: HostStores | null = null;
let transport: MeshTransport | null = null;
let loop: WorkerRingLoop | null = null;
let network: HostNetwork | null = null;

function adopted(): { host: ActorHost; transport: MeshTransport } {
  if (!host || !transport) throw new Error('this worker has not been adopted as a node yet');
  return { host, transport };
}

const definitions = new Map<string, ActorDefinition<any, any, any, any>>();
async function loadDefinition(module: string, exportName: string): Promise<ActorDefinition<any, any, any, any>> {
  const key = `${module}#${exportName}`;
  const cached = definitions.get(key);
  if (cached) return cached;
  let ns: Record<string, unknown>;
  try {
    ns = await import(module);
  } catch (e) {
    throw new ActorLoadError(`worker ${node} could not load actor module ${module}: ${errorText(e)}`);
  }
  const def = ns[exportName];
  if (!isActorDefinition(def)) {
    throw new ActorLoadError(`module ${module} has no exported actor definition "${exportName}"`);
  }
  definitions.set(key, def);
  return def;
}

const projections = new Map<string, (state: unknown) => unknown>();
async function loadProjection(module: string, exportName: string): Promise<(state: unknown) => unknown> {
  const key = `${module}#${exportName}`;
  const cached = projections.get(key);
  if (cached) return cached;
  let ns: Record<string, unknown>;
  try {
    ns = await import(module);
  } catch (e) {
    throw new ActorLoadError(`worker ${node} could not load projection module ${module}: ${errorText(e)}`);
  }
  const fn = ns[exportName];
  if (typeof fn !== 'function') throw new ActorLoadError(`module ${module} exports no function "${exportName}" to project inspected states with`);
  projections.set(key, fn as (state: unknown) => unknown);
  return fn as (state: unknown) => unknown;
}

async function loadCodecSet(module: string, exportName: string): Promise<CodecSet> {
  let ns: Record<string, unknown>;
  try {
    ns = await import(module);
  } catch (e) {
    throw new ActorLoadError(`worker ${node} could not load codec module ${module}: ${errorText(e)}`);
  }
  const set = ns[exportName];
  if (!isCodecSet(set)) throw new ActorLoadError(`module ${module} has no exported codec set "${exportName}"`);
  return set;
}

function adopt(req: AdoptRequest): void {
  if (host) throw new Error(`this worker is already node ${node}`);
  node = req.node;
  stores = createStores(boot.storage, { node, storeName: req.storeName, sharedBuffer: req.sharedBuffer, sharedSnapshotBuffer: req.sharedSnapshotBuffer });
  const s = stores;
  const rings = boot.mesh.kind === 'rings';
  // Rings: the run loop blocks waiting for records, so it must know when the next timer is due.
  const clock = rings ? new TrackingClock() : realClock;
  host = new ActorHost({
    node,
    seed: boot.seed,
    clock,
    scheduler: realScheduler,
    // Ports: a postMessage costs microseconds, so a turn's batches go out together. Rings: the
    // run loop bounds its own time slice, and a publish costs an atomic store.
    coalesceFlushes: !rings,
    portFed: !rings,
    flushEachTurn: rings,
    limits: boot.limits,
    events,
    logLevel: boot.logLevel,
    logSink: (record: LogRecord) => emit({ e: 'log', record }),
    store: (kind) => s.get(kind),
    resolveRef,
    watchVia: boot.watchVia,
    corrBase: randomCorrBase(),
    hasCodec: (msg) => codecs.tagFor(msg) !== CLONE_TAG,
  });
  const onError = (what: string, error: unknown) => {
    emit({ e: 'log', record: { level: 'error', actor: `$worker${node}`, message: `${what}: ${errorText(error)}`, time: realClock.now() } });
  };
  if (rings) {
    if (!req.doorbell || !req.mainRings) throw new Error('adopt: the ring transport needs a doorbell and the rings to the main thread');
    let arenas: ArenaTable | null = null;
    if (req.arena) {
      arenas = new ArenaTable(req.arena, boot.mesh.rings.arenaMinBytes);
      for (const a of req.arenas ?? []) arenas.add(a);
    }
    const t = new RingTransport(host, codecs, resolveRef, boot.mesh.rings, onError, arenas);
    transport = t;
    host.transport = t;
    t.connect(0, req.mainPort, req.mainRings);
    const activity = boot.mesh.activity ? new Activity(boot.mesh.activity, node) : null;
    loop = new WorkerRingLoop(host, t, new Doorbell(req.doorbell), clock as TrackingClock, boot.mesh.rings, activity);
    loop.start();
  } else {
    transport = new PortTransport(host, codecs, resolveRef, undefined, onError);
    host.transport = transport;
    transport.connect(0, req.mainPort);
  }
  network = new HostNetwork(host, (window) => emit({ e: 'trace', window }));
  if (boot.statsIntervalMs > 0) {
    const t = setInterval(() => emit({ e: 'stats', ...hostStats() }), boot.statsIntervalMs);
    t.unref();
  }
}

function hostStats(): HostStats {
  const h = host!;
  const out: HostStats = { node, delivered: h.delivered, actors: h.stats() };
  if (transport instanceof RingTransport) out.transport = transport.stats();
  return out;
}

const control: WorkerControl = {
  adopt(req) {
    adopt(req);
  },
  connect(peer, p, rings) {
    adopted().transport.connect(peer, p, rings);
  },
  disconnect(peer: number) {
    adopted().transport.disconnect(peer);
  },
  async registerCodecs(module, exportName, baseTag) {
    codecs.register(await loadCodecSet(module, exportName), baseTag);
  },
  activateCodecs(module) {
    codecs.activate(module);
  },
  directory(add, remove) {
    for (const r of add) directory.set(refKey(r.node, r.id), r);
    for (const r of remove) directory.delete(refKey(r.node, r.id));
  },
  async spawn(req: SpawnRequest) {
    const { host: h } = adopted();
    for (const url of req.preload ?? []) {
      try {
        await import(url);
      } catch (e) {
        throw new ActorLoadError(`worker ${node} could not load preload module ${url}: ${errorText(e)}`);
      }
    }
    const def = await loadDefinition(req.module, req.exportName);
    const options = { name: req.name, args: req.args, storage: req.storage };
    const ref = req.id === undefined ? h.spawn(def, options, null, undefined, req.incarnation) : h.replace(req.id, def, options, req.incarnation);
    directory.set(refKey(ref.node, ref.id), ref);
    h.flushNow();
    return { id: ref.id };
  },
  stop(id) {
    const { host: h } = adopted();
    const ok = h.stop(id);
    h.flushNow();
    return ok;
  },
  terminate(id) {
    const { host: h } = adopted();
    const ok = h.terminate(id);
    h.flushNow();
    return ok;
  },
  crash(id, reason) {
    adopted().host.crashActor(id, reason);
  },
  fail(kind) {
    // After this call's answer has left: the caller sees the fault, not a dead control call.
    setImmediate(() => {
      if (kind === 'exit') process.exit(70);
      if (kind === 'uncaught') throw new Error(`injected uncaught error in worker ${node}`);
      if (kind === 'hang')
        for (;;) {
          /* stuck on purpose: only heartbeats can tell */
        }
    });
  },
  async inspect(id, projection) {
    const project = projection ? await loadProjection(projection.module, projection.exportName) : undefined;
    const v = adopted().host.inspect(id, project);
    if (!v) return undefined;
    let state: unknown;
    // v8's serializer, not structuredClone: it copies byte views of shared memory (arena values)
    // instead of sharing them with a thread that holds no reference to their blocks.
    try {
      state = deserialize(serialize(v.state));
    } catch {
      state = '<state is not cloneable>';
    }
    return { ...v, state };
  },
  stats() {
    adopted();
    return hostStats();
  },
  ping() {
    return node;
  },
  network(settings) {
    adopted();
    network!.apply(settings);
  },
  async shutdown() {
    network?.stop();
    if (host) {
      host.stopAll();
      host.flushNow();
    }
    flushEvents();
    await stores?.close();
    loop?.close();
    transport?.close();
  },
};

// Actor modules import the package index: load it now, while this worker may still be a spare.
await import('./index.js');

Comlink.expose(control, nodeEndpoint(boot.controlPort));
// Answer heartbeats while the event loop turns; a stuck handler stops the answers.
boot.heartbeatPort.on('message', () => boot.heartbeatPort.postMessage(0));
port.postMessage({ t: 'ready' });
