import { closeSync, fsyncSync, openSync, writeSync, write } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes a directory's entries durable (a file created, renamed or removed in it). Windows
 * cannot open a directory for this; there NTFS journals the metadata instead, so it is skipped.
 */
export function fsyncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** After `mkdir -p` created `firstCreated` and below it `dir`: syncs every parent whose entries changed. */
export function fsyncCreatedDirs(firstCreated: string, dir: string): void {
  const top = dirname(firstCreated);
  for (let d = dir; ; d = dirname(d)) {
    fsyncDirSync(d);
    if (d === top || dirname(d) === d) break;
  }
}

/** Writes all of `buf` at the file's position (the end, for a file opened to append). */
export function writeAllSync(fd: number, buf: Buffer): void {
  for (let o = 0; o < buf.length; ) o += writeSync(fd, buf, o, buf.length - o);
}

export function writeAll(fd: number, buf: Buffer, done: (err: Error | null) => void): void {
  const step = (o: number): void => {
    if (o === buf.length) return done(null);
    write(fd, buf, o, buf.length - o, null, (err, n) => (err ? done(err) : step(o + n)));
  };
  step(0);
}
