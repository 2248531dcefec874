/**
 * The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", section numbers as there; §6-§9 from Ongaro's dissertation), one test per rule, as
 * etcd's raft_paper_test.go names them: each sets up a node or a cluster, steps messages in,
 * and checks what the node sends and holds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HARD_KEY, NONE, RaftLog, type Entry, type RAppend, type RAppendResp, type RVote, type RVoteResp } from '@synod/raft';
import { CLIENT, RaftNet, commandsIn, reads, request } from './harness.ts';

const utf8 = new TextEncoder();
/** An entry of `term`; `value` names its bytes (null: a no-op). */
const e = (term: number, value: string | null = null): Entry => {
  const bytes = value === null ? null : utf8.encode(value);
  return { term, value: bytes, bytes: bytes?.byteLength ?? 0 };
};

/** Gives node i a log of these terms (from index 1) and a term, as if recovered from disk. */
function withLog(net: RaftNet, i: number, terms: number[], term: number): void {
  const d = net.durable(i);
  d.clear();
  terms.forEach((t, k) => d.set(k + 1, e(t, `v${k + 1}@${t}`)));
  d.set(HARD_KEY, { term, vote: NONE });
  net.crash(i);
  net.restart(i);
  net.state(i).voteLeaseUntil = 0;
}

function vote(from: number, term: number, lastIndex = 0, lastTerm = 0, pre = false): RVote {
  return { type: 'r-vote', term, from, lastIndex, lastTerm, pre, transfer: false };
}

// ------------------------------------------------------------------ §5.1

test('§5.1 a node that sees a higher term adopts it; a candidate or leader that sees one returns to follower', () => {
  for (const start of ['follower', 'candidate', 'leader'] as const) {
    const net = new RaftNet(3, { preVote: false });
    if (start === 'candidate') {
      net.state(0).electionDeadline = 0;
      net.advance(10, { quiet: true });
      net.clearInFlight();
    }
    if (start === 'leader') net.elect(0);
    assert.is(net.state(0).status, start);
    const term = net.state(0).term + 5;
    net.step(0, { type: 'r-append', term, from: 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 } satisfies RAppend, net.refs[1]);
    assert.is(net.state(0).term, term, start);
    assert.is(net.state(0).status, 'follower', start);
    assert.is(net.state(0).leader, 1, 'and follows the sender of AppendEntries');
  }
});

test('§5.1 a request with a stale term is refused: the stale leader hears the newer term and steps down', () => {
  const net = new RaftNet(3);
  net.elect(0);
  const old = net.state(0).term;
  // Node 1 moved on to a later term (say it heard of a newer election).
  net.step(1, { type: 'r-heartbeat', term: old + 2, from: 2, commit: 0, round: 0 }, net.refs[2]);
  net.clearInFlight();
  net.clearSent();
  const before = net.state(1).log.lastIndex;
  net.step(
    1,
    { type: 'r-append', term: old, from: 0, prevIndex: before, prevTerm: net.state(1).log.lastTerm, entries: [e(old, 'stale')], commit: 0 },
    net.refs[0],
  );
  assert.is(net.state(1).log.lastIndex, before, 'the stale entries are not appended');
  const answer = net.sentOf('r-append-resp')[0]!.msg as RAppendResp;
  assert.is(answer.term, old + 2, 'the answer carries the newer term');
  net.run();
  assert.is(net.state(0).status, 'follower', 'the stale leader stepped down');
  assert.is(net.state(0).term, old + 2);
});

// ------------------------------------------------------------------ §5.2

test('§5.2 nodes start as followers, in term 0, with no vote', () => {
  const net = new RaftNet(3);
  for (let i = 0; i < 3; i++) {
    assert.is(net.state(i).status, 'follower');
    assert.is(net.state(i).term, 0);
    assert.is(net.state(i).vote, NONE);
  }
});

test('§5.2 a follower that hears no leader within its election timeout becomes a candidate: a new term, a vote for itself, RequestVote to all', () => {
  const net2 = new RaftNet(3, { preVote: false, electionTimeoutMs: 100 });
  net2.state(0).electionDeadline = 50;
  net2.state(1).electionDeadline = 1e9;
  net2.state(2).electionDeadline = 1e9;
  net2.advance(60, { quiet: true });
  const s = net2.state(0);
  assert.is(s.status, 'candidate');
  assert.is(s.term, 1);
  assert.is(s.vote, 0);
  assert.equal(net2.durable(0).get(HARD_KEY), { term: 1, vote: 0 }, 'term and vote are persisted in the turn that changes them');
  const asks = net2.pending('r-vote').map((p) => [p.to.name, (p.msg as RVote).term, (p.msg as RVote).pre]);
  assert.equal(asks, [
    ['raft-1', 1, false],
    ['raft-2', 1, false],
  ]);
});

