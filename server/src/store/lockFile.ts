/**
 * The files of the session lock (lock.ts): the lock file and its takeover markers both hold one
 * LockInfo record, created with O_EXCL and fsync'd, read back with the mtime of the same inode.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { procStat } from './liveness';

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  /** Random; names this generation of the lock. */
  readonly token: string;
  /** ISO time. */
  readonly acquiredAt: string;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  readonly procStart?: number;
}

const TOKEN = /^[A-Za-z0-9_-]{8,128}$/;

export interface Seen {
  /** The content, when it parses. */
  readonly info: LockInfo | undefined;
  readonly gen: string;
  readonly mtimeMs: number;
}

/** Reads a lock (or marker) file: content and mtime of the same inode; undefined when it does not exist. */
export function look(file: string): Seen | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const text = fs.readFileSync(fd, 'utf8');
    const st = fs.fstatSync(fd, { bigint: true }); // after the read: an mtime at least as new as the content
    const info = parseInfo(text);
    return { info, gen: info ? info.token : `x${st.ino}-${st.mtimeNs}`, mtimeMs: Number(st.mtimeMs) };
  } finally {
    fs.closeSync(fd);
  }
}

let ownStart: number | undefined | null = null;

export function newInfo(): LockInfo {
  if (ownStart === null) ownStart = procStat(process.pid)?.start;
  return {
    pid: process.pid,
    host: os.hostname(),
    token: crypto.randomBytes(12).toString('hex'),
    acquiredAt: new Date().toISOString(),
    ...(ownStart !== undefined ? { procStart: ownStart } : {}),
  };
}

function parseInfo(text: string): LockInfo | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const { pid, host, token, acquiredAt, procStart } = v as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof host !== 'string' || !host) return undefined;
  if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
  if (typeof acquiredAt !== 'string') return undefined;
  if (procStart !== undefined && (typeof procStart !== 'number' || !Number.isSafeInteger(procStart))) return undefined;
  return { pid, host, token, acquiredAt, ...(procStart !== undefined ? { procStart } : {}) };
}

/** open('wx'), write, fsync. False when the file exists. On a failed write, removes what it created. */
export function createExclusive(file: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeFileSync(fd, JSON.stringify(info) + '\n');
    fs.fsyncSync(fd);
  } catch (e) {
    try {
      if (fs.statSync(file).ino === fs.fstatSync(fd).ino) fs.unlinkSync(file);
    } catch {
      // already gone
    }
    throw e;
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

export function unlinkQuiet(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
