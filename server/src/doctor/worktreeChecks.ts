/**
 * Leftover worktrees and branches (docs/sessions.md, "Worktrees"): a runner removes its session's
 * worktrees when the session ends or pauses (a conflicted `git/merge` keeps its own), and `delete`
 * removes them and the branches `orchestrator/<session>/*`. What is left over:
 * - worktrees of a session at rest (finished or paused, no live runner), other than the kept ones:
 *   its runner died between the end and the clean-up;
 * - worktrees and branches of a session whose folder is gone (removed by hand, not by `delete`).
 * An interrupted session's worktrees are not leftovers: resume cleans and reuses them.
 *
 * The fixes use the engine's own code: endSessionWorkspaces under the session's lock (the
 * session's branches stay, as after a normal end), deleteSessionWorkspaces for a session gone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { branchesBySession, deleteSessionWorkspaces, endSessionWorkspaces, keptFolders } from '../engine/workspace/session';
import { gitRepoOf, sessionWorktrees, worktreesRoot } from '../engine/workspace/worktrees';
import { isAtRest } from '../engine/types';
import { SESSION_ID } from '../store/sessionFolders';
import { acquireLock, LockHeldError } from '../store/lock';
import { loadSession, sessionPaths } from '../store/sessionStore';
import type { ScannedSession } from './sessionScan';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const REMOVE_WORKTREES_ACTION = 'remove-worktrees';

interface Leftover {
  readonly session: string;
  readonly folders: string[];
  readonly branches: string[];
  readonly gone: boolean;
}

/** Session folders under .orchestrator/worktrees/ (the `.gitignore` there is ours, not a session). */
function worktreeSessions(repoRoot: string): string[] {
  try {
    return fs.readdirSync(worktreesRoot(repoRoot), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** The fix's own rule for a session at rest: its worktrees but the kept ones. */
function restingLeftovers(repoRoot: string, s: ScannedSession): string[] | undefined {
  if (!s.loaded || s.loaded.owner || s.lock.state === 'held') return undefined;
  const { state } = s.loaded;
  if (!isAtRest(state.status) || state.status === 'interrupted') return undefined;
  const keep = new Set(keptFolders(state));
  return sessionWorktrees(repoRoot, s.id).filter((f) => !keep.has(f));
}

async function findLeftovers(repoRoot: string, scan: readonly ScannedSession[]): Promise<Leftover[]> {
  const branches = await branchesBySession(repoRoot);
  const byId = new Map(scan.map((s) => [s.id, s]));
  const ids = [...new Set([...worktreeSessions(repoRoot), ...branches.keys()])].sort();
  const out: Leftover[] = [];
  for (const id of ids) {
    if (!SESSION_ID.test(id)) continue;
    const s = byId.get(id);
    if (!s && !fs.existsSync(sessionPaths(repoRoot, id).dir)) {
      out.push({ session: id, folders: sessionWorktrees(repoRoot, id), branches: branches.get(id) ?? [], gone: true });
      continue;
    }
    const folders = s ? restingLeftovers(repoRoot, s) : undefined;
    if (folders?.length) out.push({ session: id, folders, branches: [], gone: false });
  }
  return out;
}

export async function worktreeChecks(o: DoctorOptions, scan: readonly ScannedSession[]): Promise<CheckResult[]> {
  const title = 'Leftover worktrees and branches';
  const repo = await gitRepoOf(o.repoRoot);
  if (!repo) return [result('worktrees', title, 'pass', 'not a git repository: no worktrees')];
  const out: CheckResult[] = [];
  for (const l of await findLeftovers(o.repoRoot, scan)) {
    const rel = path.relative(o.repoRoot, path.join(worktreesRoot(o.repoRoot), l.session));
    const what = [l.folders.length ? `${plural(l.folders.length, 'worktree')} in ${rel}/ (${l.folders.join(', ')})` : '', l.branches.length ? `${plural(l.branches.length, 'branch', 'branches')} (${l.branches.join(', ')})` : ''].filter(Boolean).join(' and ');
    const why = l.gone ? 'its session folder is gone' : `the session is ${scan.find((s) => s.id === l.session)?.loaded?.state.status ?? 'at rest'} and no runner uses them`;
    out.push(
      result(`worktrees:${l.session}`, `Leftover worktrees of session ${l.session}`, 'warn', `${what}: ${why}`, {
        description: l.gone ? `remove them and the branches (as orchestrator delete would)` : `remove the worktrees (the branches keep the commits until orchestrator delete ${l.session})`,
        action: `${REMOVE_WORKTREES_ACTION}:${l.session}`,
      }),
    );
  }
  if (!out.length) out.push(result('worktrees', title, 'pass', 'none: every worktree belongs to a live or interrupted session'));
  return out;
}

/** `remove-worktrees:<id>`: the leftovers of a session at rest (under its lock), or of a session gone. */
export async function removeWorktreesFix(o: DoctorOptions, id: string): Promise<string> {
  const paths = sessionPaths(o.repoRoot, id);
  if (!fs.existsSync(paths.dir)) {
    const before = sessionWorktrees(o.repoRoot, id).length;
    await deleteSessionWorkspaces(o.repoRoot, id);
    return `removed ${plural(before, 'worktree')} and the branches orchestrator/${id}/* of session ${id} (its folder is gone)`;
  }
  let lock;
  try {
    lock = await acquireLock(paths.lock, { heartbeatMs: 0 });
  } catch (e) {
    if (e instanceof LockHeldError) throw new FixError(`session ${id} has a live runner: its worktrees are in use (${e.message})`);
    throw e;
  }
  try {
    const { state } = loadSession(o.repoRoot, id);
    if (!isAtRest(state.status) || state.status === 'interrupted') throw new FixError(`session ${id} is ${state.status}: its worktrees are not leftovers (orchestrator resume ${id} reuses them)`);
    const before = sessionWorktrees(o.repoRoot, id);
    await endSessionWorkspaces(o.repoRoot, state);
    const removed = before.length - sessionWorktrees(o.repoRoot, id).length;
    return removed ? `removed ${plural(removed, 'worktree')} of session ${id}` : `nothing to remove for session ${id}`;
  } finally {
    lock.release();
  }
}