test('§5.2 a candidate whose election times out starts another in a new term', () => {
  const net = new RaftNet(3, { preVote: false, electionTimeoutMs: 100 });
  net.state(0).electionDeadline = 10;
  for (const i of [1, 2]) net.state(i).electionDeadline = 1e9;
  net.advance(10, { quiet: true });
  assert.is(net.state(0).term, 1);
  net.clearInFlight(); // every vote request lost
  net.advance(200, { quiet: true });
  assert.is(net.state(0).status, 'candidate');
  assert.is(net.state(0).term, 2);
});

test('§5.2 election timeouts are drawn at random from [T, 2T), anew at each new term (as etcd resets them); each message from the leader restarts the one drawn', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 100 });
  const seen = new Set<number>();
  for (let k = 0; k < 200; k++) {
    const s = net.state(0);
    net.step(0, { type: 'r-heartbeat', term: s.term + 1, from: 1, commit: 0, round: 0 }, net.refs[1]);
    const wait = s.electionDeadline - net.time;
    assert.ok(wait >= 100 && wait < 200, `timeout ${wait} outside [100, 200)`);
    seen.add(Math.floor(wait / 10));
    net.advance(30, { quiet: true });
    net.step(0, { type: 'r-heartbeat', term: s.term, from: 1, commit: 0, round: 0 }, net.refs[1]);
    assert.is(s.electionDeadline - net.time, wait, 'the same timeout, from the last message');
    net.clearInFlight();
  }
  assert.is(seen.size, 10, 'every tenth of the range is drawn');
});

test('§5.2 a candidate wins with the votes of a majority, returns to follower when a majority refuses, and otherwise stays a candidate', () => {
  const cases: [size: number, votes: Record<number, boolean>, status: string][] = [
    [1, {}, 'leader'],
    [3, { 1: true, 2: true }, 'leader'],
    [3, { 1: true }, 'leader'],
    [5, { 1: true, 2: true, 3: true, 4: true }, 'leader'],
    [5, { 1: true, 2: true }, 'leader'],
    [3, { 1: false, 2: false }, 'follower'],
    [5, { 1: false, 2: false, 3: false }, 'follower'],
    [5, { 1: true, 2: false, 3: false, 4: false }, 'follower'],
    [3, {}, 'candidate'],
    [5, { 1: true }, 'candidate'],
    [5, { 1: false, 2: false }, 'candidate'],
  ];
  for (const [size, votes, status] of cases) {
    const net = new RaftNet(size, { preVote: false });
    net.state(0).electionDeadline = 0;
    net.advance(10, { quiet: true });
    net.clearInFlight();
    for (const [from, granted] of Object.entries(votes)) {
      net.step(0, { type: 'r-vote-resp', term: 1, from: Number(from), granted, pre: false } satisfies RVoteResp, net.refs[Number(from)]);
    }
    assert.is(net.state(0).status, status, `${size} nodes, votes ${JSON.stringify(votes)}`);
    assert.is(net.state(0).term, 1);
  }
});

test('§5.2 each node votes for at most one candidate in a term, first come first served', () => {
  const cases: [voted: number, candidate: number, granted: boolean][] = [
    [NONE, 1, true],
    [NONE, 2, true],
    [1, 1, true],
    [2, 2, true],
    [1, 2, false],
    [2, 1, false],
  ];
  for (const [voted, candidate, granted] of cases) {
    const net = new RaftNet(3);
    net.durable(0).set(HARD_KEY, { term: 1, vote: voted });
    net.restart(0);
    net.state(0).voteLeaseUntil = 0;
    net.step(0, vote(candidate, 1), net.refs[candidate]);
    const answer = net.sentOf('r-vote-resp')[0]!.msg as RVoteResp;
    assert.is(answer.granted, granted, `voted ${voted}, asked by ${candidate}`);
    if (granted) assert.equal(net.durable(0).get(HARD_KEY), { term: 1, vote: candidate }, 'the vote is durable before its answer leaves');
  }
});

test('§5.2 a candidate that hears AppendEntries from a leader of its own (or a later) term returns to follower', () => {
  for (const term of [1, 2]) {
    const net = new RaftNet(3, { preVote: false });
    net.state(0).electionDeadline = 0;
    net.advance(10, { quiet: true });
    assert.is(net.state(0).status, 'candidate');
    net.step(0, { type: 'r-append', term, from: 2, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 }, net.refs[2]);
    assert.is(net.state(0).status, 'follower');
    assert.is(net.state(0).term, term);
    assert.is(net.state(0).leader, 2);
  }
});

test('§5.2 the leader sends heartbeats to every follower, with the commit index they are known to match', () => {
  const net = new RaftNet(3, { heartbeatMs: 50 });
  net.elect(0);
  net.clearSent();
  net.advance(50, { quiet: true });
  const beats = net.sentOf('r-heartbeat').map((p) => [p.to.name, p.msg.term, p.msg.commit]);
  assert.equal(beats, [
    ['raft-1', 1, 1],
    ['raft-2', 1, 1],
  ]);
});

