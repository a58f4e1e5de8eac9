/**
 * Checks of the "done needs evidence" keys (engine/steps/verify.ts runs them):
 * - `verify` or `changes` on an approval step is a `schema` error: a person's answer has no
 *   work to check. On a `uses` step too, except `verify` on `git/merge`, which tests the merged
 *   tree (the other actions have no tree of their own to test, and no action is checked for changes).
 * - `verify: { attempts }` on a step that is not an agent step is `ignored-key` (warning): only an
 *   agent is asked again; a run step's or git/merge's check runs once.
 * - `changes: required` outside a git repository is `no-git-repo` (warning): what a step changed
 *   is read from git, so the step would fail when it runs.
 */
import * as path from 'node:path';
import type { StepGraph } from './compile';
import { problem, type Problem } from './problems';
import { stepKindOf, usesOf } from './ignoredKeys';
import { get, pairOf } from './yamlTree';

export interface VerifyCheckOptions {
  readonly file?: string;
  readonly repoRoot?: string;
  /** Present when the file system may be consulted (see ValidateOptions). */
  readonly fileExists?: (absolutePath: string) => boolean;
}

export function checkVerify(graph: StepGraph, opts: VerifyCheckOptions, out: Problem[]): void {
  let inGit: boolean | undefined;
  for (const s of graph.steps) {
    const approval = pairOf(s.node, 'approval');
    const uses = pairOf(s.node, 'uses');
    for (const key of ['verify', 'changes']) {
      const pair = pairOf(s.node, key);
      if (pair && approval) out.push(problem('schema', pair.key, `'${key}' checks the work of a run or agent step; an approval step has none: remove ${key}`));
      else if (pair && uses) {
        const refusal = actionRefusal(key, usesOf(s));
        if (refusal) out.push(problem('schema', pair.key, refusal));
      }
    }
    const attempts = pairOf(get(s.node, 'verify'), 'attempts');
    const kind = stepKindOf(s);
    if (attempts && (kind === 'run' || (kind === 'uses' && usesOf(s) === 'git/merge'))) {
      const what = kind === 'run' ? "a run step's check runs once (retry: runs the whole step again)" : "git/merge's check runs once (there is no agent to fix what fails)";
      out.push(problem('ignored-key', attempts.key, `'attempts' is ignored on this step: only an agent step is asked again when its check fails, and ${what}: remove attempts`));
    }
    const changes = pairOf(s.node, 'changes');
    if (!changes || approval || uses || !opts.file || !opts.fileExists) continue;
    inGit ??= insideGit(opts.repoRoot ?? path.dirname(opts.file), opts.fileExists);
    if (!inGit) out.push(problem('no-git-repo', changes.key, `'changes: required' reads what the step changed from git, and this folder is not in a git repository: the step would fail; run git init, or remove changes`));
  }
}

/** Why `verify` or `changes` cannot go on `uses: <action>`, or undefined when it can (`verify` on git/merge). */
function actionRefusal(key: string, action: string | undefined): string | undefined {
  const name = action ?? 'a built-in action';
  if (key === 'changes') {
    return `'changes' is not checked on a built-in action (${name}): put changes: required on the run or agent steps that do the work, or remove changes`;
  }
  if (action === 'git/merge') return undefined;
  if (action === 'git/apply') return `'verify' is not run on git/apply, which changes your own working tree: check the work before it lands, with verify: on the git/merge or worktree step it applies`;
  return `'verify' runs on git/merge only among the built-in actions (it tests the merged tree); ${name} has no tree of its own to test: move the check to a run step that needs this one, or remove verify`;
}

/** Whether dir or a folder above it holds .git (a folder with HEAD, or a worktree's .git file). */
function insideGit(dir: string, fileExists: (p: string) => boolean): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fileExists(path.join(d, '.git', 'HEAD')) || fileExists(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}
