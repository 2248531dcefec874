/** Why a suite's process failed, in one line for the report and the terminal. */

/** Longest reason quoted from a suite's error output. */
const REASON_MAX_CHARS = 300;

/**
 * Why a suite failed, from the end of its stderr: the last line naming an error (`AskTimeoutError:
 * ask to …`), since Node follows it with a stack and its version; else the last meaningful line.
 */
export function suiteFailure(code: number | null, signal: string | null, tail: string[]): string {
  const lines = tail.map((l) => l.trim()).filter((l) => l && !/^Node\.js v\d/.test(l) && !/^[{}[\]),;]+$/.test(l) && !/^at /.test(l));
  const error = [...lines].reverse().find((l) => /^(\w+)?(Error|Exception)\b.*:/.test(l) || /^\w*Error:/.test(l));
  const why = error ?? lines[lines.length - 1];
  return `exit ${code ?? signal}${why ? `: ${why.slice(0, REASON_MAX_CHARS)}` : ''}`;
}
