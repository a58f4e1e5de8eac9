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
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]); // field 22 overall; fields[0] is field 3
  return Number.isSafeInteger(start) ? { state: fields[0], start } : undefined;
}
