/**
 * The dashboard's web server: `node:http`, the page as static files, a Server-Sent Events
 * stream of the cluster, and three actions. Listens on the loopback interface only.
 *
 *   GET  /                 the page (src/page/index.html, style.css; the compiled dist/page/*.js)
 *   GET  /events           SSE: `cluster` every pushEveryMs, `event` and `messages` as they happen
 *   GET  /api/view         the current ClusterView as JSON
 *   POST /api/kill         {"index": 2}   end replica node 2's worker thread
 *   POST /api/partition    {"index": 2}   cut replica node 2 off from the others
 *   POST /api/heal         {}             end every partition
 *
 * Actions must be sent as `application/json`: a page of another origin cannot send that
 * without the browser asking this server first (which it never allows), so no other site can
 * press the buttons.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ActionResult, ClusterEvent, StreamEvents } from './page/protocol.js';
import type { DashboardSource } from './source.js';

/** Options of {@link startDashboard}. Every bound is named. */
export interface DashboardOptions {
  source: DashboardSource;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** How often the cluster picture is pushed to each page, ms. Default 500. */
  pushEveryMs?: number;
  /** Pages connected at once; more are refused with 503. Default 16. */
  maxClients?: number;
  /** Events replayed to a page when it connects. Default 50. */
  replayEvents?: number;
  /** Largest action request body, bytes. Default 1024. */
  maxBodyBytes?: number;
  /** A comment is sent on idle streams this often so proxies keep them open, ms. Default 15000. */
  keepAliveMs?: number;
}

export interface Dashboard {
  /** E.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly port: number;
  /** Closes every stream and the server. */
  close(): Promise<void>;
}

const pageDir = new URL('../src/page/', import.meta.url);
const scriptDir = new URL('./page/', import.meta.url);
const STATIC: Record<string, { dir: URL; file: string; type: string }> = {
  '/': { dir: pageDir, file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { dir: pageDir, file: 'style.css', type: 'text/css; charset=utf-8' },
};
/** Compiled page modules: `/page/<name>.js`, names of letters, digits and dashes only. */
const SCRIPT = /^\/page\/([a-z0-9-]+)\.js$/;

/**
 * Starts the dashboard server and resolves once it listens.
 *
 * ```ts
 * const d = await startDashboard({ source, port: 0 });
 * console.log(`dashboard: ${d.url}`);
 * ```
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const o = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    pushEveryMs: options.pushEveryMs ?? 500,
    maxClients: options.maxClients ?? 16,
    replayEvents: options.replayEvents ?? 50,
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    keepAliveMs: options.keepAliveMs ?? 15_000,
  };
  for (const [k, v] of Object.entries(o)) {
    if (k === 'host') continue;
    const min = k === 'port' ? 0 : 1;
    if (!(Number.isInteger(v) && (v as number) >= min)) throw new RangeError(`dashboard option ${k} must be an integer >= ${min}, got ${String(v)}`);
  }
  if (o.port > 65535) throw new RangeError(`dashboard option port must be at most 65535, got ${o.port}`);
  const source = options.source;
  const streams = new Set<ServerResponse>();
  const recent: ClusterEvent[] = [];

  const send = <K extends keyof StreamEvents>(res: ServerResponse, event: K, data: StreamEvents[K]) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = <K extends keyof StreamEvents>(event: K, data: StreamEvents[K]) => {
    for (const res of streams) send(res, event, data);
  };
  const unsubscribe = source.subscribe({
    event(e) {
      recent.push(e);
      if (recent.length > o.replayEvents) recent.shift();
      broadcast('event', e);
    },
    messages(w) {
      broadcast('messages', w);
    },
  });
  const pushTimer = setInterval(() => {
    if (streams.size > 0) broadcast('cluster', source.view());
  }, o.pushEveryMs);
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, o.keepAliveMs);

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { ok: false, message: `the dashboard failed: ${(e as Error).message}` });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const file = STATIC[path];
      const script = SCRIPT.exec(path);
      if (file || script) {
        const url = file ? new URL(file.file, file.dir) : new URL(`${script![1]}.js`, scriptDir);
        let body: Buffer;
        try {
          body = await readFile(fileURLToPath(url));
        } catch {
          res.writeHead(404, { 'content-type': 'text/plain' }).end(script ? `no page module ${path} (is the dashboard built? run tsc -b)` : 'not found');
          return;
        }
        res.writeHead(200, { 'content-type': file ? file.type : 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(body);
        return;
      }
      if (path === '/events') {
        openStream(req, res);
        return;
      }
      if (path === '/api/view') {
        json(res, 200, source.view());
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (req.method === 'POST' && path.startsWith('/api/')) {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        json(res, 415, { ok: false, message: 'send actions as application/json' });
        return;
      }
      const body = await readBody(req, o.maxBodyBytes);
      if (body === null) {
        json(res, 413, { ok: false, message: `the request body is over ${o.maxBodyBytes} bytes` });
        return;
      }
      let args: { index?: unknown };
      try {
        args = body === '' ? {} : (JSON.parse(body) as { index?: unknown });
      } catch {
        json(res, 400, { ok: false, message: 'the request body is not JSON' });
        return;
      }
      const index = args.index;
      const needsIndex = path === '/api/kill' || path === '/api/partition';
      if (needsIndex && !(Number.isInteger(index) && (index as number) >= 0)) {
        json(res, 400, { ok: false, message: `${path} needs {"index": N}, the replica node number` });
        return;
      }
      let result: ActionResult;
      if (path === '/api/kill') result = await source.kill(index as number);
      else if (path === '/api/partition') result = await source.partition(index as number);
      else if (path === '/api/heal') result = await source.heal();
      else {
        json(res, 404, { ok: false, message: `no action ${path}` });
        return;
      }
      json(res, result.ok ? 200 : 409, result);
      return;
    }
    res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed');
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= o.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`too many dashboard pages open (maxClients ${o.maxClients})`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    streams.add(res);
    send(res, 'cluster', source.view());
    for (const e of recent) send(res, 'event', e);
    req.on('close', () => streams.delete(res));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    async close() {
      clearInterval(pushTimer);
      clearInterval(keepAlive);
      unsubscribe();
      for (const res of streams) res.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** The body as text, or null when it is longer than `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
