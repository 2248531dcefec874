export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** What `ctx.log` offers. Records go to the system's log sink (the console by default). */
export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  actor: string;
  message: string;
  data?: unknown;
  time: number;
}

export type LogSink = (record: LogRecord) => void;

export const consoleSink: LogSink = (r) => {
  const line = `[${r.level}] ${r.actor}: ${r.message}`;
  const args = r.data === undefined ? [line] : [line, r.data];
  if (r.level === 'error') console.error(...args);
  else if (r.level === 'warn') console.warn(...args);
  else console.log(...args);
};

export function makeLogger(actor: string, level: LogLevel, sink: LogSink, now: () => number): Logger {
  const min = rank[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, data?: unknown) => {
    if (rank[lvl] < min) return;
    sink({ level: lvl, actor, message, data, time: now() });
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && v in rank;
}
