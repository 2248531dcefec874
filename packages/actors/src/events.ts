import type { DeadLetter } from './host.js';
import type { LogRecord } from './logger.js';
import type { TraceWindow } from './message-trace.js';
import type { ActorRef } from './ref.js';

/** Per-actor figures in a statistics report. */
export interface ActorStatsReport {
  name: string;
  node: number;
  id: number;
  status: string;
  /** Messages waiting in the mailbox now. */
  mailbox: number;
  /** Messages handled since the actor started. */
  processed: number;
  /** Messages handled per second over the last interval. */
  messagesPerSecond: number;
}

/** Periodic statistics of one host (`statsIntervalMs`). */
export interface StatsReport {
  time: number;
  node: number;
  /** Messages delivered into mailboxes on this host per second over the last interval. */
  messagesPerSecond: number;
  actors: ActorStatsReport[];
}

/** The events of `system.events`, with their payloads. */
export interface SystemEvents {
  'actor:started': (e: { ref: ActorRef<any>; parent: ActorRef<any> | null }) => void;
  'actor:stopped': (e: { ref: ActorRef<any> }) => void;
  'actor:crashed': (e: { ref: ActorRef<any>; error: Error; during: 'init' | 'receive' | 'stop' | 'worker'; messageType: string | undefined }) => void;
  'actor:restarted': (e: { ref: ActorRef<any>; attempt: number; delayMs: number }) => void;
  'dead-letter': (e: DeadLetter) => void;
  stats: (e: StatsReport) => void;
  /** A window of messages one host sent (while `system.traceMessages` is on). */
  messages: (e: TraceWindow) => void;
  log: (e: LogRecord) => void;
  'worker:exited': (e: { node: number; code: number | null; reason: string }) => void;
  'supervisor:escalated': (e: { supervisor: string; reason: string }) => void;
  'system:failed': (e: { reason: string }) => void;
  'system:stopped': () => void;
}
