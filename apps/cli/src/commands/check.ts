/**
 * `synod check`: is each history file linearizable for a model?
 *
 *     synod check --model cas-register --format jepsen etcd_000.log etcd_001.log
 *     etcd_000.log: not linearizable (3 ms)
 *     etcd_001.log: linearizable (1 ms)
 */
import { readFile, stat } from 'node:fs/promises';
import {
  CheckerPool,
  HistoryParseError,
  builtinModels,
  formatExplanation,
  parseEdnHistory,
  parseJepsenLog,
  type AnyModel,
  type CheckResult,
  type History,
} from '@synod/checker';
import { EXIT, UsageError, oneOf, positiveNumber, type Command } from '../command.js';

const MODELS = ['cas-register', 'register', 'kv'] as const;
const FORMATS = ['jepsen', 'edn'] as const;
type Format = (typeof FORMATS)[number];

/** Exit status when some verdict is unknown (a bound was reached) and none is a violation. */
export const EXIT_UNKNOWN = 3;

const DEFAULT_TIME_LIMIT_S = 60;
const DEFAULT_MAX_MEMO_MB = 512;
const DEFAULT_MAX_FILE_MB = 256;

const VERDICT_TEXT = { linearizable: 'linearizable', 'not-linearizable': 'not linearizable', unknown: 'unknown' } as const;

interface FileReport {
  file: string;
  verdict: CheckResult['verdict'] | 'error';
  elapsedMs: number;
  operations?: number;
  partitions?: number;
  reason?: string;
  explanation?: CheckResult['explanation'];
  error?: { message: string; line?: number };
}

const parsers: Record<Format, (text: string, model: AnyModel, source: string) => History> = {
  jepsen: parseJepsenLog,
  edn: parseEdnHistory,
};

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check whether recorded histories are linearizable.',
  usage: 'synod check --model MODEL --format FORMAT [options] FILE...',
  description: [
    'Prints one line per file: `FILE: linearizable (12 ms)`, `FILE: not linearizable (…)` or',
    '`FILE: unknown (…)` when a bound (time, steps, memory) was reached before an answer.',
    'A per-key history stops at the first key found not linearizable. --max-steps alone (no',
    '--time-limit) gives the same verdict on every run and machine.',
    'Formats: jepsen = Jepsen text log (INFO  jepsen.util - P :type :f value),',
    '         edn    = one EDN event map per line ({:process P, :type :ok, :f :get, :key K, :value V}).',
    'Models:  cas-register (read, write, cas), register (read, write), kv (get, put, append per key).',
    'Exit status: 0 all linearizable, 1 some not linearizable, 2 unusable input or options (a',
    '             file that is empty, blank or has no completed operation included),',
    '             3 some unknown (and none not linearizable).',
  ].join('\n'),
  positionals: true,
  options: {
    model: { type: 'string', short: 'm', value: 'MODEL', description: `Model: ${MODELS.join(', ')}.` },
    format: { type: 'string', short: 'f', value: 'FORMAT', description: `File format: ${FORMATS.join(', ')}.` },
    json: { type: 'boolean', description: 'Print the results as JSON (with explanations) instead of lines.' },
    explain: { type: 'boolean', short: 'e', description: 'Under each violation, print why: the longest linearizable prefix and what cannot follow it.' },
    'time-limit': {
      type: 'string',
      value: 'SECONDS',
      description: `Give up on a file after this long, answering unknown (default ${DEFAULT_TIME_LIMIT_S}, none with --max-steps alone).`,
    },
    'max-steps': { type: 'string', value: 'N', description: 'Give up on a key after this many search steps, answering unknown (default: no step budget).' },
    'max-memo-mb': {
      type: 'string',
      value: 'MIB',
      description: `Memory for the search memo per partition; past it, unknown (default ${DEFAULT_MAX_MEMO_MB}).`,
    },
    'max-file-mb': { type: 'string', value: 'MIB', description: `Refuse files larger than this (default ${DEFAULT_MAX_FILE_MB}).` },
    threads: { type: 'string', value: 'N', description: 'Threads for large partitioned histories (default: all cores; 1 = this thread only).' },
  },

  async run({ values, positionals, stdout, stderr }) {
    const modelName = oneOf(values, 'model', MODELS, true)!;
    const format = oneOf(values, 'format', FORMATS, true)!;
    const maxSteps = values['max-steps'] === undefined ? undefined : positiveNumber(values, 'max-steps', 1);
    // A step budget alone is deterministic; the default time limit applies only without one.
    const timeLimitMs =
      maxSteps !== undefined && values['time-limit'] === undefined ? undefined : positiveNumber(values, 'time-limit', DEFAULT_TIME_LIMIT_S, false) * 1000;
    const maxMemoBytes = positiveNumber(values, 'max-memo-mb', DEFAULT_MAX_MEMO_MB, false) * 1024 * 1024;
    const maxFileBytes = positiveNumber(values, 'max-file-mb', DEFAULT_MAX_FILE_MB, false) * 1024 * 1024;
    const threadsOption = values.threads === undefined ? undefined : positiveNumber(values, 'threads', 1);
    if (positionals.length === 0) throw new UsageError('no history files given');
    const model = builtinModels[modelName]!;
    const parse = parsers[format];
    const json = values.json === true;
    const pool = new CheckerPool(threadsOption === undefined ? {} : { threads: threadsOption });

    const reports: FileReport[] = [];
    try {
      for (const file of positionals) {
        const started = performance.now();
        let report: FileReport;
        try {
          const text = await readHistoryFile(file, maxFileBytes);
          const history = parse(text, model, file);
          const r = await pool.check(history, model, {
            maxMemoBytes,
            ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
            ...(maxSteps !== undefined ? { maxSteps } : {}),
          });
          report = {
            file,
            verdict: r.verdict,
            elapsedMs: performance.now() - started,
            operations: r.operations,
            partitions: r.partitions.length,
            ...(r.reason ? { reason: cliWords(r.reason) } : {}),
            ...(r.explanation ? { explanation: r.explanation } : {}),
          };
        } catch (e) {
          if (!(e instanceof HistoryParseError)) throw e;
          report = { file, verdict: 'error', elapsedMs: performance.now() - started, error: { message: e.message, ...(e.line > 0 ? { line: e.line } : {}) } };
        }
        reports.push(report);
        if (!json) printReport(report, values.explain === true, stdout, stderr);
      }
    } finally {
      await pool.close();
    }

    const status = exitStatus(reports);
    if (json) {
      stdout(JSON.stringify({ model: modelName, format, status, files: reports.map(round) }, null, 2) + '\n');
    }
    return status;
  },
};

