/**
 * What a `synod` subcommand is: its name, its options (each with help text), and what it runs.
 * `main.ts` parses arguments with `node:util` parseArgs from these definitions, prints help,
 * and turns usage mistakes into exit status 2.
 */
import { SynodError, registerErrors } from '@synod/actors';

/** One option. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder in help, e.g. `MS` for `--time-limit MS`. */
  readonly value?: string;
  readonly description: string;
}

/** What `run` gets. */
export interface CommandContext {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** A subcommand. Add one as a module in `commands/` and list it in `commands/index.ts`. */
export interface Command {
  readonly name: string;
  /** One line for `synod help`. */
  readonly summary: string;
  /** E.g. `synod check --model M --format F FILE...`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly description?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Whether the command takes positional arguments (files …). */
  readonly positionals: boolean;
  /** Runs the command and returns its exit status. Throw {@link UsageError} for bad usage. */
  run(ctx: CommandContext): Promise<number>;
}

/** A usage mistake: printed with a pointer to `--help`, exit status 2. */
export class UsageError extends SynodError {
  override readonly name = 'UsageError';
  override readonly code: string = 'usage';
}

/** Exit statuses shared by all commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The help text of a command. */
export function formatHelp(cmd: Command): string {
  const lines = [`Usage: ${cmd.usage}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  lines.push('', 'Options:');
  const rows: [string, string][] = Object.entries(cmd.options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    o.description,
  ]);
  rows.push(['-h, --help', 'Show this help.']);
  const width = Math.max(...rows.map(([a]) => a.length));
  for (const [a, b] of rows) lines.push(`  ${a.padEnd(width)}  ${b}`);
  return lines.join('\n') + '\n';
}

/** Reads a whole positive number option, or throws a UsageError that names it. */
export function positiveNumber(values: CommandContext['values'], name: string, fallback: number, integer = true): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const s = String(raw);
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got '${s}'`);
  }
  return n;
}

/** Reads a string option that must be one of `choices`. */
export function oneOf<T extends string>(values: CommandContext['values'], name: string, choices: readonly T[], required: boolean): T | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (required) throw new UsageError(`--${name} is required (one of ${choices.join(', ')})`);
    return undefined;
  }
  const s = String(raw);
  if (!(choices as readonly string[]).includes(s)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${s}'`);
  return s as T;
}

registerErrors({ UsageError });
