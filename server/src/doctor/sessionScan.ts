/**
 * Every session folder of the repository read once per doctor run, for the checks that look at
 * sessions (their loading, their runners, their processes, their worktrees).
 */
import { lockStatus, type LockStatus } from '../store/lock';
import { listSessionIds, loadSession, sessionPaths, type LoadedSession } from '../store/sessionStore';

export interface ScannedSession {
  readonly id: string;
  /** The session as readers see it, when it loads. */
  readonly loaded?: LoadedSession;
  /** Why it does not load (one line). */
  readonly error?: string;
  readonly lock: LockStatus;
}

export function scanSessions(repoRoot: string): ScannedSession[] {
  return listSessionIds(repoRoot).map((id) => {
    const lock = lockStatus(sessionPaths(repoRoot, id).lock);
    try {
      return { id, loaded: loadSession(repoRoot, id), lock };
    } catch (e) {
      return { id, error: e instanceof Error ? e.message : String(e), lock };
    }
  });
}
