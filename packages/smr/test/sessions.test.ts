/**
 * A replica's client sessions keep each command's result until the client acknowledges it, at
 * most `window` of them: after any mix of records, acknowledgements and snapshots (written and
 * read back), every command still kept answers with its own outcome and result, and none
 * acknowledged or pushed out of the window does. The kept results live in a ring that grows, so
 * windows of different sizes and acknowledgements of any length make it wrap and grow mid-run.
 *
 * Randomised: a failure prints its seed; SEED=<n> replays it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng, WireWriter } from '@synod/actors/internals';
import { ByteReader } from '../src/byte-reader.js';
import { Session, SessionTable, Verdict } from '../src/sessions.js';

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);

test('records, acknowledgements and snapshots: a kept result is the one recorded, nothing forgotten is kept', () => {
  const rng = new Prng(seed);
  const random = () => rng.next();
  const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test sessions)`;
  try {
    for (const window of [1, 3, 16, 100]) {
      let session = new Session('client', 7);
      // The model: every command recorded, and the lowest one still kept.
      const recorded: { outcome: number; result: Uint8Array }[] = [];
      let floor = 0;
      for (let step = 0; step < 5_000; step++) {
        const r = random();
        if (r < 0.6) {
          const seq = recorded.length + 1;
          // Results of 0 to 200 bytes (past 127 a result's length takes two bytes); often
          // the same as the one before, in a fresh array or the same one (a snapshot writes runs).
          const last = recorded[recorded.length - 1];
          const repeat = last !== undefined && random() < 0.7;
          const result = repeat
            ? random() < 0.5
              ? last.result
              : last.result.slice()
            : Uint8Array.from({ length: Math.floor(random() * 4) === 0 ? Math.floor(random() * 200) : 1 }, (_, k) => (seq + k) & 0xff);
          const outcome = repeat && random() < 0.8 ? last.outcome : seq % 3;
          session.record(outcome, result, window);
          recorded.push({ outcome, result });
          floor = Math.max(floor, recorded.length - window);
        } else if (r < 0.9) {
          // The client acknowledges up to some command (maybe one already forgotten, or all).
          const ack = Math.floor(random() * (recorded.length + 2));
          session.forget(ack);
          floor = Math.max(floor, Math.min(ack, recorded.length));
        } else {
          const w = new WireWriter(64);
          session.write(w);
          session = Session.read(new ByteReader().reset(w.buf.subarray(0, w.pos)));
        }
        assert.is(session.next, recorded.length + 1, `step ${step}: next`);
        assert.is(session.floor, floor, `step ${step}: floor`);
        assert.is(session.kept, recorded.length - floor, `step ${step}: kept`);
        for (let seq = Math.max(1, floor - 2); seq <= recorded.length + 1; seq++) {
          const found = session.find(seq);
          if (seq <= floor || seq > recorded.length) {
            assert.is(found, undefined, `step ${step}: command ${seq} is not kept`);
            continue;
          }
          assert.ok(found, `step ${step}: command ${seq} is kept (window ${window})`);
          assert.is(found.outcome, recorded[seq - 1]!.outcome, `step ${step}: outcome of ${seq}`);
          assert.equal([...found.result], [...recorded[seq - 1]!.result], `step ${step}: result of ${seq}`);
        }
      }
    }
  } catch (e) {
    console.error(`sessions: failed with ${why}`);
    throw e;
  }
});

test('a snapshot of format 1 (one entry per kept result) still reads', () => {
  // Written by hand as format 1 wrote it: client, number, next, floor, kept, then each result.
  const w = new WireWriter(64);
  w.uvar(1); // sessions
  w.string('c');
  w.uvar(2);
  w.uvar(5); // next
  w.uvar(1); // floor: results of 2, 3, 4 kept
  w.uvar(3);
  for (const [outcome, bytes] of [
    [0, [1]],
    [0, [1]],
    [2, [9, 9]],
  ] as const) {
    w.u8(outcome);
    w.inline(Uint8Array.from(bytes));
  }
  const table = new SessionTable(10, 100);
  table.read(new ByteReader().reset(w.buf.subarray(0, w.pos)), true);
  const s = table.get('c', 2)!;
  assert.equal([s.next, s.floor, s.kept], [5, 1, 3]);
  assert.equal(
    [2, 3, 4].map((seq) => [s.find(seq)!.outcome, [...s.find(seq)!.result]]),
    [
      [0, [1]],
      [0, [1]],
      [2, [9, 9]],
    ],
  );
});

test('the table forgets the least recently used session past maxSessions (or the first created), across snapshots, as a model does', () => {
  const rng = new Prng(seed + 1);
  const random = () => rng.next();
  const why = `seed ${seed} (replay: SEED=${seed} npx -y pnpm@12.4.2 test sessions)`;
  try {
    for (const firstCreated of [false, true]) {
      const max = 6;
      let table = new SessionTable(max, 4, firstCreated);
      // The model: keys in eviction order, first goes first.
      let order: string[] = [];
      for (let step = 0; step < 3_000; step++) {
        if (random() < 0.05) {
          const w = new WireWriter(64);
          table.write(w);
          table = new SessionTable(max, 4, firstCreated);
          table.read(new ByteReader().reset(w.buf.subarray(0, w.pos)));
        }
        // A request of one to three sessions of one client, each with one command.
        const client = `c${Math.floor(random() * 3)}`;
        const nos = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => 1 + Math.floor(random() * 4)))];
        table.beginRequest(
          client,
          nos,
          nos.map(() => 0),
        );
        for (const no of nos) {
          const key = `${client}/${no}`;
          const known = order.includes(key);
          if (known && !firstCreated) order = [...order.filter((k) => k !== key), key];
        }
        nos.forEach((no, i) => {
          const key = `${client}/${no}`;
          const s = table.session(i);
          const seq = s === undefined ? 1 : s.next;
          if (s === undefined) {
            order.push(key);
            if (order.length > max) order.shift();
          }
          if (table.verdict(i, seq) === Verdict.Apply) table.record(i, 0, new Uint8Array([no]));
        });
        assert.is(table.size, order.length, `step ${step}: size`);
        for (const c of ['c0', 'c1', 'c2'])
          for (let no = 1; no <= 4; no++)
            assert.is(table.get(c, no) !== undefined, order.includes(`${c}/${no}`), `step ${step} (firstCreated ${firstCreated}): ${c}/${no} kept`);
      }
    }
  } catch (e) {
    console.error(`sessions: failed with ${why}`);
    throw e;
  }
});

test.run();
