/** Signalling a whole process tree through its process group (POSIX). */

/** Whether steps run in their own process group (everywhere but Windows). */
export const USE_PROCESS_GROUPS = process.platform !== 'win32';

/**
 * Sends `sig` to every process of the group led by `pgid` (a child spawned with `detached: true`
 * leads a new session and group whose id is its pid). Returns false when no process was left to
 * signal (ESRCH) or the signal was refused (EPERM); never throws.
 */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  // The usual call (the SIGKILL after every step's shell exits) finds the group empty: ESRCH.
  // The error it throws is never shown, so it is built without a stack trace (the capture is
  // most of the cost of the call).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  } finally {
    Error.stackTraceLimit = limit;
  }
}
