import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Comlink, nodeEndpoint, type Remote } from './comlink.js';
import { ActorLoadError, ControlError } from './errors.js';
import type { ArenaRef } from './arena.js';
import type { RingEnds } from './transport.js';
import type { WorkerBoot, WorkerControl, WorkerMessage } from './worker-protocol.js';

/** Runs before the worker entry: installs the TypeScript loader when the parent runs under tsx. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) {
    const m = await import(workerData.loader);
    (m.register || (m.default && m.default.register))();
  }
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

const entryUrl = new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

/**
 * The module to import in workers so they can load TypeScript, found from how this process was
 * started (tsx puts its loader in execArgv). Null when running plain JavaScript.
 */
export function detectWorkerLoader(): string | null {
  const argv = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^(file:\/\/.*[\\/]tsx[\\/]dist[\\/])loader\.mjs$/.exec(a);
    if (m) return `${m[1]}esm/api/index.mjs`;
    const bare = a === '--import=tsx' || a === '--loader=tsx' || ((a === '--import' || a === '--loader') && argv[i + 1] === 'tsx');
    if (bare) {
      try {
        const pkg = createRequire(join(process.cwd(), 'noop.js')).resolve('tsx/package.json');
        return pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
      } catch {
        return null;
      }
    }
  }
  return null;
}

interface PendingCall {
  what: string;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

/** How the main thread tells a stuck worker (an endless loop) from a busy one. */
export interface HeartbeatOptions {
  /** How often the main thread pings each worker. Default 100. */
  intervalMs: number;
  /** A worker that has not answered for this long is terminated (and restarted by its supervisor). Default 2000. */
  timeoutMs: number;
}

export const defaultHeartbeat: HeartbeatOptions = { intervalMs: 100, timeoutMs: 2_000 };

/**
 * The main thread's handle on one worker: its comlink control proxy (every call with a
 * timeout, rejected at once when the worker dies) and its lifecycle.
 */
export class WorkerNode {
  readonly worker: Worker;
  readonly control: Remote<WorkerControl>;
  /** The node id, once adopted (-1 while a spare). */
  node = -1;
  /** The main thread's end of this worker's mesh link (once adopted). */
  mainPort: MessagePort | null = null;
  /** Rings: this worker's doorbell (once adopted), rung by whoever writes to it. */
  doorbell: SharedArrayBuffer | null = null;
  /** Rings with arenas: this worker's arena (once adopted). */
  arena: ArenaRef | null = null;
  alive = false;
  deathReason = '';
  readonly ready: Promise<void>;
  private readonly pending = new Set<PendingCall>();
  private readonly controlPort: MessagePort;
  /** Called once when the worker exits for any reason. */
  onExit: (code: number | null, reason: string) => void = () => {};
  onMessage: (m: WorkerMessage) => void = () => {};
  private exited = false;
  private readonly heartbeatPort: MessagePort;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastBeat = 0;
  private unresponsive = '';

