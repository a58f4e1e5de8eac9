/**
 * A session's git work at a glance, from its state alone (no git call): which steps made a branch
 * of their own, which succeeded with a change that can be applied, and which one is the session's
 * result. The Sessions view offers *Apply* and *Discard* on a session row from this (it is part of
 * the session's summary), so it must stay cheap and pure.
 */
import type { SessionState, StepState } from '../types';

export interface SessionGit {
  /** Steps (instance ids, in session order) that made a branch `orchestrator/<session>/…`: worktree steps and git/merge, also a failed one whose worktree was kept. */
  branches: string[];
  /** Succeeded steps with a commit and changed files: what `git/apply` can bring into the repository. */
  appliable: string[];
  /** The session's result when one step is it: the last succeeded `git/merge` that changed files, else the only appliable step. */
  result?: string;
}

/** The step has a branch of the session's own (as discardStep requires: a branch and its base). */
export function hasOwnBranch(sessionId: string, st: StepState): boolean {
  return !!st.outputs.branch && !!st.outputs.base && st.outputs.branch.startsWith(`orchestrator/${sessionId}/`);
}

function isAppliable(st: StepState): boolean {
  return st.status === 'succeeded' && !!st.outputs.commit && !!st.outputs.base && (st.outputs.changed_files ?? '').split('\n').some((f) => f !== '');
}

/** Undefined when no step made a branch (a workflow without worktrees, or before the first one). */
export function sessionGit(s: SessionState): SessionGit | undefined {
  const steps = s.order.map((id) => s.steps[id]).filter((st): st is StepState => !!st);
  const branches = steps.filter((st) => hasOwnBranch(s.id, st)).map((st) => st.id);
  if (!branches.length) return undefined;
  const appliable = steps.filter((st) => hasOwnBranch(s.id, st) && isAppliable(st));
  const uses = new Map(s.workflow.compiled.steps.map((c) => [c.id, c.uses]));
  const merges = appliable.filter((st) => uses.get(st.stepId) === 'git/merge');
  const result = merges.length ? merges[merges.length - 1].id : appliable.length === 1 ? appliable[0].id : undefined;
  return { branches, appliable: appliable.map((st) => st.id), ...(result ? { result } : {}) };
}

/** The session's git work without the steps whose branch is gone (discarded, or deleted with git); undefined when none is left. */
export function withoutGone(g: SessionGit, gone: ReadonlySet<string>): SessionGit | undefined {
  const branches = g.branches.filter((s) => !gone.has(s));
  if (!branches.length) return undefined;
  const appliable = g.appliable.filter((s) => !gone.has(s));
  return { branches, appliable, ...(g.result && !gone.has(g.result) ? { result: g.result } : {}) };
}
