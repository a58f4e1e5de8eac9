/**
 * What the editor asks of a session's git work, headless (the host only routes):
 * - `fileAtCommit`: a file's text at a commit the session produced or started from (the diff
 *   view's two sides). Only commits named in the session (its base, its steps' `commit` and
 *   `base` outputs) and paths inside the repository are shown.
 * - `discardStep`: drops a step's branch (and its worktree, if one is left), refused while the
 *   session's runner is live and for the branch the user has checked out.
 */
import * as path from 'node:path';
import type { SessionState, StepState } from '../types';
import { git, gitText, serialized } from './git';
import { gitRepoOf, removeWorktree, worktreesRoot, WorkspaceError } from './worktrees';

/** The commits a session may show: its base and every step's `commit` and `base` outputs. */
export function sessionCommits(session: SessionState): Set<string> {
  const out = new Set<string>();
  if (session.base) out.add(session.base);
  for (const s of Object.values(session.steps)) {
    if (s.outputs.commit) out.add(s.outputs.commit);
    if (s.outputs.base) out.add(s.outputs.base);
  }
  return out;
}

/** A path relative to the top of the repository, with `/` separators and no `..`; else a reason. */
export function checkRepoPath(file: string): string | undefined {
  if (file === '' || file.includes('\0')) return 'the path is empty';
  if (path.posix.isAbsolute(file) || path.win32.isAbsolute(file)) return `${file} is not relative to the repository`;
  const parts = file.split(/[\\/]/);
  if (parts.some((p) => p === '..')) return `${file} is outside the repository`;
  if (parts[0] === '.git') return `${file} is inside .git`;
  return undefined;
}

export interface FileAtCommit {
  /** False when the file does not exist at that commit (added or deleted by the change): `text` is empty. */
  exists: boolean;
  /** False for a binary file: `text` is empty. */
  text: string;
  binary?: boolean;
}

export async function fileAtCommit(repoRoot: string, session: SessionState, commit: string, file: string): Promise<FileAtCommit> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit) || !sessionCommits(session).has(commit)) {
    throw new WorkspaceError(`commit ${commit.slice(0, 12)} is not one of session ${session.id}'s: only its base and its steps' commits can be shown`);
  }
  const bad = checkRepoPath(file);
  if (bad) throw new WorkspaceError(`cannot show ${file}: ${bad}`);
  const repo = await gitRepoOf(repoRoot);
  if (!repo) throw new WorkspaceError(`${repoRoot} is not in a git repository`);
  const spec = `${commit}:${file.replace(/\\/g, '/').replace(/^(\.\/)+/, '')}`;
  const type = await git(repo.top, ['cat-file', '-t', spec], { okCodes: [128] });
  if (type.code !== 0) {
    // A missing commit (discarded and pruned) is an error; a missing file at a commit is an empty side.
    const has = await git(repo.top, ['cat-file', '-e', `${commit}^{commit}`], { okCodes: [1, 128] });
    if (has.code !== 0) throw new WorkspaceError(`commit ${commit.slice(0, 12)} is no longer in the repository (its branch was discarded)`);
    return { exists: false, text: '' };
  }
  if (type.stdout.trim() !== 'blob') throw new WorkspaceError(`${file} is a ${type.stdout.trim()} at ${commit.slice(0, 12)}, not a file`);
  const text = (await git(repo.top, ['cat-file', 'blob', spec])).stdout;
  if (text.includes('\0')) return { exists: true, text: '', binary: true };
  return { exists: true, text };
}

/** A step with a branch the session made (a worktree step or a git/merge), by instance or step id. */
export function stepWithBranch(session: SessionState, stepId: string): StepState & { outputs: { branch: string } } {
  const hits = Object.values(session.steps).filter((s) => s.id === stepId || s.stepId === stepId);
  if (!hits.length) throw new WorkspaceError(`there is no step '${stepId}' in session ${session.id}`);
  if (hits.length > 1) throw new WorkspaceError(`step '${stepId}' has ${hits.length} matrix instances: name one (e.g. '${hits[0].id}')`);
  const s = hits[0];
  const branch = s.outputs.branch;
  if (!branch || !s.outputs.base || !branch.startsWith(`orchestrator/${session.id}/`)) throw new WorkspaceError(`step '${s.id}' has no branch of its own (only a step with workspace: worktree or a git/merge has one)`);
  return s as StepState & { outputs: { branch: string } };
}

export interface Discarded {
  branch: string;
  /** False when the branch was gone already. */
  deleted: boolean;
}

/** Deletes the step's branch `orchestrator/<session>/<step>` and its worktree if one is left. The caller checks that no runner is live. */
export async function discardStep(repoRoot: string, session: SessionState, stepId: string): Promise<Discarded> {
  const step = stepWithBranch(session, stepId);
  const branch = step.outputs.branch;
  const repo = await gitRepoOf(repoRoot);
  if (!repo) throw new WorkspaceError(`${repoRoot} is not in a git repository`);
  const current = (await git(repo.top, ['symbolic-ref', '-q', 'HEAD'], { okCodes: [1] })).stdout.trim();
  if (current === `refs/heads/${branch}`) throw new WorkspaceError(`${branch} is checked out: switch to another branch first`);
  const dir = step.outputs.worktree;
  if (dir && path.resolve(dir).startsWith(path.join(worktreesRoot(repoRoot), session.id) + path.sep)) await removeWorktree(repo, dir);
  return serialized(repo.commonDir, async () => {
    const ref = `refs/heads/${branch}`;
    const have = await gitText(repo.top, ['for-each-ref', '--format=%(refname)', ref]);
    if (have.trim() !== ref) return { branch, deleted: false };
    await git(repo.top, ['update-ref', '--no-deref', '-d', ref], { retryLocks: true });
    return { branch, deleted: true };
  });
}