// ------------------------------------------------------------------ §5.3

test('§5.3 the leader appends a command to its log, persists it, and sends it with the index and term of the entry before it', () => {
  const net = new RaftNet(3);
  net.elect(0);
  const li = net.state(0).log.lastIndex;
  net.clearSent();
  net.tell(0, request());
  net.run({ drop: (p) => p.msg.type === 'r-append-resp' });
  assert.is(net.state(0).log.lastIndex, li + 1);
  assert.ok(net.durable(0).has(li + 1), 'the entry is durable at the leader');
  const appends = net.sentOf('r-append').map((p) => p.msg as RAppend);
  assert.equal(
    appends.map((m) => [m.prevIndex, m.prevTerm, m.entries.length, m.commit]),
    [
      [li, 1, 1, li],
      [li, 1, 1, li],
    ],
  );
  assert.is(net.state(0).commitIndex, li, 'not committed before a majority has it');
});

test('§5.3 an entry stored on a majority is committed; the leader applies it (to its replica) and tells followers in later messages', () => {
  for (const [size, acks, committed] of [
    [3, [], false],
    [3, [1], true],
    [5, [1], false],
    [5, [1, 2], true],
  ] as [number, number[], boolean][]) {
    const net = new RaftNet(size);
    net.elect(0);
    const li = net.state(0).log.lastIndex;
    net.tell(0, request());
    net.run({ drop: (p) => p.msg.type === 'r-append-resp' && !acks.includes(p.msg.from) });
    assert.is(net.state(0).commitIndex > li, committed, `${size} nodes, acks from ${acks}`);
    if (!committed) continue;
    const decided = net
      .sentOf('m-decide')
      .filter((p) => p.to.name === 'replica-0')
      .map((p) => p.msg.firstSlot + p.msg.values.length);
    assert.is(Math.max(...decided), li + 1, 'the leader hands it to its replica');
    net.run();
    net.advance(60);
    for (const f of acks) assert.is(net.state(f).commitIndex, li + 1, `follower ${f} learned the commit index`);
  }
});

test('§5.3 every follower hears the commit index in the turn it moves (unanswered r-commit); one that does not hold the entry there ignores it', () => {
  const net = new RaftNet(3);
  net.elect(0);
  const li = net.state(0).log.lastIndex;
  net.clearSent();
  net.tell(0, request());
  // Node 2's appends are lost: node 1's acknowledgement commits the entry.
  net.run({ drop: (p) => p.to.name === 'raft-2' && p.msg.type === 'r-append' });
  assert.is(net.state(0).commitIndex, li + 1);
  const news = net.sentOf('r-commit').map((p) => [p.to.name, p.msg.commit, p.msg.commitTerm]);
  const term = net.state(0).term;
  assert.equal(
    news,
    [
      ['raft-1', li + 1, term],
      ['raft-2', li + 1, term],
    ],
    'both followers hear it at once, with the term of the entry',
  );
  assert.is(net.state(1).commitIndex, li + 1);
  assert.is(net.state(2).log.lastIndex, li, 'node 2 never got the entry');
  assert.is(net.state(2).commitIndex <= li, true, 'node 2 does not commit an entry it does not hold');
  assert.is(net.sentOf('r-append-resp').filter((p) => p.from?.name === 'raft-1').length, 1, 'no answer to r-commit');
});

test('§5.3 a follower refuses a commit index whose entry it holds with another term (Log Matching)', () => {
  const net = new RaftNet(3);
  withLog(net, 1, [1, 1, 1], 1);
  // A leader of term 2 whose entry 3 is of term 2: node 1's entry 3 (term 1) is not it.
  net.step(1, { type: 'r-commit', term: 2, from: 0, commit: 3, commitTerm: 2 }, net.refs[0]);
  assert.is(net.state(1).commitIndex, 0, 'entry 3 of term 1 is not committed');
  net.step(1, { type: 'r-commit', term: 2, from: 0, commit: 2, commitTerm: 1 }, net.refs[0]);
  assert.is(net.state(1).commitIndex, 2, "entry 2 of term 1 is the leader's: committed");
});

test('§5.3 a follower refuses AppendEntries whose previous index and term it does not hold, hinting where the logs may match', () => {
  const cases: [prevTerm: number, prevIndex: number, reject: boolean, hint: [number, number]][] = [
    [0, 0, false, [0, 0]],
    [1, 1, false, [0, 0]],
    [2, 2, false, [0, 0]],
    [1, 2, true, [1, 1]], // a different term at index 2: the last index with term <= 1
    [3, 3, true, [2, 2]], // beyond the log: its end
  ];
  for (const [prevTerm, prevIndex, reject, hint] of cases) {
    const net = new RaftNet(3);
    withLog(net, 0, [1, 2], 2);
    net.step(0, { type: 'r-append', term: 2, from: 1, prevIndex, prevTerm, entries: [], commit: 0 }, net.refs[1]);
    const r = net.sentOf('r-append-resp')[0]!.msg as RAppendResp;
    assert.is(r.reject, reject, `prev (${prevIndex}, ${prevTerm})`);
    if (reject) assert.equal([r.index, r.hintIndex, r.hintTerm], [prevIndex, ...hint]);
  }
});

