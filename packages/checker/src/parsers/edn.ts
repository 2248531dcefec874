/**
 * Jepsen histories in EDN, one event map per line, as in `data/histories/kv/`:
 *
 *     {:process 0, :type :invoke, :f :get, :key "1", :value nil}
 *
 * `:process`, `:type` and `:f` are required, `:key` and `:value` optional (value `nil` when
 * absent); other fields (`:time`, `:index`, `:error` …) are ignored. Events of the `:nemesis`
 * process (fault injection) are skipped. A line that is not such a map is an error.
 */
import type { History, ProcessId } from '../history.js';
import type { Model } from '../model.js';
import { EdnSymbol, Keyword, formatEdn, readEdn, type EdnMap, type EdnValue } from './edn-reader.js';
import { HistoryParseError } from './errors.js';
import { historyFromJepsenEvents, type JepsenEvent, type JepsenEventType } from './jepsen-ops.js';
import { splitLines } from './lines.js';

const K = {
  process: Keyword.of('process'),
  type: Keyword.of('type'),
  f: Keyword.of('f'),
  key: Keyword.of('key'),
  value: Keyword.of('value'),
};
const TYPES = new Set<string>(['invoke', 'ok', 'fail', 'info']);
const FORMAT = '{:process P, :type :invoke|:ok|:fail|:info, :f :F, :key K, :value V}';

/** Reads the events of an EDN history without interpreting them. */
export function readEdnEvents(text: string, source: string): JepsenEvent[] {
  const events: JepsenEvent[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';')) continue;
    const line = i + 1;
    let form: EdnValue;
    try {
      form = readEdn(raw, { maxDepth: 16 });
    } catch (e) {
      throw new HistoryParseError(source, line, `not valid EDN (${(e as Error).message}); expected one event per line, \`${FORMAT}\``);
    }
    if (!(form instanceof Map)) throw new HistoryParseError(source, line, `expected an event map \`${FORMAT}\`, got ${clip(formatEdn(form))}`);
    const ev = toEvent(form, line, source);
    if (ev) events.push(ev);
  }
  return events;
}

/**
 * Parses an EDN history into a history for `model` (which must have `fromJepsen`).
 * @throws HistoryParseError naming `source` and the line.
 */
export function parseEdnHistory<S, I, O>(text: string, model: Model<S, I, O>, source = '<input>'): History<I, O> {
  return historyFromJepsenEvents(readEdnEvents(text, source), model, source);
}

function toEvent(m: EdnMap, line: number, source: string): JepsenEvent | undefined {
  const fail = (why: string): never => {
    throw new HistoryParseError(source, line, why);
  };
  if (!m.has(K.process)) fail(`the event has no :process; expected \`${FORMAT}\``);
  const p = m.get(K.process)!;
  if (p instanceof Keyword && p.name === 'nemesis') return undefined; // fault injection, not a client call
  let process: ProcessId;
  if (typeof p === 'number' && Number.isInteger(p)) process = p;
  else if (typeof p === 'string') process = p;
  else if (p instanceof Keyword || p instanceof EdnSymbol) process = p.toString();
  else return fail(`:process must be an integer or a name, got ${clip(formatEdn(p))}`);
  const t = m.get(K.type);
  if (!(t instanceof Keyword) || !TYPES.has(t.name)) {
    return fail(`:type must be :invoke, :ok, :fail or :info, got ${t === undefined ? 'nothing' : clip(formatEdn(t))}`);
  }
  const f = m.get(K.f);
  if (!(f instanceof Keyword)) return fail(`:f must be a keyword such as :get, got ${f === undefined ? 'nothing' : clip(formatEdn(f))}`);
  return { line, process, type: t.name as JepsenEventType, f: f.name, key: m.get(K.key), value: m.has(K.value) ? m.get(K.value)! : null };
}

function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}
