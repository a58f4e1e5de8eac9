/**
 * The session's git worktrees: where they live, their branches, making one, committing what a
 * step changed in it, removing them (docs/sessions.md, "Worktrees").
 *
 * - A step's worktree is `<root>/.orchestrator/worktrees/<session>/<step>` on branch
 *   `orchestrator/<session>/<step>`.
 * - Only worktree commands and commands run inside our own worktrees are used: the user's working
 *   tree, index, stash, HEAD and current branch are never read for writing nor written.
 * - Leftovers of a killed runner: a worktree registered for our folder is removed with
 *   `worktree remove --force --force` (it may still carry git's "initializing" lock), its folder
 *   deleted, and git's record of any of *our* worktrees whose folder is gone is dropped (a prune
 *   scoped to `.orchestrator/worktrees/`, so the user's own worktrees are left as they are). Lock
 *   files under `refs/heads/orchestrator/<session>/` can only be ours, and the runner that made
 *   them is dead (we hold the session's lock): they are removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { git, gitText, serialized } from './git';

export interface GitRepo {
  /** The top of the working tree (`rev-parse --show-toplevel`). */
  readonly top: string;
  /** The common git directory (shared by every worktree). */
  readonly commonDir: string;
  /** The orchestrator's repository root relative to `top` ('' when they are the same). */
  readonly prefix: string;
}

/** The git repository `repoRoot` is in, or undefined when it is in none (or git is missing). */
export async function gitRepoOf(repoRoot: string): Promise<GitRepo | undefined> {
  try {
    const out = await gitText(repoRoot, ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir']);
    const [top, commonDir] = out.split('\n');
    if (!top || !commonDir) return undefined;
    const prefix = path.relative(fs.realpathSync(top), fs.realpathSync(repoRoot));
    return { top, commonDir, prefix };
  } catch {
    return undefined;
  }
}

/** A step id as a folder and branch name part: `test[os=linux]` → `test-os=linux`. */
export function safeName(stepId: string): string {
  return stepId
    .replace(/\[/g, '-')
    .replace(/\]/g, '')
    .replace(/[^A-Za-z0-9_.=,+-]/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[.-]+|\.lock$|\.$/g, '_');
}

export function worktreesRoot(repoRoot: string): string {
  return path.join(repoRoot, '.orchestrator', 'worktrees');
}

export function worktreeDir(repoRoot: string, session: string, stepId: string): string {
  return path.join(worktreesRoot(repoRoot), session, safeName(stepId));
}

export function branchName(session: string, stepId: string): string {
  return `orchestrator/${session}/${safeName(stepId)}`;
}

export class WorkspaceError extends Error {}

/** HEAD's commit: the session's base. A repository without a commit is a clear error. */
export async function headCommit(repoRoot: string): Promise<string> {
  const repo = await gitRepoOf(repoRoot);
  if (!repo) throw new WorkspaceError(`workspace: worktree needs a git repository, and ${repoRoot} is not in one: run git init (and commit), or remove workspace: worktree`);
  try {
    return await gitText(repoRoot, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  } catch {
    throw new WorkspaceError('workspace: worktree starts from the current commit, and this repository has no commit yet: commit something first');
  }
}

/**
 * `.orchestrator/worktrees/.gitignore` holding `*`: the worktrees stay out of the user's `git
 * status` and `git add -A` (as nested repositories they would be added as gitlinks) even when
 * `.orchestrator/.gitignore` is the user's own and does not list `worktrees/`.
 */
function ignoreAll(root: string): void {
  try {
    fs.writeFileSync(path.join(root, '.gitignore'), '# Made by the orchestrator: its worktrees are not part of the repository\n*\n', { flag: 'wx' });
  } catch {
    /* exists already */
  }
}

/** Makes a clean worktree for a step at `dir` on `branch`, starting at `start` (a commit). */
export async function createWorktree(repo: GitRepo, dir: string, branch: string, start: string): Promise<void> {
  await serialized(repo.commonDir, async () => {
    await removeWorktreeNow(repo, dir);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    ignoreAll(path.dirname(path.dirname(dir)));
    // -B: a branch left by a killed attempt is reset to `start`; --no-track: no config write.
    // --no-checkout: only git's records are made one at a time; the files come below.
    await git(repo.top, ['worktree', 'add', '--quiet', '--no-track', '--no-checkout', '-B', branch, dir, start], { retryLocks: true });
  });
  // The checkout (the files and the worktree's own index) touches nothing shared, so parallel
  // steps do it at the same time.
  await git(dir, ['reset', '--hard', '--quiet'], { retryLocks: true });
}

/** Removes the worktree at `dir` (registered or not, locked or not) and git's record of it. */
export async function removeWorktree(repo: GitRepo, dir: string): Promise<void> {
  // Deleting the files is the slow part and touches nothing shared: done outside the queue; the
  // record of a worktree whose folder is gone is then dropped by the scoped prune.
  await fs.promises.rm(dir, { recursive: true, force: true });
  await serialized(repo.commonDir, async () => removeWorktreeNow(repo, dir));
}

async function removeWorktreeNow(repo: GitRepo, dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, '.git'))) {
    try {
      await git(repo.top, ['worktree', 'remove', '--force', '--force', dir], { retryLocks: true });
    } catch {
      /* half made, or not a worktree any more: the folder goes below and its record with the prune */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  // Scoped to this session's folder: another runner may be adding a worktree for its own session.
  pruneOurs(repo, path.dirname(dir));
}

/**
 * `git worktree prune`, for our worktrees only: the record (`<common>/worktrees/<id>/`) of a
 * worktree under `under` whose folder is gone is removed, locked or not (a killed `worktree add`
 * leaves its "initializing" lock). The user's own worktrees are not looked at.
 */
export function pruneOurs(repo: GitRepo, under: string): void {
  const admin = path.join(repo.commonDir, 'worktrees');
  let names: string[];
  try {
    names = fs.readdirSync(admin);
  } catch {
    return;
  }
  const prefix = path.resolve(under) + path.sep;
  for (const name of names) {
    let gitdir: string;
    try {
      gitdir = fs.readFileSync(path.join(admin, name, 'gitdir'), 'utf8').trim();
    } catch {
      // A record without gitdir: a worktree add killed before it wrote one. Ours if its folder
      // name says so is unknowable; git's own prune treats it as garbage too. Leave it to git.
      continue;
    }
    const wt = path.dirname(path.resolve(gitdir));
    if (!(wt + path.sep).startsWith(prefix)) continue;
    if (!fs.existsSync(path.join(wt, '.git'))) fs.rmSync(path.join(admin, name), { recursive: true, force: true });
  }
}

/** Removes lock files left under `refs/heads/orchestrator/<session>/` by a dead runner. */
export function removeStaleRefLocks(repo: GitRepo, session: string): void {
  const dir = path.join(repo.commonDir, 'refs', 'heads', 'orchestrator', session);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.endsWith('.lock')) fs.rmSync(path.join(dir, n), { force: true });
}

