/**
 * `uses: git/apply` with `with: { from: <step>, mode: ff | merge | uncommitted }`: brings a step's
 * commit into the user's repository. The one place the orchestrator writes there, so it checks
 * first and changes nothing when a check fails:
 * - the user's own changes (modified, staged or untracked files, `git status`) must not touch a
 *   file the step's change touches ("would collide");
 * - ff: the current branch must be an ancestor of the step's commit (it has not moved since, or
 *   moved only along it); HEAD is then fast-forwarded (`git merge --ff-only`);
 * - merge: nothing may be staged, and `git merge-tree` must merge the two without a conflict; then `git merge --no-ff`
 *   makes a merge commit on the current branch, by the repository's own git identity (as `git
 *   commit` there would be; the orchestrator's only where git has none), its message naming the
 *   session, the step it brings and the step (or the editor) that applied it;
 * - uncommitted: the diff from the step's start (`base`) to its commit must apply to the working
 *   tree as it is (`git apply --check`); it is then applied to the files only: nothing is staged
 *   or committed, HEAD and the index stay.
 * A detached HEAD is refused for ff and merge (check out a branch first).
 */
import type { ExecuteInput, StepOutcome } from '../steps/executeStep';
import type { SessionState } from '../types';
import { APPLY_MODES, type ApplyMode } from './applyModes';
import { git, gitText, userIdentity } from './git';
import { commitOfStep } from './stepWorkspace';
import { changesBetween, gitRepoOf } from './worktrees';

export { APPLY_MODES, type ApplyMode };

function refuse(reason: string): StepOutcome {
  return { status: 'failed', reason: `git/apply refused: ${reason}`, retryable: false, outputs: {} };
}

/** Paths with uncommitted changes in the user's repository: modified, staged, deleted, untracked. */
export async function dirtyFiles(top: string): Promise<Set<string>> {
  const out = (await git(top, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=none'])).stdout;
  const files = new Set<string>();
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length < 4) continue;
    files.add(p.slice(3));
    if (p[0] === 'R' || p[0] === 'C') files.add(parts[++i]); // the source of a rename or copy
  }
  return files;
}

function collisions(changed: readonly string[], dirty: ReadonlySet<string>): string[] {
  return changed.filter((f) => dirty.has(f) || [...dirty].some((d) => d.endsWith('/') && f.startsWith(d)));
}

function list(files: readonly string[]): string {
  return files.slice(0, 5).join(', ') + (files.length > 5 ? `, … (${files.length - 5} more)` : '');
}

export async function gitApply(x: ExecuteInput, args: Record<string, string>): Promise<StepOutcome> {
  return applyStep({ repoRoot: x.repoRoot, session: x.session, heard: x.heard, by: x.step.id }, args.from ?? '', args.mode ?? 'ff');
}

/** What applying needs: the session (its steps' outputs) and the repository; `heard` marks progress. */
export interface ApplyInput {
  readonly repoRoot: string;
  readonly session: SessionState;
  readonly heard?: () => void;
  /** The git/apply step that applies (named in the merge commit's message); none: the editor's Apply. */
  readonly by?: string;
}

