/**
 * `uses: git/merge` with `with: { from: [a, b, ...] }`: a worktree of its own (branch
 * `orchestrator/<session>/<step>`) starting at the first step's commit, into which the other
 * steps' commits are merged one after another (`git merge --no-ff`). A conflict stops there: the
 * step fails with one `merge-conflict` finding per conflicted file (at the line of its first
 * conflict marker), and the conflicted worktree is kept for inspection until the session is
 * deleted or the step runs again. On success its outputs are those of a worktree step, with
 * `changed_files` and `diffstat` against the session's base; then its `verify:` runs once in the
 * merged worktree (evidence.ts verifyOnce), and a failing check fails the step, outputs kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecuteInput, StepOutcome } from '../steps/executeStep';
import { verifyOnce } from '../steps/evidence';
import { git, gitText } from './git';
import { commitOfStep, sessionBase } from './stepWorkspace';
import { branchName, changesBetween, createWorktree, gitRepoOf, worktreeDir, worktreeOutputs } from './worktrees';

/** A `with:` list: a JSON array (a YAML list), or names separated by commas or spaces. */
export function listArg(value: string | undefined): string[] {
  if (value === undefined) return [];
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(v);
      if (Array.isArray(parsed)) return parsed.map((p) => String(p)).filter((p) => p !== '');
    } catch {
      /* not JSON: split it below */
    }
  }
  return v.split(/[\s,]+/).filter((p) => p !== '');
}

function fail(reason: string, outputs: Record<string, string> = {}): StepOutcome {
  return { status: 'failed', reason, retryable: false, outputs };
}

/** Line (1-based) of the first conflict marker in a file, if any. */
export function firstConflictLine(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith('<<<<<<< '));
  return i < 0 ? undefined : i + 1;
}

export async function gitMerge(x: ExecuteInput, args: Record<string, string>): Promise<StepOutcome> {
  const started = Date.now();
  const from = listArg(args.from);
  if (!from.length) return fail('git/merge needs with: { from: [step, ...] }: the steps whose commits to merge');
  const commits: { id: string; commit: string }[] = [];
  for (const f of from) {
    const c = commitOfStep(x.session, f);
    if (typeof c === 'string') return fail(`git/merge: ${c}`);
    commits.push(c);
  }
  const repo = await gitRepoOf(x.repoRoot);
  if (!repo) return fail(`git/merge needs a git repository, and ${x.repoRoot} is not in one`);
  let base: string;
  try {
    base = await sessionBase(x);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const dir = worktreeDir(x.repoRoot, x.session.id, x.step.id);
  const branch = branchName(x.session.id, x.step.id);
  try {
    await createWorktree(repo, dir, branch, commits[0].commit);
  } catch (e) {
    return { status: 'failed', reason: `cannot make the merge's worktree: ${e instanceof Error ? e.message : String(e)}`, outputs: {} };
  }
  for (const c of commits.slice(1)) {
    if (x.signal.aborted) return { status: 'cancelled', reason: 'cancelled', outputs: {} };
    x.heard();
    const r = await git(dir, ['merge', '--no-ff', '--no-edit', '-m', `orchestrator: merge step ${c.id} into ${x.step.id}\n\nSession ${x.session.id}.`, c.commit], { okCodes: [1], retryLocks: true });
    if (r.code === 0) continue;
    const conflicted = (await gitText(dir, ['diff', '--name-only', '--diff-filter=U'])).split('\n').filter((f) => f !== '');
    if (!conflicted.length) return fail(`git/merge: merging step ${c.id} failed: ${(r.stderr || r.stdout).split('\n').find((l) => l.trim()) ?? 'exit code 1'}`);
    for (const file of conflicted) {
      const line = firstConflictLine(path.join(dir, file));
      x.finding({ severity: 'high', rule: 'merge-conflict', file, ...(line !== undefined ? { line } : {}), message: `merge conflict merging step ${c.id} (${c.commit.slice(0, 12)}) into ${commits.slice(0, commits.indexOf(c)).map((p) => p.id).join(' + ')}`, step: x.step.id, source: 'git/merge' });
    }
    const outputs = { branch, worktree: dir, conflicts: conflicted.join('\n'), base };
    return fail(`git/merge: ${conflicted.length} conflicted file(s) merging step ${c.id}: ${conflicted.slice(0, 5).join(', ')}${conflicted.length > 5 ? ', …' : ''} (the worktree ${dir} is kept for inspection)`, outputs);
  }
  const commit = await gitText(dir, ['rev-parse', 'HEAD']);
  const outputs = { ...worktreeOutputs(branch, { commit, base, ...(await changesBetween(dir, base, commit)) }), worktree: dir };
  const unproven = await verifyOnce(x, { dir, root: path.join(dir, repo.prefix) }, started);
  return unproven ? { ...unproven, outputs } : { status: 'succeeded', outputs };
}
