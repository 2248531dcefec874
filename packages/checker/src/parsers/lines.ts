/** Splits text into lines (`\n` or `\r\n`), keeping 1-based numbering simple: line i+1 is lines[i]. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}
