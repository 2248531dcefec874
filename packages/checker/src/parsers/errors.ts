import { SynodError, registerErrors } from '@synod/errors';

/** A history file that cannot be used: it names the file and line and says what is wrong. */
export class HistoryParseError extends SynodError {
  override readonly name = 'HistoryParseError';
  override readonly code: string = 'history-parse';
  /**
   * @param file - the file (or other source name) that was read
   * @param line - 1-based line number, 0 when the problem is the file as a whole
   * @param reason - what is wrong, and where useful what was expected
   */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${reason}`);
  }
}

registerErrors({ HistoryParseError });