test('§5.3 a follower deletes a conflicting entry and all that follow it, and appends the new entries', () => {
  const cases: [prev: [number, number], entries: number[], want: number[]][] = [
    [[2, 2], [3], [1, 2, 3]],
    [
      [1, 1],
      [3, 4],
      [1, 3, 4],
    ],
    [[0, 0], [1], [1, 2]],
    [[0, 0], [3], [3]],
  ];
  for (const [[prevIndex, prevTerm], entries, want] of cases) {
    const net = new RaftNet(3);
    withLog(net, 0, [1, 2], 2);
    net.step(0, { type: 'r-append', term: 4, from: 1, prevIndex, prevTerm, entries: entries.map((t) => e(t, `new@${t}`)), commit: 0 }, net.refs[1]);
    assert.equal(net.terms(0), want, `append ${entries} after (${prevIndex}, ${prevTerm})`);
    for (let i = 1; i <= want.length; i++) assert.is((net.durable(0).get(i) as Entry).term, want[i - 1], 'the log on disk is the log in memory');
    assert.not.ok(net.durable(0).has(want.length + 1), 'deleted entries are gone from disk');
  }
});

test("§5.3 (Figure 7) the leader brings every follower's log in line with its own, however it diverges", () => {
  const leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers = [
    [1, 1, 1, 4, 4, 5, 5, 6, 6],
    [1, 1, 1, 4],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    [1, 1, 1, 4, 4, 4, 4],
    [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  ];
  for (const f of followers) {
    const net = new RaftNet(3, { preVote: false });
    withLog(net, 0, leader, 8);
    withLog(net, 1, f, 7);
    // The third node votes for the leader; the follower's log may be longer, but not more up-to-date.
    net.state(0).electionDeadline = 0;
    net.state(1).electionDeadline = 1e9;
    net.crash(2);
    net.advance(10, { quiet: true });
    net.step(0, { type: 'r-vote-resp', term: 9, from: 2, granted: true, pre: false }, net.refs[2]);
    assert.is(net.state(0).status, 'leader');
    net.run();
    net.advance(200);
    assert.equal(net.terms(1), net.terms(0), `follower ${f}`);
    assert.equal(net.terms(0), [...leader, 9]);
  }
});

// ------------------------------------------------------------------ §5.4

test("§5.4.1 RequestVote carries the candidate's last index and term, and a voter refuses a candidate whose log is less up-to-date", () => {
  const cases: [voterLog: number[], lastTerm: number, lastIndex: number, granted: boolean][] = [
    [[1], 1, 1, true],
    [[1], 1, 2, true],
    [[1, 1], 1, 1, false],
    [[1], 2, 1, true],
    [[1], 2, 2, true],
    [[1, 1], 2, 1, true],
    [[2], 1, 1, false],
    [[2], 1, 2, false],
    [[2, 2], 1, 1, false],
    [[1, 1], 1, 1, false],
  ];
  for (const [voterLog, lastTerm, lastIndex, granted] of cases) {
    const net = new RaftNet(3);
    withLog(net, 0, voterLog, 2);
    net.step(0, vote(1, 3, lastIndex, lastTerm), net.refs[1]);
    assert.is((net.sentOf('r-vote-resp')[0]!.msg as RVoteResp).granted, granted, `voter ${voterLog}, candidate (${lastIndex}, ${lastTerm})`);
  }
  const net = new RaftNet(3, { preVote: false });
  withLog(net, 0, [1, 2], 2);
  net.state(0).electionDeadline = 0;
  net.advance(10, { quiet: true });
  const m = net.pending('r-vote')[0]!.msg as RVote;
  assert.equal([m.term, m.lastIndex, m.lastTerm], [3, 2, 2]);
});

test('§5.4.2 (Figure 8) a leader never commits an entry of an earlier term by counting replicas; it does once an entry of its own term above it is committed', () => {
  const net = new RaftNet(3, { preVote: false });
  // Figure 8 (c): the leader of term 4 holds index 2 from term 2, the others do not have it.
  withLog(net, 0, [1, 2], 3);
  withLog(net, 1, [1], 3);
  withLog(net, 2, [1], 3);
  net.state(0).electionDeadline = 0;
  net.state(1).electionDeadline = 1e9;
  net.state(2).electionDeadline = 1e9;
  net.advance(10, { quiet: true });
  net.run({ drop: (p) => p.msg.type === 'r-append' }); // elected; its appends held back
  assert.is(net.state(0).status, 'leader');
  assert.is(net.state(0).term, 4);
  assert.equal(net.terms(0), [1, 2, 4], 'a no-op of term 4 follows the term-2 entry');
  // Node 1 acknowledges index 2 only (the term-2 entry): stored on a majority, not committed.
  net.step(0, { type: 'r-append-resp', term: 4, from: 1, index: 2, reject: false, hintIndex: 0, hintTerm: 0 }, net.refs[1]);
  assert.is(net.state(0).commitIndex, 0, 'an entry of term 2 on a majority is not committed by a leader of term 4');
  net.step(0, { type: 'r-append-resp', term: 4, from: 1, index: 3, reject: false, hintIndex: 0, hintTerm: 0 }, net.refs[1]);
  assert.is(net.state(0).commitIndex, 3, 'the term-4 entry on a majority commits it, and the term-2 entry below');
});

// ------------------------------------------------------------------ persistence (Figure 2)

test('Figure 2: a node that voted and restarts remembers its term and vote, and does not vote twice in that term', () => {
  const net = new RaftNet(3);
  net.state(0).voteLeaseUntil = 0;
  net.step(0, vote(1, 5), net.refs[1]);
  assert.ok((net.sentOf('r-vote-resp')[0]!.msg as RVoteResp).granted);
  net.crash(0);
  net.restart(0);
  assert.equal([net.state(0).term, net.state(0).vote], [5, 1]);
  net.advance(1_000, { quiet: true }); // past the lease kept after a restart
  net.clearSent();
  net.clearInFlight();
  net.state(0).electionDeadline = 1e9;
  net.step(0, vote(2, 5), net.refs[2]);
  assert.is((net.sentOf('r-vote-resp')[0]!.msg as RVoteResp).granted, false, 'the second candidate of term 5 is refused');
});

test('Figure 2: log entries are persisted before they are acknowledged, and come back after a restart', () => {
  const net = new RaftNet(3);
  net.elect(0);
  net.tell(0, request(2));
  net.run();
  const terms = net.terms(1);
  net.crash(1);
  net.restart(1);
  assert.equal(net.terms(1), terms);
  assert.is(net.state(1).commitIndex, 0, 'the commit index is learned again from the leader');
});

// ------------------------------------------------------------------ dissertation: PreVote, CheckQuorum, leases

test('§9.6 (PreVote) a candidate first asks whether it would be elected; a partitioned node that returns does not disrupt the leader', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 100 });
  net.elect(0);
  const term = net.state(0).term;
  // Node 2 is cut off: it campaigns again and again, but never gets past its pre-votes.
  net.advance(1_000, { drop: (p) => p.to.name === 'raft-2' || p.from?.name === 'raft-2' });
  assert.is(net.state(2).term, term, 'a pre-candidate does not raise its term');
  assert.ok(net.state(2).stats.preVotes >= 3);
  assert.is(net.state(2).stats.elections, 0);
  // It still does not hear the leader, but the others hear it now (and it hears their answers):
  // its pre-votes are ignored (the leader, and a follower that hears the leader, are in their
  // lease), and the leader stays.
  net.clearSent();
  net.advance(1_000, { drop: (p) => p.to.name === 'raft-2' && p.msg.type !== 'r-vote-resp' });
  assert.ok(net.sentOf('r-vote').length >= 3, 'it kept asking');
  assert.is(net.sentOf('r-vote-resp').length, 0, 'nobody answered');
  assert.is(net.state(2).stats.elections, 0);
  assert.is(net.state(0).status, 'leader');
  assert.is(net.state(0).term, term);
  assert.is(net.state(1).term, term);
  // Back: it hears the leader and follows it.
  net.advance(500);
  assert.is(net.state(0).status, 'leader');
  assert.is(net.state(0).term, term);
  assert.is(net.state(2).leader, 0);
});

