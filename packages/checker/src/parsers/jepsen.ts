/**
 * Jepsen's text log, as in `data/histories/jepsen-etcd/`: one event per line,
 *
 *     INFO  jepsen.util - <process> <:invoke|:ok|:fail|:info> <:f> <value>
 *
 * fields separated by tabs or spaces, `<value>` in EDN (`nil`, `3`, `[1 2]`, `:timed-out`).
 * Every non-blank line must be such an event: a line we cannot read is an error, never skipped,
 * because a skipped event could change the verdict.
 */
import type { History } from '../history.js';
import type { Model } from '../model.js';
import { Keyword, readEdn, type EdnValue } from './edn-reader.js';
import { HistoryParseError } from './errors.js';
import { historyFromJepsenEvents, type JepsenEvent, type JepsenEventType } from './jepsen-ops.js';
import { splitLines } from './lines.js';

const EVENT = /^INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(\S+)\s+:(\S+)(?:\s+(.*?))?\s*$/;
const TYPES = new Set<string>(['invoke', 'ok', 'fail', 'info']);
const FORMAT = 'INFO  jepsen.util - <process> <:invoke|:ok|:fail|:info> <:f> <value>';

/** Reads the events of a Jepsen log without interpreting them. */
export function readJepsenLogEvents(text: string, source: string): JepsenEvent[] {
  const events: JepsenEvent[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const m = EVENT.exec(raw);
    if (!m) throw new HistoryParseError(source, line, `not a Jepsen log event; expected \`${FORMAT}\`, got ${JSON.stringify(clip(raw))}`);
    const [, proc, type, f, valueText] = m;
    if (!TYPES.has(type!)) throw new HistoryParseError(source, line, `unknown event type :${type}; expected :invoke, :ok, :fail or :info`);
    const process = readField(proc!, 'process', source, line);
    if (process instanceof Keyword && process.name === 'nemesis') continue; // fault injection, not a client call
    if (typeof process !== 'number' || !Number.isInteger(process)) {
      throw new HistoryParseError(source, line, `the process must be an integer, got ${JSON.stringify(proc)}`);
    }
    if (valueText === undefined || valueText === '') throw new HistoryParseError(source, line, `the event has no value; expected \`${FORMAT}\``);
    const value = readField(valueText, 'value', source, line);
    events.push({ line, process, type: type as JepsenEventType, f: f!, key: undefined, value });
  }
  return events;
}

/**
 * Parses a Jepsen log into a history for `model` (which must have `fromJepsen`, as the built-in
 * models do). @throws HistoryParseError naming `source` and the line.
 */
export function parseJepsenLog<S, I, O>(text: string, model: Model<S, I, O>, source = '<input>'): History<I, O> {
  return historyFromJepsenEvents(readJepsenLogEvents(text, source), model, source);
}

function readField(text: string, what: string, source: string, line: number): EdnValue {
  try {
    return readEdn(text, { maxDepth: 8 });
  } catch (e) {
    throw new HistoryParseError(source, line, `cannot read the ${what} ${JSON.stringify(clip(text))}: ${(e as Error).message}`);
  }
}

function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}
