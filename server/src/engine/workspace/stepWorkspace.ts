/**
 * `workspace: worktree` around one attempt of a shell or agent step: a clean worktree before it
 * (from the session's base commit, or from the commit of the step named by `from`), the step run
 * with the worktree as its folder, and what it changed committed on its branch after it, whatever
 * its outcome. The step's outputs then hold `commit`, `branch`, `base`, `changed_files` and
 * `diffstat` (these win over outputs of the same name the step wrote).
 */
import * as path from 'node:path';
import type { CompiledStep } from '../../workflow/plan';
import type { WorkflowFile } from '../../workflow/schema';
import type { SessionState } from '../types';
import type { ExecuteInput, StepOutcome } from '../steps/executeStep';
import { branchName, commitWorktree, createWorktree, gitRepoOf, headCommit, worktreeDir, worktreeOutputs } from './worktrees';

/** Where a step in a worktree runs: the worktree, and the folder in it matching the repository root. */
export interface StepWorkspace {
  readonly dir: string;
  readonly root: string;
}

/** The step's working directory: `working_directory` relative to its workspace's root (the repository root when shared). */
export function stepCwd(x: Pick<ExecuteInput, 'repoRoot' | 'def' | 'defaults' | 'workspace'>): string {
  return path.resolve(x.workspace?.root ?? x.repoRoot, x.def.working_directory ?? x.defaults.working_directory ?? '.');
}

/** `{}` or `{ from }` when the step runs in a worktree of its own; undefined when it shares the repository. */
export function worktreeOf(def: CompiledStep, defaults: NonNullable<WorkflowFile['defaults']>): { from?: string } | undefined {
  if (def.kind !== 'run' && def.kind !== 'agent') return undefined;
  const w = def.workspace ?? defaults.workspace ?? 'shared';
  if (w === 'shared') return undefined;
  if (w === 'worktree') return {};
  return w.from !== undefined ? { from: w.from } : {};
}

/** The commit a step produced (its `commit` output), for `from:` and the git actions. */
export function commitOfStep(session: SessionState, stepId: string): { commit: string; id: string } | string {
  const instances = Object.values(session.steps).filter((s) => s.stepId === stepId || s.id === stepId);
  if (!instances.length) return `there is no step '${stepId}'`;
  if (instances.length > 1) return `step '${stepId}' has ${instances.length} matrix instances: name one (e.g. '${instances[0].id}')`;
  const s = instances[0];
  const commit = s.outputs.commit;
  if (!commit) return `step '${s.id}' has no commit (it is ${s.status}; only a step with workspace: worktree or a git action has one)`;
  return { commit, id: s.id };
}

/** The session's base commit: recorded at start, else HEAD now (a session started before its workflow used worktrees). */
export async function sessionBase(x: ExecuteInput): Promise<string> {
  return x.session.base ?? headCommit(x.repoRoot);
}

function fail(reason: string): StepOutcome {
  return { status: 'failed', reason, retryable: false, outputs: {} };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function inWorkspace(x: ExecuteInput, run: (x: ExecuteInput) => Promise<StepOutcome>): Promise<StepOutcome> {
  const want = worktreeOf(x.def, x.defaults);
  if (!want) return run(x);
  const repo = await gitRepoOf(x.repoRoot);
  if (!repo) return fail(`workspace: worktree needs a git repository, and ${x.repoRoot} is not in one: run git init (and commit), or remove workspace: worktree`);
  let start: string;
  try {
    if (want.from !== undefined) {
      const up = commitOfStep(x.session, want.from);
      if (typeof up === 'string') return fail(`workspace.from: ${up}`);
      start = up.commit;
    } else start = await sessionBase(x);
  } catch (e) {
    return fail(message(e));
  }
  const dir = worktreeDir(x.repoRoot, x.session.id, x.step.id);
  const branch = branchName(x.session.id, x.step.id);
  try {
    await createWorktree(repo, dir, branch, start);
  } catch (e) {
    return { status: 'failed', reason: `cannot make the step's worktree: ${message(e)}`, outputs: {} };
  }
  const outcome = await run({ ...x, workspace: { dir, root: path.join(dir, repo.prefix) } });
  return commitStep(x, dir, branch, start, outcome);
}

async function commitStep(x: ExecuteInput, dir: string, branch: string, start: string, outcome: StepOutcome): Promise<StepOutcome> {
  const subject = `orchestrator: step ${x.step.id} ${outcome.status}`;
  const body = `Session ${x.session.id}, step ${x.step.id}, attempt ${x.attempt}${outcome.reason ? `: ${outcome.reason}` : ''}.`;
  try {
    const c = await commitWorktree(dir, start, `${subject}\n\n${x.masker.mask(body)}\n`);
    return { ...outcome, outputs: { ...outcome.outputs, ...worktreeOutputs(branch, c), worktree: dir } };
  } catch (e) {
    const reason = `could not commit the step's changes on ${branch}: ${message(e)}`;
    return { ...outcome, status: 'failed', reason: outcome.status === 'succeeded' ? reason : `${outcome.reason ?? outcome.status}; ${reason}`, outputs: outcome.outputs };
  }
}
