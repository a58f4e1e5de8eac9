/**
 * Is a process alive? For lock owners and for leftovers named after the pid that made them.
 * `kill(pid, 0)` alone is not enough: a zombie (exited, not yet reaped) still answers it, and a
 * pid can be reused by an unrelated process, which /proc/<pid>/stat's start time tells apart.
 */
import * as fs from 'node:fs';

/** `procStart`: the start time recorded when the process was seen alive (procStat), to tell pid reuse. */
export function processAlive(pid: number, procStart: number | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException | undefined)?.code === 'ESRCH') return false;
    // EPERM: it exists but is not ours to signal. Anything else: assume alive (the safe side).
  }
  const st = procStat(pid);
  if (st) {
    if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false; // exited, not yet reaped
    if (procStart !== undefined && st.start !== procStart) return false; // the pid was reused
  }
  return true;
}

/** State and start time (clock ticks since boot) from /proc/<pid>/stat; undefined without /proc. */
export function procStat(pid: number): { state: string; start: number } | undefined {
  const p = procInfo(pid);
  return p ? { state: p.state, start: p.start } : undefined;
}

/** What /proc/<pid>/stat says about a process. */
export interface ProcInfo {
  readonly pid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), T, ... */
  readonly state: string;
  readonly ppid: number;
  /** Its process group. */
  readonly pgid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  readonly start: number;
}

/** /proc/<pid>/stat parsed; undefined when the process is gone or there is no /proc. */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]); // field 22 overall; fields[0] is field 3
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(ppid) || !Number.isSafeInteger(pgid)) return undefined;
  return { pid, state: fields[0], ppid, pgid, start };
}

/** Whether this machine has a /proc to scan (Linux). */
export function hasProc(): boolean {
  return fs.existsSync('/proc/self/stat');
}

/** Every process visible in /proc (the living and the zombies), read one by one: a snapshot that may be slightly torn. */
export function listProcesses(): ProcInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const p = procInfo(Number(n));
    if (p) out.push(p);
  }
  return out;
}

/** The value of `name` in a process's environment (as it was at exec), when readable (our own processes only). */
export function procEnvValue(pid: number, name: string): string | undefined {
  let env: Buffer;
  try {
    env = fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const key = Buffer.from(`${name}=`);
  for (let at = 0; at < env.length; ) {
    let end = env.indexOf(0, at);
    if (end === -1) end = env.length;
    if (end - at >= key.length && env.compare(key, 0, key.length, at, at + key.length) === 0) return env.toString('utf8', at + key.length, end);
    at = end + 1;
  }
  return undefined;
}

/** A process that has exited (a zombie waiting for its parent, or dead). */
export function isGone(p: ProcInfo): boolean {
  return p.state === 'Z' || p.state === 'X' || p.state === 'x';
}

/**
 * The process groups of this process and its ancestors: never ours to stop or report (a step may
 * run `orchestrator resume` or `orchestrator doctor`).
 */
export function ownGroups(byPid: ReadonlyMap<number, ProcInfo>): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid, n = 0; pid > 1 && n < 1000; n++) {
    const p = byPid.get(pid) ?? procInfo(pid);
    if (!p) break;
    out.add(p.pgid);
    pid = p.ppid;
  }
  return out;
}