export interface Committed {
  readonly commit: string;
  readonly base: string;
  readonly changedFiles: string[];
  readonly diffstat: string;
}

/**
 * Commits everything the step changed in its worktree (new files too; ignored files not) on its
 * branch, with a fixed author and committer, and says what changed since `base`. A step that
 * changed nothing makes no commit: its commit is `base`.
 */
export async function commitWorktree(dir: string, base: string, message: string): Promise<Committed> {
  await git(dir, ['add', '--all', '--', '.'], { retryLocks: true });
  const staged = await git(dir, ['diff', '--cached', '--quiet', '--no-ext-diff'], { okCodes: [1] });
  if (staged.code === 1) await git(dir, ['commit', '--quiet', '--no-verify', '--allow-empty-message', '-m', message], { retryLocks: true });
  const commit = await gitText(dir, ['rev-parse', 'HEAD']);
  return { commit, base, ...(await changesBetween(dir, base, commit)) };
}

/** Files changed between two commits (newline-separated, as `git diff --name-only`) and the `--shortstat` line. */
export async function changesBetween(dir: string, from: string, to: string): Promise<{ changedFiles: string[]; diffstat: string }> {
  if (from === to) return { changedFiles: [], diffstat: '' };
  const names = await gitText(dir, ['diff', '--no-ext-diff', '--no-renames', '--name-only', from, to]);
  const stat = await gitText(dir, ['diff', '--no-ext-diff', '--shortstat', from, to]);
  return { changedFiles: names ? names.split('\n') : [], diffstat: stat.trim() };
}

/** The step outputs of a worktree: commit, branch, base, changed_files (one per line), diffstat. */
export function worktreeOutputs(branch: string, c: Committed): Record<string, string> {
  return { commit: c.commit, branch, base: c.base, changed_files: c.changedFiles.join('\n'), diffstat: c.diffstat };
}

/** The worktree folders of a session that exist now, by folder name. */
export function sessionWorktrees(repoRoot: string, session: string): string[] {
  try {
    return fs.readdirSync(path.join(worktreesRoot(repoRoot), session));
  } catch {
    return [];
  }
}
