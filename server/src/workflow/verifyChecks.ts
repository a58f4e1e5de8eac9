/**
 * Checks of the "done needs evidence" keys (engine/steps/verify.ts runs them):
 * - `verify` or `changes` on an approval step is a `schema` error: a person's answer has no
 *   work to check. On a `uses` step too, for now: built-in actions do not run them yet.
 * - `verify: { attempts }` on a step that is not an agent step is `ignored-key` (warning): only an
 *   agent is asked again; a run step's check runs once.
 * - `changes: required` outside a git repository is `no-git-repo` (warning): what a step changed
 *   is read from git, so the step would fail when it runs.
 */
import * as path from 'node:path';
import type { StepGraph } from './compile';
import { problem, type Problem } from './problems';
import { stepKindOf } from './ignoredKeys';
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
      else if (pair && uses) out.push(problem('schema', pair.key, `'${key}' is not run for built-in actions (uses) yet: move the check to a run step that needs this one, or remove ${key}`));
    }
    const attempts = pairOf(get(s.node, 'verify'), 'attempts');
    const kind = stepKindOf(s);
    if (attempts && kind === 'run') {
      const what = "a run step's check runs once (retry: runs the whole step again)";
      out.push(problem('ignored-key', attempts.key, `'attempts' is ignored on this step: only an agent step is asked again when its check fails, and ${what}: remove attempts`));
    }
    const changes = pairOf(s.node, 'changes');
    if (!changes || approval || uses || !opts.file || !opts.fileExists) continue;
    inGit ??= insideGit(opts.repoRoot ?? path.dirname(opts.file), opts.fileExists);
    if (!inGit) out.push(problem('no-git-repo', changes.key, `'changes: required' reads what the step changed from git, and this folder is not in a git repository: the step would fail; run git init, or remove changes`));
  }
}

/** Whether dir or a folder above it holds .git (a folder with HEAD, or a worktree's .git file). */
function insideGit(dir: string, fileExists: (p: string) => boolean): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fileExists(path.join(d, '.git', 'HEAD')) || fileExists(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}