test('§6.2 (CheckQuorum) a leader that does not hear from a majority within an election timeout steps down', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 100 });
  net.elect(0);
  net.advance(350, { drop: (p) => p.to.name === 'raft-0' && p.from?.name !== 'raft-0' });
  assert.is(net.state(0).status, 'follower');
});

test('§4.2.3 a node that heard the leader within an election timeout refuses to vote for anyone else, even at a higher term', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 100 });
  net.elect(0);
  const term = net.state(0).term;
  net.clearSent();
  net.step(1, vote(2, term + 1, 100, term), net.refs[2]);
  assert.is(net.sentOf('r-vote-resp').length, 0, 'ignored');
  assert.is(net.state(1).term, term, 'without taking the higher term');
  // A leadership transfer's campaign is the exception.
  net.step(1, { ...vote(2, term + 1, 100, term), transfer: true }, net.refs[2]);
  assert.ok((net.sentOf('r-vote-resp')[0]!.msg as RVoteResp).granted);
});

test('a restarted node keeps refusing votes for an election timeout: it may have been inside a lease it forgot', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 100 });
  net.elect(0);
  const term = net.state(0).term;
  net.crash(1);
  net.restart(1);
  net.clearSent();
  net.step(1, vote(2, term + 1, 100, term), net.refs[2]);
  assert.is(net.sentOf('r-vote-resp').length, 0);
  net.advance(100, { quiet: true });
  net.clearInFlight();
  net.step(1, vote(2, term + 1, 100, term), net.refs[2]);
  assert.ok((net.sentOf('r-vote-resp').at(-1)!.msg as RVoteResp).granted);
});

