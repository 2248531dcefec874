/**
 * How a replica answers clients, for any protocol: outcomes of applied commands go back in one
 * message per client per batch of slots, to the address its node's leader was told (a route:
 * never in the log); reads wait until the replica has applied their index, and are answered in
 * one message per client. Pure: the replica actor gives `send` and the time.
 */
import type { ActorRef } from '@synod/actors';
import type { ResultSink } from './executor.js';
import type { CommandInSlot } from './log-format.js';
import type { Outcome } from './outcome.js';
import { ReadResultsWriter, ReadStatus, ResultsWriter, forEachEntry, type ClientReply, type MClientReads } from './protocol.js';

export interface AnswerOptions {
  /** Client addresses kept (the least recently told is forgotten beyond). Default 100 000. */
  maxRoutes: number;
  /** Reads waiting for the replica to catch up, at most. Default 10 000 messages. */
  maxWaitingReads: number;
  /** A read waits this long for the replica to reach its index, then is answered "unavailable". Default 2000. */
  readTimeoutMs: number;
}

export const defaultAnswerOptions: AnswerOptions = { maxRoutes: 100_000, maxWaitingReads: 10_000, readTimeoutMs: 2000 };

type Send = (to: ActorRef<any>, m: ClientReply) => void;
type Query = (bytes: Uint8Array) => [ok: boolean, bytes: Uint8Array];

interface WaitingRead {
  m: MClientReads;
  to: ActorRef<ClientReply>;
  deadline: number;
}

export class ClientAnswers implements ResultSink {
  private readonly routes = new Map<string, ActorRef<ClientReply>>();
  /** Outcomes of this batch, per client (cleared by `flushResults`). */
  private readonly pending = new Map<string, ResultsWriter>();
  private readonly spare: ResultsWriter[] = [];
  private waiting: WaitingRead[] = [];
  private readonly readWriter = new ReadResultsWriter();

  constructor(readonly options: AnswerOptions = defaultAnswerOptions) {}

  /** Where `client`'s outcomes go from now on (null: nowhere). */
  route(client: string, to: ActorRef<ClientReply> | null): void {
    this.routes.delete(client);
    if (to === null) return;
    this.routes.set(client, to);
    if (this.routes.size > this.options.maxRoutes) this.routes.delete(this.routes.keys().next().value!);
  }

  /** Forgets every route (its node's leader stepped down: the next leader's replica answers). */
  clearRoutes(): void {
    this.routes.clear();
  }

  get routeCount(): number {
    return this.routes.size;
  }

  /** ResultSink: keeps an outcome for its client, if this replica answers that client. */
  result(client: string, sessionNo: number, seq: number, outcome: Outcome, bytes: Uint8Array, _command: CommandInSlot, _applied: boolean, index: number): void {
    if (!this.routes.has(client)) return;
    let w = this.pending.get(client);
    if (w === undefined) {
      w = this.spare.pop() ?? new ResultsWriter();
      this.pending.set(client, w);
    }
    w.add(sessionNo, seq, outcome, index, bytes);
  }

  /** Sends the outcomes kept since the last call, one message per client, applied up to `index`. */
  flushResults(index: number, send: Send): void {
    if (this.pending.size === 0) return;
    for (const [client, w] of this.pending) {
      const to = this.routes.get(client);
      const bytes = w.finish();
      if (to) send(to, { type: 'client-results', index, bytes });
      this.spare.push(w);
    }
    this.pending.clear();
  }

  /**
   * A message of reads: answered now when this replica has applied `afterIndex`, else kept until
   * it has (or its time is up). `to` is where the answers go.
   */
  reads(m: MClientReads, to: ActorRef<ClientReply>, appliedUpTo: number, now: number, query: Query, send: Send): void {
    const after = m.consistency === 'eventual' ? 0 : m.afterIndex;
    if (appliedUpTo >= after) {
      this.answer(m, to, appliedUpTo, query, send);
      return;
    }
    if (this.waiting.length >= this.options.maxWaitingReads) {
      this.unavailable(m, to, appliedUpTo, `${this.waiting.length} reads are waiting for this replica to catch up (maxWaitingReads)`, send);
      return;
    }
    this.waiting.push({ m, to, deadline: now + this.options.readTimeoutMs });
  }

  /** After applying: answers the reads whose index is reached; on ticks, gives up on late ones. */
  serve(appliedUpTo: number, now: number, query: Query, send: Send): void {
    if (this.waiting.length === 0) return;
    const keep: WaitingRead[] = [];
    for (const r of this.waiting) {
      if (appliedUpTo >= r.m.afterIndex) this.answer(r.m, r.to, appliedUpTo, query, send);
      else if (now >= r.deadline)
        this.unavailable(
          r.m,
          r.to,
          appliedUpTo,
          `this replica did not reach index ${r.m.afterIndex} within ${this.options.readTimeoutMs} ms (readTimeoutMs); it is at ${appliedUpTo}`,
          send,
        );
      else keep.push(r);
    }
    this.waiting = keep;
  }

  get waitingReads(): number {
    return this.waiting.length;
  }

  private answer(m: MClientReads, to: ActorRef<ClientReply>, index: number, query: Query, send: Send): void {
    const w = this.readWriter;
    forEachEntry(m.bytes, (r) => {
      const id = r.uvar();
      const [ok, bytes] = query(r.bytesView());
      w.add(id, ok ? ReadStatus.Ok : ReadStatus.Failed, bytes);
    });
    send(to, { type: 'client-read-results', index, bytes: w.finish() });
  }

  /** Answers every read of `m` "unavailable" (the client tries again, maybe elsewhere). */
  unavailable(m: MClientReads, to: ActorRef<ClientReply>, index: number, why: string, send: Send): void {
    const w = this.readWriter;
    const reason = utf8.encode(why);
    forEachEntry(m.bytes, (r) => {
      const id = r.uvar();
      r.bytesView();
      w.add(id, ReadStatus.Unavailable, reason);
    });
    send(to, { type: 'client-read-results', index, bytes: w.finish() });
  }
}

const utf8 = new TextEncoder();
