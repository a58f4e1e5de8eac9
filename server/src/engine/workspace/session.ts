/**
 * Worktrees over a session's life: the base commit recorded at start, leftovers of a dead runner
 * cleaned at resume, worktrees removed when the runner ends (branches stay), and worktrees and
 * branches removed when the session is deleted (docs/sessions.md, "Worktrees").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompiledWorkflow } from '../../workflow/plan';
import type { SessionState } from '../types';
import { git, gitText, serialized } from './git';
import { gitRepoOf, headCommit, pruneOurs, removeStaleRefLocks, removeWorktree, sessionWorktrees, worktreesRoot, type GitRepo } from './worktrees';

/** Whether a workflow uses git at all: a step (or defaults) with `workspace: worktree`, or a `git/*` action. */
export function usesWorktrees(w: CompiledWorkflow): boolean {
  if (w.definition.defaults?.workspace === 'worktree') return true;
  return w.steps.some((s) => (s.workspace !== undefined && s.workspace !== 'shared') || (typeof s.uses === 'string' && s.uses.startsWith('git/')));
}

/** The session's base commit (HEAD now), when the workflow needs one; throws a WorkspaceError without a commit. */
export async function baseForSession(repoRoot: string, w: CompiledWorkflow): Promise<string | undefined> {
  return usesWorktrees(w) ? headCommit(repoRoot) : undefined;
}

/** What a dead runner of this session left: stale ref locks of the session, records of vanished worktrees. */
export async function recoverSessionWorkspaces(repoRoot: string, state: SessionState): Promise<void> {
  if (!usesWorktrees(state.workflow.compiled)) return;
  const repo = await gitRepoOf(repoRoot);
  if (!repo) return;
  removeStaleRefLocks(repo, state.id);
  await serialized(repo.commonDir, () => Promise.resolve(pruneOurs(repo, path.join(worktreesRoot(repoRoot), state.id))));
}

/**
 * The runner is done with the session (finished or paused): its worktrees go, except those kept
 * for inspection (a `git/merge` that failed on a conflict). The commits stay on their branches.
 */
export async function endSessionWorkspaces(repoRoot: string, state: SessionState): Promise<void> {
  if (!usesWorktrees(state.workflow.compiled)) return;
  const folders = sessionWorktrees(repoRoot, state.id);
  if (!folders.length) return;
  const repo = await gitRepoOf(repoRoot);
  if (!repo) return;
  const keep = new Set(keptFolders(state));
  for (const f of folders) if (!keep.has(f)) await removeWorktree(repo, path.join(worktreesRoot(repoRoot), state.id, f));
  removeEmptyDir(path.join(worktreesRoot(repoRoot), state.id));
}

/** Folders of conflicted merges, kept until the session is deleted (or the step runs again). */
export function keptFolders(state: SessionState): string[] {
  const merges = new Set(state.workflow.compiled.steps.filter((s) => s.uses === 'git/merge').map((s) => s.id));
  return Object.values(state.steps)
    .filter((s) => merges.has(s.stepId) && s.status === 'failed' && s.outputs.conflicts !== undefined && s.outputs.conflicts !== '')
    .map((s) => path.basename(s.outputs.worktree ?? ''))
    .filter((f) => f !== '');
}

/** `delete`: the session's worktrees (kept ones too) and its branches `orchestrator/<session>/*`. */
export async function deleteSessionWorkspaces(repoRoot: string, session: string): Promise<void> {
  const repo = await gitRepoOf(repoRoot);
  if (!repo) return;
  const dir = path.join(worktreesRoot(repoRoot), session);
  for (const f of sessionWorktrees(repoRoot, session)) await removeWorktree(repo, path.join(dir, f));
  fs.rmSync(dir, { recursive: true, force: true });
  await serialized(repo.commonDir, async () => {
    pruneOurs(repo, dir);
    removeStaleRefLocks(repo, session);
    await deleteBranches(repo, session);
  });
  removeEmptyDir(worktreesRoot(repoRoot));
}

async function deleteBranches(repo: GitRepo, session: string): Promise<void> {
  const refs = await gitText(repo.top, ['for-each-ref', '--format=%(refname)', `refs/heads/orchestrator/${session}/`]);
  // Never the branch the user has checked out (they may have switched to one to look at it).
  const current = (await git(repo.top, ['symbolic-ref', '-q', 'HEAD'], { okCodes: [1] })).stdout.trim();
  const doomed = refs.split('\n').filter((r) => r !== '' && r !== current);
  if (!doomed.length) return;
  // update-ref --stdin: one transaction, and it never looks at (or refuses over) the current branch.
  const input = doomed.map((r) => `delete ${r}\n`).join('');
  await git(repo.top, ['update-ref', '--no-deref', '--stdin'], { input, retryLocks: true });
}

function removeEmptyDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    /* not empty, or gone */
  }
}

/** The branches `orchestrator/<session>/*` by session, in one git call (none outside a git repository). */
export async function branchesBySession(repoRoot: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const repo = await gitRepoOf(repoRoot);
  if (!repo) return out;
  let refs: string;
  try {
    refs = await gitText(repo.top, ['for-each-ref', '--format=%(refname)', 'refs/heads/orchestrator/']);
  } catch {
    return out;
  }
  for (const ref of refs.split('\n')) {
    const name = ref.replace(/^refs\/heads\//, '');
    const id = /^orchestrator\/([^/]+)\//.exec(name)?.[1];
    if (id) out.set(id, [...(out.get(id) ?? []), name]);
  }
  return out;
}