test('§6.4 a linearizable read waits for a heartbeat round a majority answers after it arrived, then goes to the replica at the read index', () => {
  const net = new RaftNet(3);
  net.elect(0);
  net.tell(0, request());
  net.run();
  const commit = net.state(0).commitIndex;
  net.clearSent();
  net.tell(0, reads('linearizable', [7]));
  // The round goes out, but no follower answers yet.
  net.run({ drop: (p) => p.msg.type === 'r-heartbeat-resp' });
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 0, 'not before a majority confirmed');
  net.advance(50); // the next round is answered
  const served = net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0');
  assert.is(served.length, 1);
  assert.equal([served[0]!.msg.consistency, served[0]!.msg.afterIndex], ['session', commit]);
  assert.equal(served[0]!.msg.from, CLIENT, 'the replica answers the client directly');
});

test('§6.4 answers to a heartbeat round confirm its reads even when they come after the next round went out', () => {
  const net = new RaftNet(3, { heartbeatMs: 20 });
  net.elect(0);
  net.clearSent();
  net.tell(0, reads('linearizable', [3]));
  // The read's round goes out; its answers are held back while two more rounds go out.
  net.run({ maxSteps: 4 });
  const held = () => net.inFlight.filter((p) => p.msg.type === 'r-heartbeat-resp');
  for (let k = 0; k < 3; k++) {
    for (const p of net.inFlight.filter((x) => x.msg.type === 'r-heartbeat')) net.deliver(p);
    net.advance(20, { quiet: true });
  }
  assert.ok(held().length >= 4, 'answers of several rounds are on their way');
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 0);
  // Only the answers to the read's own round arrive (the later ones are lost).
  const first = Math.min(...held().map((p) => p.msg.round));
  for (const p of held()) if (p.msg.round === first) net.deliver(p);
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 1, 'served');
});

test('§6.4 a new leader serves no read before an entry of its term is committed', () => {
  const net = new RaftNet(3);
  net.state(0).electionDeadline = 0;
  net.state(1).electionDeadline = 1e9;
  net.state(2).electionDeadline = 1e9;
  net.advance(10, { quiet: true });
  net.run({ drop: (p) => p.msg.type === 'r-append-resp' });
  assert.is(net.state(0).status, 'leader');
  assert.is(net.state(0).commitIndex, 0, 'its no-op is not committed');
  net.clearSent();
  net.tell(0, reads('linearizable', [1]));
  net.run({ drop: (p) => p.msg.type === 'r-append-resp' });
  assert.ok(net.state(0).confirmedRound >= 1, 'leadership is confirmed by a round');
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 0, 'but the commit index may be stale');
  net.advance(50);
  assert.is(net.state(0).commitIndex, 1);
  const served = net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0');
  assert.is(served.length, 1);
  assert.is(served[0]!.msg.afterIndex, 1);
});

test('§6.4.1 lease reads go without a round while the lease holds; a leadership transfer ends them', () => {
  const net = new RaftNet(3, { electionTimeoutMs: 200, heartbeatMs: 20 });
  net.elect(0);
  net.advance(20); // a round confirmed: the lease runs
  net.clearSent();
  net.tell(0, reads('lease', [1]));
  net.deliver(net.inFlight.find((p) => p.to.name === 'raft-0')!);
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 1, 'served in the same turn');
  net.tell(0, { type: 'r-transfer', to: 1 });
  net.run({ drop: (p) => p.msg.type === 'r-timeout-now' });
  net.clearSent();
  net.tell(0, reads('lease', [2]));
  net.deliver(net.inFlight.find((p) => p.to.name === 'raft-0')!);
  assert.is(net.sentOf('client-reads').filter((p) => p.to.name === 'replica-0').length, 0, 'after a transfer began, a lease read waits for a round');
});

// ------------------------------------------------------------------ §3.10 leadership transfer

test('§3.10 leadership transfer: the leader stops taking entries, brings the target up to date, and the target wins the next term at once', () => {
  const net = new RaftNet(3);
  net.elect(0);
  // Node 2 is behind.
  net.tell(0, request());
  net.run({ drop: (p) => p.to.name === 'raft-2' });
  assert.ok(net.state(2).log.lastIndex < net.state(0).log.lastIndex);
  const term = net.state(0).term;
  net.tell(1, { type: 'r-transfer', to: 2 }); // any node forwards it to the leader
  net.tell(0, request());
  net.run();
  assert.is(net.state(2).status, 'leader');
  assert.is(net.state(2).term, term + 1);
  assert.is(net.state(0).status, 'follower');
  const redirects = net.sentOf('client-redirect').filter((p) => p.to.name === 'client');
  assert.is(redirects.length, 1, 'the command that came during the transfer goes back to its client, to retry with the new leader');
  assert.equal([redirects[0]!.msg.leader?.name, redirects[0]!.msg.reads], ['raft-2', false]);
});

