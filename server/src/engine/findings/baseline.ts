/**
 * What is new and what was fixed compared with the previous session of the same workflow file.
 * Findings are compared by their stable ids (a hash of file, line and rule; see merge.ts).
 */
import { listSessionIds, loadSession } from '../../store/sessionStore';
import type { Finding, SessionState } from '../types';

export interface Baseline {
  /** The session compared with, if there is one. */
  previous?: string;
  new: Finding[];
  unchanged: Finding[];
  /** In the previous session, not in this one. */
  fixed: Finding[];
}

/** The newest session of the same workflow file that started before this one. */
export function previousSession(repoRoot: string, state: SessionState): SessionState | undefined {
  for (const id of listSessionIds(repoRoot)) {
    if (id >= state.id) continue;
    try {
      const s = loadSession(repoRoot, id).state;
      if (s.workflow.file === state.workflow.file) return s;
    } catch {
      /* an unreadable session cannot be a baseline */
    }
  }
  return undefined;
}

export function compareFindings(current: Finding[], previous: Finding[] | undefined): Omit<Baseline, 'previous'> {
  if (!previous) return { new: [...current], unchanged: [], fixed: [] };
  const before = new Set(previous.map((f) => f.id));
  const now = new Set(current.map((f) => f.id));
  return {
    new: current.filter((f) => !before.has(f.id)),
    unchanged: current.filter((f) => before.has(f.id)),
    fixed: previous.filter((f) => !now.has(f.id)),
  };
}

export function baselineOf(repoRoot: string, state: SessionState): Baseline {
  const prev = previousSession(repoRoot, state);
  return { ...(prev ? { previous: prev.id } : {}), ...compareFindings(state.findings, prev?.findings) };
}
