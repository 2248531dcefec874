#!/usr/bin/env node
/**
 * The `synod` command: `synod <command> [options]`. Each subcommand is one module in
 * `commands/`; this file only dispatches, parses options and prints help.
 *
 * Exit status: whatever the command returns; 2 for usage mistakes (unknown command or option,
 * bad value), with a message saying what was wrong.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, formatHelp, type Command } from './command.js';
import { commands } from './commands/index.js';

const out = (s: string) => {
  process.stdout.write(s);
};
const err = (s: string) => {
  process.stderr.write(s);
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: synod <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `synod <command> --help` for the options of a command.',
    'Other options: -h, --help (this help), --version.',
    '',
  ].join('\n');
}

async function runCommand(cmd: Command, args: string[]): Promise<number> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: cmd.positionals, strict: true });
  } catch (e) {
    // parseArgs says e.g. "Unknown option '--foo'"; keep its words, add where to look.
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) {
    out(formatHelp(cmd));
    return EXIT.ok;
  }
  return cmd.run({ values: parsed.values, positionals: parsed.positionals, stdout: out, stderr: err });
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    out(mainHelp());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version') {
    out(`synod ${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const target = rest[0];
    if (target === undefined) {
      out(mainHelp());
      return EXIT.ok;
    }
    const cmd = commands.find((c) => c.name === target);
    if (!cmd) {
      err(`synod: unknown command '${target}'. Commands: ${commands.map((c) => c.name).join(', ')}.\n`);
      return EXIT.usage;
    }
    out(formatHelp(cmd));
    return EXIT.ok;
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    err(`synod: unknown command '${first}'. Commands: ${commands.map((c) => c.name).join(', ')}. Run 'synod --help'.\n`);
    return EXIT.usage;
  }
  try {
    return await runCommand(cmd, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`synod ${cmd.name}: ${e.message}. Run 'synod ${cmd.name} --help'.\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`synod: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70; // EX_SOFTWARE: a bug, not the user's input
  },
);
