/** Signalling a whole process tree through its process group (POSIX). */

/** Whether steps run in their own process group (everywhere but Windows). */
export const USE_PROCESS_GROUPS = process.platform !== 'win32';

/**
 * Sends `sig` to every process of the group led by `pgid` (a child spawned with `detached: true`
 * leads a new session and group whose id is its pid). Returns false when no process was left to
 * signal (ESRCH) or the signal was refused (EPERM); never throws.
 */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}