// ------------------------------------------------------------------ etcd: progress, pipelining, batching

test('etcd flow control: a follower in replicate state has at most maxInflightMsgs appends in flight; acknowledgements free the window', () => {
  const net = new RaftNet(3, { maxInflightMsgs: 3, window: 100, maxAppendBytes: 1 });
  net.elect(0);
  assert.is(net.state(0).progress[1]!.state, 'replicate');
  net.clearSent();
  for (let k = 1; k <= 8; k++) {
    net.tell(0, request());
    net.deliver(net.inFlight.find((p) => p.to.name === 'raft-0' && p.msg.type === 'client-request')!);
    net.deliver(net.inFlight.find((p) => p.to.name === 'raft-0' && p.msg.type === 'flush')!);
  }
  const toOne = () => net.inFlight.filter((p) => p.to.name === 'raft-1' && p.msg.type === 'r-append');
  assert.is(toOne().length, 3, 'three appends in flight, the rest waits');
  // One acknowledgement frees one message's room.
  net.deliver(toOne()[0]!);
  net.deliver(net.inFlight.find((p) => p.msg.type === 'r-append-resp' && p.from?.name === 'raft-1')!);
  assert.is(toOne().length, 3);
  net.run();
  assert.is(net.state(1).log.lastIndex, net.state(0).log.lastIndex, 'all of it arrives');
});

test('a follower that lost entries it had acknowledged (memory storage) is reported once and replicated to again from where its log ends', () => {
  const net = new RaftNet(3);
  net.elect(0);
  for (let k = 0; k < 3; k++) {
    net.tell(0, request());
    net.run();
  }
  assert.equal(net.terms(1), net.terms(0));
  // Node 1 comes back with nothing: its durable state is gone.
  net.crash(1);
  net.durable(1).clear();
  net.restart(1);
  net.state(1).electionDeadline = Number.POSITIVE_INFINITY;
  net.tell(0, request());
  net.run();
  net.advance(200);
  assert.equal(net.terms(1), net.terms(0), "its log is the leader's again");
  assert.is(net.errors(0).filter((e) => e.includes('lost durable data')).length, 1, 'said once');
});

test("etcd probe state: after a rejection the leader sends one append at a time until the follower's log is found", () => {
  const net = new RaftNet(3, { preVote: false });
  withLog(net, 0, [1, 1, 1, 1, 1], 1);
  withLog(net, 1, [1], 1);
  net.state(0).electionDeadline = 0;
  net.state(1).electionDeadline = 1e9;
  net.state(2).electionDeadline = 1e9;
  net.advance(10, { quiet: true });
  net.run({ drop: (p) => p.msg.type === 'r-append' || p.to.name === 'raft-2' });
  assert.is(net.state(0).status, 'leader');
  // Its first appends were lost: node 1 is probed, one message at a time.
  assert.is(net.state(0).progress[1]!.state, 'probe');
  let most = 0;
  for (let k = 0; k < 200 && net.state(0).progress[1]!.state === 'probe'; k++) {
    most = Math.max(most, net.inFlight.filter((p) => p.to.name === 'raft-1' && p.msg.type === 'r-append').length);
    if (!net.run({ maxSteps: 1, drop: (p) => p.to.name === 'raft-2' })) net.advance(10, { quiet: true });
  }
  assert.is(most, 1, 'never more than one probe in flight');
  assert.is(net.state(0).progress[1]!.state, 'replicate');
  net.run({ drop: (p) => p.to.name === 'raft-2' });
  assert.equal(net.terms(1), net.terms(0));
});

test('requests that arrive in one turn share one entry, up to maxBatchCommands', () => {
  const net = new RaftNet(3, { maxBatchCommands: 4 });
  net.elect(0);
  const li = net.state(0).log.lastIndex;
  for (let k = 0; k < 10; k++) net.tell(0, request(1, `c${k}`));
  net.tell(0, request(6, 'big'));
  net.run();
  const entries = net
    .state(0)
    .log.entries.slice(li)
    .map((x) => commandsIn(x.value));
  assert.equal(entries, [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1], [6]], 'whole requests, never split: one larger than the bound is an entry of its own');
});

