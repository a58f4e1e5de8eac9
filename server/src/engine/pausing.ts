/**
 * A pause asked of a live session takes effect when its running steps end; until then the
 * session's status is still `running`. The request is in control.jsonl (emptied when each run
 * starts), so whoever shows the session (the host, `orchestrator list`) can say `pausing`.
 */
import { readControl } from '../store/control';
import { sessionPaths } from '../store/sessionStore';
import { isAtRest, type SessionStatus } from './types';

export function pauseRequested(repoRoot: string, id: string): boolean {
  try {
    return readControl(sessionPaths(repoRoot, id).control).some((e) => e.command.type === 'pause');
  } catch {
    return false;
  }
}

/** The summary with `pausing: true` when a live session has a pause on its way. */
export function withPausing<T extends { id: string; status: SessionStatus; pausing?: boolean }>(repoRoot: string, s: T): T {
  if (isAtRest(s.status) || !pauseRequested(repoRoot, s.id)) return s;
  return { ...s, pausing: true };
}