async function readHistoryFile(file: string, maxBytes: number): Promise<string> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new HistoryParseError(file, 0, 'not a regular file');
    if (s.size > maxBytes) {
      throw new HistoryParseError(
        file,
        0,
        `the file is ${(s.size / 1048576).toFixed(1)} MiB, over the limit of ${maxBytes / 1048576} MiB (raise it with --max-file-mb)`,
      );
    }
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof HistoryParseError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new HistoryParseError(file, 0, code === 'ENOENT' ? 'no such file' : `cannot read it: ${(e as Error).message}`);
  }
}

function printReport(r: FileReport, explain: boolean, stdout: (s: string) => void, stderr: (s: string) => void): void {
  if (r.verdict === 'error') {
    stderr(`synod check: ${r.error!.message}\n`);
    return;
  }
  const ms = `${Math.round(r.elapsedMs)} ms`;
  stdout(`${r.file}: ${VERDICT_TEXT[r.verdict]} (${ms})${r.reason ? `: ${r.reason}` : ''}\n`);
  if (explain && r.explanation) stdout(formatExplanation(r.explanation).replace(/^/gm, '  ') + '\n');
}

/** The library names its options; here the user set them as flags. */
function cliWords(reason: string): string {
  return reason
    .replace('(option timeLimitMs)', '(--time-limit)')
    .replace('(option maxMemoBytes)', '(--max-memo-mb)')
    .replace('(option maxSteps)', '(--max-steps)');
}

function exitStatus(reports: readonly FileReport[]): number {
  if (reports.some((r) => r.verdict === 'error')) return EXIT.usage;
  if (reports.some((r) => r.verdict === 'not-linearizable')) return EXIT.failed;
  if (reports.some((r) => r.verdict === 'unknown')) return EXIT_UNKNOWN;
  return EXIT.ok;
}

function round(r: FileReport): FileReport {
  return { ...r, elapsedMs: Math.round(r.elapsedMs * 1000) / 1000 };
}