test('a follower redirects requests to the leader it knows, and forwards reads to it (as etcd forwards ReadIndex), whose replica answers the client; with no leader known, or a forward that finds no leader, the client is redirected', () => {
  const net = new RaftNet(3);
  net.elect(0);
  net.clearSent();
  net.tell(1, request());
  net.tell(1, reads('linearizable', [4]));
  net.run();
  assert.equal(
    net.sentOf('client-redirect').map((p) => [p.to.name, p.msg.leader?.name, p.msg.reads]),
    [['client', 'raft-0', false]],
    'the request: the client learns the leader',
  );
  assert.equal(
    net.sentOf('r-forward').map((p) => [p.to.name, p.msg.message.type]),
    [['raft-0', 'client-reads']],
  );
  assert.ok(
    net.sentOf('client-reads').some((p) => p.to.name === 'replica-0' && p.msg.from === CLIENT),
    'the leader served the forwarded reads (its replica answers the client)',
  );
  // A node that knows no leader redirects (naming none), and a forward is never forwarded again.
  net.clearSent();
  net.state(2).leader = NONE;
  net.tell(2, request());
  net.step(2, { type: 'r-forward', from: 1, message: reads('linearizable', [5]) }, net.refs[1]);
  net.run();
  assert.equal(
    net.sentOf('client-redirect').map((p) => [p.to.name, p.msg.leader, p.msg.reads]),
    [
      ['client', null, true],
      ['client', null, false],
    ],
  );
  assert.is(net.sentOf('r-forward').length, 0);
});

test("the leader tells its node's replica where a client's outcomes go, once per client address; stepping down, it hands back what waits and clears the routes", () => {
  const net = new RaftNet(3);
  net.elect(0);
  net.clearSent();
  net.tell(0, request(1, 'a'));
  net.tell(0, request(1, 'a'));
  net.tell(0, request(1, 'b'));
  net.run();
  const routes = net
    .sentOf('client-route')
    .filter((p) => p.to.name === 'replica-0')
    .map((p) => p.msg.client);
  assert.equal(routes, ['a', 'b'], "one route per client, to the leader's own replica");
  // Requests wait (a transfer is under way: no new entries), then leadership moves.
  net.tell(0, { type: 'r-transfer', to: 1 });
  net.run({ drop: (p) => p.msg.type === 'r-timeout-now' });
  net.clearSent();
  net.tell(0, request(2, 'a'));
  net.run({ maxSteps: 1 });
  net.step(0, { type: 'r-heartbeat', term: net.state(0).term + 1, from: 1, commit: 0, round: 0 }, net.refs[1]);
  const back = net.sentOf('client-redirect').filter((p) => p.to.name === 'client');
  assert.equal(
    back.map((p) => [p.msg.leader?.name, p.msg.reason]),
    [['raft-1', 'leadership moved']],
  );
  assert.is(net.sentOf('client-routes-clear').filter((p) => p.to.name === 'replica-0').length, 1, 'its replica stops answering clients');
  assert.is(net.state(0).client.routes.size, 0);
});

test("configure tunes a running node's bounds (and refuses timing, naming it); wiring changes keep their size", () => {
  const net = new RaftNet(3);
  net.elect(0);
  net.clearSent();
  net.ask(0, { type: 'configure', options: { window: 3, maxBatchCommands: 1 } });
  net.ask(0, { type: 'configure', options: { heartbeatMs: 5 } as object });
  net.ask(0, { type: 'configure', nodes: [net.refs[0]!] });
  net.run();
  const answers = net.sentOf('configured').map((p) => [p.msg.ok, p.msg.error ?? '']);
  assert.equal(
    answers.map((a) => a[0]),
    [true, false, false],
  );
  assert.match(String(answers[1]![1]), 'heartbeatMs cannot change while the cluster runs');
  assert.match(String(answers[2]![1]), 'configure gave 1 nodes to a cluster of 3');
  assert.equal([net.state(0).opts.window, net.state(0).opts.maxBatchCommands, net.state(0).opts.heartbeatMs], [3, 1, 50]);
  const li = net.state(0).log.lastIndex;
  for (let k = 0; k < 5; k++) net.tell(0, request(1, `c${k}`));
  net.run({ drop: (p) => p.msg.type === 'r-append-resp' });
  assert.is(net.state(0).log.lastIndex - net.state(0).commitIndex, 3, 'no more than the window uncommitted');
  assert.ok(
    net
      .state(0)
      .log.entries.slice(li)
      .every((x) => commandsIn(x.value).length === 1),
    'one request per entry',
  );
});

test('RaftLog: terms, the up-to-date rule and findConflictByTerm', () => {
  const log = new RaftLog();
  log.append([1, 1, 2, 2, 3].map((t) => e(t)));
  assert.is(log.term(0), 0);
  assert.is(log.term(5), 3);
  assert.is(log.term(6), -1);
  assert.ok(log.isUpToDate(5, 3));
  assert.not.ok(log.isUpToDate(4, 3));
  assert.ok(log.isUpToDate(1, 4));
  assert.equal(log.findConflictByTerm(5, 2), [4, 2]);
  assert.equal(log.findConflictByTerm(5, 1), [2, 1]);
  log.compact(3);
  assert.equal([log.snapIndex, log.snapTerm, log.term(2), log.term(3)], [3, 2, -1, 2]);
  assert.equal(log.findConflictByTerm(5, 1), [3, 2]);
});

test.run();
