/**
 * The dashboard server with a stand-in source: static files, the event stream, the actions and
 * their refusals. No cluster, no browser.
 */
import { request } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDashboard, type ActionResult, type ClusterEvent, type ClusterView, type DashboardSource, type SourceListener } from '@synod/dashboard';

function fakeSource(): DashboardSource & { calls: string[]; listener: SourceListener | null } {
  const view: ClusterView = {
    atMs: 0,
    title: 'fake',
    nodes: [],
    leader: null,
    leaderChanges: 0,
    restarts: 0,
    deadLetters: { total: 0, byReason: {} },
    totals: { writes: 1, reads: 2, failed: 0, unknown: 0 },
    rates: [],
  };
  const s = {
    calls: [] as string[],
    listener: null as SourceListener | null,
    view: () => view,
    subscribe(l: SourceListener) {
      s.listener = l;
      return () => {
        s.listener = null;
      };
    },
    async kill(i: number): Promise<ActionResult> {
      s.calls.push(`kill ${i}`);
      return { ok: true, message: `killed ${i}` };
    },
    async partition(i: number): Promise<ActionResult> {
      s.calls.push(`partition ${i}`);
      return { ok: false, message: 'no' };
    },
    async heal(): Promise<ActionResult> {
      s.calls.push('heal');
      return { ok: true, message: 'healed' };
    },
  };
  return s;
}

function call(url: string, method: string, body?: string, contentType = 'application/json'): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? {} : { 'content-type': contentType } }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('serves the page and its modules, and 404s anything else', async () => {
  const d = await startDashboard({ source: fakeSource() });
  try {
    assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await call(d.url, 'GET');
    assert.is(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.text, /<script type="module" src="\/page\/main.js">/);
    const main = await call(`${d.url}page/main.js`, 'GET');
    assert.is(main.status, 200);
    assert.match(main.type, /javascript/);
    assert.is((await call(`${d.url}style.css`, 'GET')).status, 200);
    assert.is((await call(`${d.url}page/../server.js`, 'GET')).status, 404);
    assert.is((await call(`${d.url}page/nope.js`, 'GET')).status, 404);
    const view = await call(`${d.url}api/view`, 'GET');
    assert.equal(JSON.parse(view.text).totals, { writes: 1, reads: 2, failed: 0, unknown: 0 });
  } finally {
    await d.close();
  }
});

test('actions: JSON only, an index where one is needed, the source answers', async () => {
  const src = fakeSource();
  const d = await startDashboard({ source: src });
  try {
    const ok = await call(`${d.url}api/kill`, 'POST', '{"index":2}');
    assert.is(ok.status, 200);
    assert.equal(JSON.parse(ok.text), { ok: true, message: 'killed 2' });
    assert.is((await call(`${d.url}api/partition`, 'POST', '{"index":1}')).status, 409, 'a refused action');
    assert.is((await call(`${d.url}api/heal`, 'POST', '{}')).status, 200);
    assert.is((await call(`${d.url}api/kill`, 'POST', '{"index":2}', 'text/plain')).status, 415, 'not JSON: refused (no cross-site form posts)');
    assert.is((await call(`${d.url}api/kill`, 'POST', '{}')).status, 400);
    assert.is((await call(`${d.url}api/kill`, 'POST', '{"index":-1}')).status, 400);
    assert.is((await call(`${d.url}api/kill`, 'POST', 'not json')).status, 400);
    assert.is((await call(`${d.url}api/kill`, 'POST', JSON.stringify({ index: 1, pad: 'x'.repeat(5000) }))).status, 413);
    assert.is((await call(`${d.url}api/nope`, 'POST', '{}')).status, 404);
    assert.equal(src.calls, ['kill 2', 'partition 1', 'heal']);
  } finally {
    await d.close();
  }
});

test('the event stream starts with the picture and past events, then relays new ones', async () => {
  const src = fakeSource();
  const d = await startDashboard({ source: src, pushEveryMs: 50 });
  try {
    const past: ClusterEvent = { atMs: 1, kind: 'leader', text: 'node 0 leads', index: 0 };
    src.listener!.event(past);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(`${d.url}events`, (res) => {
        assert.match(String(res.headers['content-type']), /text\/event-stream/);
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
          if (text.includes('event: messages')) {
            req.destroy();
            resolve(text);
          } else if (text.includes('event: event') && !text.includes('"later"')) {
            src.listener!.event({ atMs: 2, kind: 'fault', text: 'later' });
            src.listener!.messages({ startMs: 0, windowMs: 20, messages: [], omitted: 0 });
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    const events = [...received.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => [m[1], JSON.parse(m[2]!)] as const);
    assert.is(events[0]![0], 'cluster');
    assert.equal(
      events.filter(([e]) => e === 'event').map(([, v]) => (v as ClusterEvent).text),
      ['node 0 leads', 'later'],
    );
  } finally {
    await d.close();
  }
});

test('bad options are refused with their name', async () => {
  try {
    await startDashboard({ source: fakeSource(), port: 70000 });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /port/);
  }
  try {
    await startDashboard({ source: fakeSource(), pushEveryMs: 0 });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /pushEveryMs/);
  }
});

test.run();
