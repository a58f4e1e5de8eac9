/**
 * Which of a session's branches are gone, for the Sessions view. A row offers *Discard* and *Apply*
 * from the session's summary, which comes from its state alone (sessionGit.ts), and discarding a
 * branch writes nothing there: without this, a row kept offering what was discarded. The host
 * remembers what it discarded, and asks git (one `for-each-ref` for every session) when it starts
 * and at each list of the sessions (the editor's start, its Refresh), so a branch gone otherwise (a
 * discard before a restart, `git branch -D`) stops being offered too. Only sessions at rest are filtered: a live runner may
 * be making a branch right now, and a session that runs again forgets what was gone (a step run
 * again makes its branch anew).
 */
import { branchesBySession } from '../engine/workspace/session';
import { withoutGone } from '../engine/workspace/sessionGit';
import { isAtRest, type SessionState } from '../engine/types';
import type { SessionSummary } from '../store/sessionWatcher';

export class BranchPresence {
  /** Session id → step ids (instance ids) whose branch is known to be gone. */
  private readonly gone = new Map<string, Set<string>>();

  constructor(private readonly repoRoot: string) {}

  /** The summary as the client should see it. */
  decorate(s: SessionSummary): SessionSummary {
    if (!isAtRest(s.status)) {
      this.gone.delete(s.id);
      return s;
    }
    const gone = this.gone.get(s.id);
    if (!s.git || !gone?.size) return s;
    const { git: _git, ...rest } = s;
    const git = withoutGone(s.git, gone);
    return git ? { ...rest, git } : rest;
  }

  /** A step's branch was discarded (or found gone by the discard). */
  discarded(id: string, step: string): void {
    this.gone.set(id, new Set([...(this.gone.get(id) ?? []), step]));
  }

  /**
   * Marks the steps of sessions at rest whose branch git no longer has. Returns the ids of the
   * sessions whose offer changed (to push again). `state` loads a session (undefined if it is gone).
   */
  async scan(sessions: readonly SessionSummary[], state: (id: string) => SessionState | undefined): Promise<string[]> {
    const withGit = sessions.filter((s) => s.git && isAtRest(s.status));
    if (!withGit.length) return [];
    const have = await branchesBySession(this.repoRoot);
    const changed: string[] = [];
    for (const s of withGit) {
      const st = state(s.id);
      if (!st || !isAtRest(st.status)) continue;
      const present = new Set(have.get(s.id) ?? []);
      const missing = s.git!.branches.filter((step) => {
        const branch = st.steps[step]?.outputs.branch;
        return branch !== undefined && !present.has(branch) && !this.gone.get(s.id)?.has(step);
      });
      if (!missing.length) continue;
      for (const step of missing) this.discarded(s.id, step);
      changed.push(s.id);
    }
    return changed;
  }
}
