/**
 * The single-producer, single-consumer ring (ring.ts) on its own: a record is read only once
 * whole and published, wrap-around keeps every byte and the order, a full ring refuses rather
 * than overwrites, and a writer thread that dies mid-write leaves nothing half-written to read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { AssertionFailedError } from '@synod/actors';
import { Prng } from '@synod/actors/internals';
import { RingReader, RingWriter, createRing, maxRecordPayload, recordBytes } from '../dist/ring.js';
import { ByteQueue } from '../dist/byte-queue.js';

function write(w: RingWriter, bytes: Uint8Array): boolean {
  const at = w.claim(bytes.length);
  if (at < 0) return false;
  w.data.set(bytes, at);
  return true;
}

function readAll(r: RingReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (r.next()) {
    out.push(r.data.slice(r.offset, r.offset + r.length));
    r.advance();
  }
  r.release();
  return out;
}

test('a write cursor more than a ring ahead of the reader (corrupt, or a foreign writer) is refused, not read', () => {
  const buf = createRing(4096);
  const r = new RingReader(buf);
  // The write cursor is the first Int32 of the header: put it past the read cursor by more than the ring holds.
  Atomics.store(new Int32Array(buf, 0, 1), 0, 4096 + 8);
  assert.throws(
    () => r.next(),
    (e: unknown) => e instanceof AssertionFailedError && (e as AssertionFailedError).code === 'assertion-failed',
  );
});

test('a record is read only once it is published, and several publish at once', () => {
  const buf = createRing(4096);
  const w = new RingWriter(buf);
  const r = new RingReader(buf);
  assert.ok(write(w, new Uint8Array([1, 2, 3])));
  assert.ok(write(w, new Uint8Array([4])));
  assert.not.ok(r.hasData(), 'claimed and written, not published: nothing to read');
  assert.equal(readAll(r), []);
  w.publish();
  assert.ok(r.hasData());
  assert.equal(readAll(r), [new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
  assert.not.ok(r.hasData());
});

test('wrap-around: records of every size go through a small ring many times over, intact and in order', () => {
  const seed = 20261127;
  const rng = new Prng(seed);
  const buf = createRing(4096);
  const w = new RingWriter(buf);
  const r = new RingReader(buf);
  const max = maxRecordPayload(4096);
  const sent: Uint8Array[] = [];
  const got: Uint8Array[] = [];
  let bytes = 0;
  for (let n = 0; n < 20_000; n++) {
    const len = rng.next() < 0.05 ? max : Math.floor(rng.next() * 300);
    const rec = new Uint8Array(len);
    for (let i = 0; i < len; i++) rec[i] = (n * 31 + i) & 0xff;
    while (!write(w, rec)) {
      w.publish();
      got.push(...readAll(r)); // the reader catches up, freeing room
    }
    sent.push(rec);
    bytes += recordBytes(len);
    if (rng.next() < 0.3) w.publish();
  }
  w.publish();
  got.push(...readAll(r));
  assert.ok(bytes > 100 * 4096, 'the data went round the ring many times');
  assert.is(got.length, sent.length, `seed ${seed} (replay: npx -y pnpm@12.4.2 test ring.test): every record read once`);
  for (let i = 0; i < sent.length; i++) assert.equal(got[i], sent[i], `seed ${seed} (replay: npx -y pnpm@12.4.2 test ring.test): record ${i} is intact`);
});

test('a full ring refuses a record instead of overwriting unread ones, and tells the writer when room appears', () => {
  const buf = createRing(4096);
  const w = new RingWriter(buf);
  const r = new RingReader(buf);
  const rec = new Uint8Array(1000).fill(7);
  let written = 0;
  while (write(w, rec)) written++;
  assert.is(written, 4, 'four 1000-byte records fill 4 KiB');
  w.publish();
  w.wantRoom();
  assert.ok(r.next());
  r.advance();
  assert.ok(r.release(), 'the reader learns that the writer waits for room');
  assert.not.ok(r.release(), '... once');
  assert.ok(write(w, rec), 'room for one more');
  w.publish();
  const rest = readAll(r);
  assert.is(rest.length, 4);
  for (const x of rest) assert.equal(x, rec);
});

test('a writer thread that dies mid-record leaves only whole, published records to read', async () => {
  const buf = createRing(64 * 1024);
  const ringUrl = new URL('../dist/ring.js', import.meta.url).href;
  // The worker publishes 100 records, then claims a 101st, writes half of it (length word and
  // all) and dies without publishing it.
  const src = `
    const { workerData } = require('node:worker_threads');
    import(workerData.ringUrl).then(({ RingWriter }) => {
      const w = new RingWriter(workerData.buf);
      for (let n = 0; n < 100; n++) {
        const at = w.claim(64);
        for (let i = 0; i < 64; i++) w.data[at + i] = (n + i) & 0xff;
      }
      w.publish();
      const at = w.claim(4000);
      for (let i = 0; i < 2000; i++) w.data[at + i] = 0xee;
      process.exit(3);
    });`;
  const worker = new Worker(src, { eval: true, workerData: { buf, ringUrl } });
  const code = await new Promise<number>((res) => worker.once('exit', res));
  assert.is(code, 3, 'the writer died');
  const got = readAll(new RingReader(buf));
  assert.is(got.length, 100, 'the half-written record is not read');
  got.forEach((rec, n) => {
    assert.is(rec.length, 64);
    for (let i = 0; i < 64; i++) if (rec[i] !== ((n + i) & 0xff)) assert.unreachable(`record ${n} byte ${i} is damaged`);
  });
});

test('records queued while the ring is full go in later as runs, whole and in order, across the wrap', () => {
  const seed = 7;
  const rng = new Prng(seed);
  const buf = createRing(4096);
  const w = new RingWriter(buf);
  const r = new RingReader(buf);
  const q = new ByteQueue();
  const sent: Uint8Array[] = [];
  const got: Uint8Array[] = [];
  for (let n = 0; n < 5_000; n++) {
    const rec = new Uint8Array(Math.floor(rng.next() * 200)).fill(n & 0xff);
    sent.push(rec);
    q.push(rec, rec.length);
    if (rng.next() < 0.2) {
      // Move what fits, as the transport does: a run at a time.
      for (let bytes = q.runBytes(2048); q.count > 0; bytes = q.runBytes(2048)) {
        const at = w.claimRun(bytes);
        if (at < 0) break;
        w.data.set(q.run(bytes), at);
        q.drop(bytes);
      }
      w.publish();
      if (rng.next() < 0.7) got.push(...readAll(r));
    }
  }
  while (q.count > 0) {
    const bytes = q.runBytes(2048);
    const at = w.claimRun(bytes);
    if (at < 0) {
      w.publish();
      got.push(...readAll(r));
      continue;
    }
    w.data.set(q.run(bytes), at);
    q.drop(bytes);
  }
  w.publish();
  got.push(...readAll(r));
  assert.is(got.length, sent.length, `seed ${seed} (replay: npx -y pnpm@12.4.2 test ring.test)`);
  for (let i = 0; i < sent.length; i++) assert.equal(got[i], sent[i], `seed ${seed}: record ${i}`);
});

test.run();