/** `git/apply` of step `from` in `mode`, headless: the step action and the editor's *Apply* both run it. */
export async function applyStep(x: ApplyInput, fromStep: string, modeText: string): Promise<StepOutcome> {
  const mode = modeText as ApplyMode;
  if (!APPLY_MODES.includes(mode)) return refuse(`mode '${modeText}' is not one of ${APPLY_MODES.join(', ')}`);
  const src = commitOfStep(x.session, fromStep);
  if (typeof src === 'string') return refuse(src);
  const repo = await gitRepoOf(x.repoRoot);
  if (!repo) return refuse(`${x.repoRoot} is not in a git repository`);
  const top = repo.top;
  const step = x.session.steps[src.id];
  const head = await gitText(top, ['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
  const current = (await git(top, ['symbolic-ref', '-q', 'HEAD'], { okCodes: [1] })).stdout.trim();
  const dirty = await dirtyFiles(top);
  x.heard?.();

  if (mode === 'uncommitted') {
    const base = step.outputs.base ?? x.session.base;
    if (!base) return refuse(`step ${src.id} has no base commit to take its changes from`);
    const { changedFiles } = await changesBetween(top, base, src.commit);
    if (!changedFiles.length) return { status: 'succeeded', outputs: { mode, commit: head, changed_files: '' } };
    const hit = collisions(changedFiles, dirty);
    if (hit.length) return refuse(`your uncommitted changes touch ${hit.length} file(s) the step changed: ${list(hit)}; commit or stash them, then run the step again`);
    const patch = (await git(top, ['diff', '--binary', '--no-ext-diff', '--no-renames', base, src.commit])).stdout;
    const check = await git(top, ['apply', '--check', '--whitespace=nowarn', '-'], { input: patch, okCodes: [1, 128] });
    if (check.code !== 0) return refuse(`the step's change does not apply to your working tree (${firstLine(check.stderr)}): the files moved on since; use mode: merge`);
    await git(top, ['apply', '--whitespace=nowarn', '-'], { input: patch });
    return { status: 'succeeded', outputs: { mode, commit: head, changed_files: changedFiles.join('\n') } };
  }

  if (!current) return refuse(`HEAD is detached: check out the branch the change should land on, then run the step again`);
  const branch = current.replace(/^refs\/heads\//, '');
  if (mode === 'ff') {
    const ancestor = head === '' ? true : (await git(top, ['merge-base', '--is-ancestor', head, src.commit], { okCodes: [1] })).code === 0;
    if (!ancestor) return refuse(`${branch} moved since the step started (${head.slice(0, 12)} is not an ancestor of the step's commit ${src.commit.slice(0, 12)}), so it cannot be fast-forwarded: use mode: merge`);
  }
  const from = head === '' ? undefined : mode === 'ff' ? head : await gitText(top, ['merge-base', head, src.commit]).catch(() => undefined);
  const { changedFiles } = from ? await changesBetween(top, from, src.commit) : { changedFiles: (await gitText(top, ['ls-tree', '-r', '--name-only', src.commit])).split('\n').filter((f) => f) };
  const hit = collisions(changedFiles, dirty);
  if (hit.length) return refuse(`your uncommitted changes touch ${hit.length} file(s) the step changed: ${list(hit)}; commit or stash them, then run the step again`);
  if (mode === 'ff') {
    if (head === src.commit) return { status: 'succeeded', outputs: { mode, commit: head, changed_files: '' } };
    await git(top, ['merge', '--ff-only', '--quiet', src.commit], { retryLocks: true });
  } else {
    // git merge aborts when the index differs from HEAD (it would record those changes in the merge).
    const staged = await git(top, ['diff', '--cached', '--quiet', '--no-ext-diff'], { okCodes: [1] });
    if (staged.code === 1) return refuse(`you have staged changes, which a merge commit would take in: commit or unstage them (or use mode: uncommitted)`);
    const probe = await git(top, ['merge-tree', '--write-tree', '--name-only', '--no-messages', head, src.commit], { okCodes: [1] });
    if (probe.code === 1) {
      const files = probe.stdout.split('\n').slice(1).filter((f) => f !== '');
      return refuse(`merging step ${src.id} into ${branch} would conflict in ${list(files)}: merge it yourself (branch ${step.outputs.branch ?? src.commit})`);
    }
    await git(top, ['merge', '--no-ff', '--no-edit', '--quiet', '-m', mergeMessage(x, src, step.outputs.branch, mode), src.commit], { retryLocks: true, identity: await userIdentity(top) });
  }
  const now = await gitText(top, ['rev-parse', 'HEAD']);
  return { status: 'succeeded', outputs: { mode, commit: now, branch, changed_files: changedFiles.join('\n') } };
}

/** The merge commit's message: which session and step the change came from, and who applied it. */
function mergeMessage(x: ApplyInput, src: { id: string; commit: string }, branch: string | undefined, mode: ApplyMode): string {
  const by = x.by !== undefined ? `step ${x.by} (git/apply, mode ${mode})` : `the editor's Apply (mode ${mode})`;
  return [
    `orchestrator: merge step ${src.id} of session ${x.session.id}`,
    '',
    `The work of step ${src.id} (${branch ?? 'commit'} ${src.commit.slice(0, 12)}) in session ${x.session.id} of workflow ${x.session.workflow.name}, brought in by ${by}.`,
    '',
    `Orchestrator-Session: ${x.session.id}`,
    `Orchestrator-Step: ${src.id}`,
  ].join('\n');
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').replace(/^(error|fatal): /, '');
}