  constructor(
    boot: Omit<WorkerBoot, 'controlPort' | 'heartbeatPort'>,
    loader: string | null,
    private readonly heartbeat: HeartbeatOptions,
  ) {
    const control = new MessageChannel();
    const beat = new MessageChannel();
    this.controlPort = control.port1;
    this.heartbeatPort = beat.port1;
    const data: WorkerBoot & { entry: string; loader: string | null } = {
      ...boot,
      controlPort: control.port2,
      heartbeatPort: beat.port2,
      entry: entryUrl,
      loader,
    };
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: data,
      transferList: [control.port2, beat.port2],
      name: 'synod-worker',
    });
    this.control = Comlink.wrap<WorkerControl>(nodeEndpoint(control.port1));
    let lastError: Error | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: WorkerMessage) => {
        if (m.t === 'ready') {
          this.alive = true;
          this.startHeartbeat();
          resolve();
        } else {
          this.onMessage(m);
        }
      });
      this.worker.on('error', (e) => {
        lastError = e;
        if (!this.alive) reject(new ActorLoadError(`a worker failed to start: ${e.message}`));
      });
      this.worker.on('exit', (code) => {
        const reason = this.unresponsive || (lastError ? `died of an uncaught ${lastError.name}: ${lastError.message}` : `exited with code ${code}`);
        if (!this.alive && !this.exited) reject(new ActorLoadError(`a worker exited before it was ready (${reason})`));
        this.die(code, reason);
      });
    });
    this.ready.catch(() => {});
  }

  /**
   * Makes this booted worker node `node`, with its durable storage and its link to the main
   * thread (with rings: its doorbell and its ends of the rings with the main thread).
   */
  async adopt(
    node: number,
    storeName: string,
    sharedBuffer: SharedArrayBuffer | undefined,
    timeoutMs: number,
    rings?: { doorbell: SharedArrayBuffer; mainRings: RingEnds; arena: ArenaRef | null; arenas: ArenaRef[] },
    sharedSnapshotBuffer?: SharedArrayBuffer,
  ): Promise<MessagePort> {
    const { port1, port2 } = new MessageChannel();
    this.node = node;
    this.doorbell = rings?.doorbell ?? null;
    this.arena = rings?.arena ?? null;
    await this.call(
      `adopt as node ${node}`,
      (c) =>
        c.adopt(
          Comlink.transfer(
            {
              node,
              storeName,
              sharedBuffer,
              sharedSnapshotBuffer,
              mainPort: port2,
              doorbell: rings?.doorbell,
              mainRings: rings?.mainRings,
              arena: rings?.arena ?? undefined,
              arenas: rings?.arenas,
            },
            [port2 as any],
          ),
        ),
      timeoutMs,
    );
    this.mainPort = port1;
    return port1;
  }

  /**
   * Pings the worker on its own port. A worker stuck in a handler (an endless loop) cannot
   * answer; past `timeoutMs` it is terminated so its supervisor can restart its actors.
   */
  private startHeartbeat(): void {
    const { intervalMs, timeoutMs } = this.heartbeat;
    if (intervalMs <= 0) return;
    this.lastBeat = performance.now();
    this.heartbeatPort.on('message', () => {
      this.lastBeat = performance.now();
    });
    this.heartbeatPort.unref();
    let lastTick = performance.now();
    this.heartbeatTimer = setInterval(() => {
      if (this.exited) return;
      const now = performance.now();
      // This timer ran late (this thread was starved, or the whole process descheduled, on a loaded
      // machine): answers that came meanwhile still wait in the port, behind this callback. Silence
      // counts only while we could hear it; else every worker is found silent at once and killed.
      const late = now - lastTick - intervalMs;
      lastTick = now;
      if (late > intervalMs) this.lastBeat = Math.min(now, this.lastBeat + late);
      const silentMs = now - this.lastBeat;
      if (silentMs > timeoutMs) {
        this.unresponsive = `stopped answering heartbeats for ${Math.round(silentMs)} ms (heartbeat.timeoutMs ${timeoutMs}); terminated`;
        // Once: terminating takes a while, and the interval would ask again every tick.
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        void this.worker.terminate();
        return;
      }
      this.heartbeatPort.postMessage(0);
    }, intervalMs);
    this.heartbeatTimer.unref();
  }

  /** Calls the worker's control plane with a timeout; rejects at once if the worker dies. */
  call<T>(what: string, fn: (c: Remote<WorkerControl>) => Promise<T> | T, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new ControlError(`${what}: worker ${this.node} is gone (${this.deathReason})`));
    return new Promise<T>((resolve, reject) => {
      const entry: PendingCall = {
        what,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(entry);
          reject(new ControlError(`${what}: worker ${this.node} did not answer within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.pending.add(entry);
      Promise.resolve(fn(this.control)).then(
        (v) => {
          if (this.pending.delete(entry)) {
            clearTimeout(entry.timer);
            resolve(v as T);
          }
        },
        (e) => {
          if (this.pending.delete(entry)) {
            clearTimeout(entry.timer);
            reject(e);
          }
        },
      );
    });
  }

  /** Hands the worker its link to another node: a port, and with rings its ends of the pair's rings. */
  connect(node: number, port: MessagePort, timeoutMs: number, rings?: RingEnds): Promise<void> {
    return this.call(`connect to node ${node}`, (c) => c.connect(node, Comlink.transfer(port, [port as any]), rings), timeoutMs);
  }

  private die(code: number | null, reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.alive = false;
    this.deathReason = reason;
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ControlError(`${p.what}: worker ${this.node} died (${reason})`));
    }
    this.pending.clear();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    // comlink keeps a proxy's endpoint, and through its unanswered calls everything they refer
    // to (this worker's shared buffers: gigabytes of address space), in a registry of its own
    // until the proxy is collected; a call left unanswered refers back to the proxy, so without
    // this nothing of a stopped system was ever freed.
    try {
      this.control[Comlink.releaseProxy]();
    } catch {
      // released already
    }
    this.heartbeatPort.close();
    this.controlPort.close();
    this.mainPort?.close();
    this.onExit(code, reason);
  }

  get gone(): boolean {
    return this.exited;
  }

  /** Ends the worker now; resolves when it has exited. */
  async terminate(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    await this.worker.terminate();
    await exited;
  }
}
