/**
 * A lowdb adapter that is really durable: write a temp file, fsync it, rename it over the
 * target, fsync the directory. A crash at any instant leaves either the old or the new file,
 * both complete. (lowdb's own JSONFile renames without fsync, and JSONFilePreset switches to
 * memory when NODE_ENV=test; neither is used here.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Adapter } from 'lowdb';

export class CorruptFileError extends Error {
  constructor(readonly file: string, cause: unknown) {
    super(`${file} does not parse: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

let counter = 0;

export function writeFileDurably(file: string, data: string | Buffer): void {
  replaceFile(file, data, true);
}

/**
 * Temp file and rename, without fsync: a crash of this process leaves the old file or the new one,
 * never part of one; power loss may leave neither. For records that mean nothing after a reboot
 * (a step's process record: its processes die with the machine), where an fsync per step costs.
 */
export function writeFileAtomically(file: string, data: string | Buffer): void {
  replaceFile(file, data, false);
}

function replaceFile(file: string, data: string | Buffer, durable: boolean): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = fs.openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDir(dir);
}

/** Makes a folder's entries (a rename, a new file) durable. */
export function fsyncDir(dir: string): void {
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** Reads and parses a JSON file: null when it does not exist, CorruptFileError when it does not parse. */
export function readJsonFile<T>(file: string): T | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CorruptFileError(file, e);
  }
}

export class DurableJSONFile<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  read(): Promise<T | null> {
    return Promise.resolve(readJsonFile<T>(this.file));
  }

  write(data: T): Promise<void> {
    writeFileDurably(this.file, JSON.stringify(data));
    return Promise.resolve();
  }
}

/** Runs `read` on the file opened for reading, then closes it; undefined when the file does not exist. */
export function readOpenFile<T>(file: string, read: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return read(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first line of an open file, without its newline; undefined when the file has no complete
 * line. `head`: bytes already read from its start. Reads in 64 KiB pieces up to the first newline.
 */
export function readFirstLine(fd: number, head: Buffer = Buffer.alloc(0)): string | undefined {
  const parts = [head];
  let nl = head.indexOf(10);
  for (let pos = head.length; nl === -1; ) {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return undefined;
    const chunk = buf.subarray(0, n);
    const at = chunk.indexOf(10);
    parts.push(chunk);
    if (at !== -1) nl = pos + at;
    pos += n;
  }
  return Buffer.concat(parts).toString('utf8', 0, nl);
}
