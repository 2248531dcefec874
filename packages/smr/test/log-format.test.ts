/**
 * Requests and slots as the log holds them: every command read back from a slot is the one
 * written, whatever its length and wherever its bytes lay (plain or shared memory, any alignment),
 * and every request longer than a hand copy lands in its slot at its source's alignment modulo 8 (where a length prefix of at most 8 bytes allows),
 * so copying it into or out of shared memory is word by word.
 *
 * Randomised: a failure prints its seed; SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng, uvarBytes } from '@synod/actors/internals';
import { ByteReader } from '../src/byte-reader.js';
import { RequestWriter, SlotBuilder, SlotReader } from '../src/log-format.js';

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);

interface Sent {
  client: string;
  sessionNo: number;
  seq: number;
  bytes: Uint8Array;
}

/** `n` bytes at offset `shift` of a plain or shared buffer, filled from `rng`. */
function bytesAt(rng: Prng, n: number, shift: number, shared: boolean): Uint8Array {
  const buffer = shared ? new SharedArrayBuffer(n + shift + 8) : new ArrayBuffer(n + shift + 8);
  const b = new Uint8Array(buffer, shift, n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256);
  return b;
}

/** Room of `n` bytes in plain or shared memory, starting at a multiple of 8. */
function room(shared: boolean): (n: number) => Uint8Array {
  return (n) => new Uint8Array(shared ? new SharedArrayBuffer(n + 16) : new ArrayBuffer(n + 16), 8, n);
}

test('commands of any length and alignment come back out of a slot intact; requests sit in it at their own alignment', () => {
  const rng = new Prng(seed);
  const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test log-format)`;
  try {
    for (let round = 0; round < 40; round++) {
      const sent: Sent[] = [];
      const added: Uint8Array[] = [];
      const slot = new SlotBuilder();
      const requests = 1 + Math.floor(rng.next() * 6);
      for (let q = 0; q < requests; q++) {
        const client = `c${round}.${q}`;
        const w = new RequestWriter();
        const commands = 1 + Math.floor(rng.next() * 20);
        for (let c = 0; c < commands; c++) {
          // Mostly short, some past a hand copy, a few past a two-byte length.
          const r = rng.next();
          const n = r < 0.5 ? Math.floor(rng.next() * 64) : r < 0.9 ? 65 + Math.floor(rng.next() * 400) : 16_384 + Math.floor(rng.next() * 4000);
          const bytes = bytesAt(rng, n, Math.floor(rng.next() * 8), rng.next() < 0.5);
          const sessionNo = 1 + Math.floor(rng.next() * 3);
          const seq = 1 + c;
          w.add(sessionNo, 0, seq, bytes);
          sent.push({ client, sessionNo, seq, bytes });
        }
        // A client actor writes its request into room (its thread's arena, `ctx.sharedBytes`), which travels as it is.
        const inRoom = rng.next() < 0.5;
        const request = w.finish(client, inRoom ? room(rng.next() < 0.5) : undefined);
        if (inRoom) {
          // Every long command (past a hand copy's worth) lands at its source's alignment modulo 8.
          const r = new SlotReader().reset(request);
          r.nextRequest();
          for (const x of sent.filter((x) => x.client === client)) {
            r.nextCommand();
            if (x.bytes.length >= 1024)
              assert.is((request.byteOffset + r.commandStart) & 7, x.bytes.byteOffset & 7, `${why}: a long command of a request in room at its alignment`);
          }
        }
        // The leader gets the request wherever the transport put it: any alignment, plain or shared.
        const moved = inRoom ? request : bytesAt(rng, request.length, Math.floor(rng.next() * 8), rng.next() < 0.5);
        if (!inRoom) moved.set(request);
        slot.add(moved, commands);
        added.push(moved);
      }
      const value = slot.finish(room(rng.next() < 0.5));
      // A slot of one request is that request, not a copy.
      if (requests === 1) assert.is(value, added[0], `${why}: a slot of one request is the request itself`);
      const starts = requests === 1 ? [] : requestStarts(value);
      const r = new SlotReader().reset(value);
      let k = 0;
      let requestNo = 0;
      while (r.nextRequest()) {
        const src = added[requestNo]!;
        if (src.length > 64 && requests > 1) {
          // At its source's alignment, unless that takes a length prefix longer than readers take (8 bytes).
          const { prefixAt, runAt } = starts[requestNo]!;
          const shortest = uvarBytes(src.length);
          const padded = shortest + ((src.byteOffset - (value.byteOffset + prefixAt) - shortest) & 7);
          if (padded <= 8)
            assert.is((value.byteOffset + runAt) & 7, src.byteOffset & 7, `${why}: request ${requestNo} of ${src.length} bytes at its alignment`);
          else assert.is(runAt - prefixAt, shortest, `${why}: request ${requestNo}: no padding past 8 bytes`);
        }
        assert.is(r.clientId, `c${round}.${requestNo}`, why);
        while (r.nextCommand()) {
          const s = sent[k++]!;
          assert.is(r.sessionNos[r.sessionIndex], s.sessionNo, why);
          assert.is(r.seq, s.seq, why);
          assert.equal(r.copyCommand(), Uint8Array.from(s.bytes), `${why}: command ${k - 1} intact`);
        }
        requestNo++;
      }
      assert.is(k, sent.length, `${why}: every command read`);
    }
  } catch (e) {
    console.error(`log-format: failed at ${why}`);
    throw e;
  }
});

/** Where each request's length prefix and bytes start in a slot (read as the format says: u8 format, uvar count, runs). */
function requestStarts(slot: Uint8Array): { prefixAt: number; runAt: number }[] {
  const r = new ByteReader().reset(slot);
  r.u8();
  const n = r.uvar();
  const starts: { prefixAt: number; runAt: number }[] = [];
  for (let i = 0; i < n; i++) {
    const prefixAt = r.pos;
    r.skipRun();
    starts.push({ prefixAt, runAt: r.runStart });
  }
  return starts;
}

test('a room that does not start at a multiple of 8 is refused, not written misaligned', () => {
  const b = new SlotBuilder();
  b.add(new Uint8Array(100), 1);
  b.add(new Uint8Array(100), 1);
  assert.throws(() => b.finish((n) => new Uint8Array(n + 1).subarray(1)), /must return \d+ bytes starting at a multiple of 8/);
});

test.run();
