/**
 * Checks of `workspace:`:
 * - `worktree-needs-git` (error): a step with `workspace: worktree` (or `defaults.workspace:
 *   worktree`, or a `git/*` action) in a folder that is not in a git repository. It would fail when
 *   the session starts; the editor and `validate` say so first. Whether the folder is in a
 *   repository comes in as a collaborator (ValidateOptions.isGitRepo), as file existence does.
 * - `workspace: { worktree: true, from: X }`: X must be a step (`unknown-need`), one this step
 *   needs, directly or through others (`not-upstream`: else X may not have run yet), and one that
 *   has a commit to start from: a worktree step or `git/merge` (`schema`).
 */
import type { StepGraph, StepSource } from './compile';
import { namesList } from './graphChecks';
import { stepKindOf, usesOf } from './ignoredKeys';
import { problem, type Problem } from './problems';
import { didYouMean } from './suggest';
import { matrixInstances } from './plan';
import { get, toValue, type YNode } from './yamlTree';

export interface WorkspaceCheckOptions {
  readonly repoRoot?: string;
  readonly isGitRepo?: (dir: string) => boolean;
}

function isWorktree(n: YNode | null | undefined): boolean {
  if (!n) return false;
  if (n.kind === 'scalar') return n.value === 'worktree';
  return n.kind === 'map' && get(n, 'worktree')?.kind === 'scalar' && (get(n, 'worktree') as { value: unknown }).value === true;
}

/** Whether a step has a commit that a worktree can start from: a worktree step (its own key, else the defaults) or `git/merge`. */
function hasCommit(s: StepSource, defaults: YNode | null | undefined): boolean {
  const kind = stepKindOf(s);
  if (kind === 'uses') return usesOf(s) === 'git/merge';
  if (kind !== 'run' && kind !== 'agent') return false;
  return isWorktree(get(s.node, 'workspace') ?? defaults);
}

/** The ids of a step's matrix instances (none without a matrix); undefined when its matrix is not lists of values (a schema error of its own). */
function instancesOf(s: StepSource): string[] | undefined {
  const m = get(s.node, 'matrix');
  if (!m) return [];
  const value = toValue(m);
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => Array.isArray(v))) return undefined;
  return matrixInstances({ id: s.id ?? '', matrix: value as Record<string, (string | number | boolean | null)[]> });
}

/**
 * `workspace: { worktree: true, from: X }`: X names a step (`unknown-need`), upstream of this one
 * (`not-upstream`), with a commit (`schema`); each at the value of `from`.
 */
export function checkWorkspaceFrom(root: YNode | null, graph: StepGraph, isUpstream: (reader: string, target: string) => boolean, out: Problem[]): void {
  const byId = new Map<string, StepSource>();
  for (const s of graph.steps) if (s.id !== undefined && !byId.has(s.id)) byId.set(s.id, s);
  const defaults = get(get(root, 'defaults'), 'workspace');
  for (const s of graph.steps) {
    const from = get(get(s.node, 'workspace'), 'from');
    if (!from || from.kind !== 'scalar' || typeof from.value !== 'string') continue;
    // A matrix instance (`test[os=linux]`) is named by its id; its step is what the other checks see.
    const asInstance = /^(.+?)\[.*\]$/.exec(from.value);
    const base = !byId.has(from.value) && asInstance ? byId.get(asInstance[1]) : undefined;
    const name = base ? asInstance![1] : from.value;
    const target = byId.get(name);
    const instances = target ? instancesOf(target) : undefined;
    if (!target) {
      out.push(problem('unknown-need', from, `workspace.from names no step '${name}'.${didYouMean(name, byId.keys())} Name the step whose commit this worktree starts from (it must run before this one)`));
    } else if (base && instances !== undefined && !instances.includes(from.value)) {
      out.push(problem('unknown-need', from, `step '${name}' has no matrix instance '${from.value}': ${instances.length ? `its instances are ${namesList(instances)}` : 'it has no matrix'}`));
    } else if (!base && instances !== undefined && instances.length > 1) {
      out.push(problem('schema', from, `step '${name}' runs as ${instances.length} matrix instances, each with a commit of its own: name one, e.g. '${instances[0]}'`));
    } else if (name === s.id) {
      out.push(problem('not-upstream', from, `step '${name}' cannot start its worktree from its own commit: name a step it needs, or use workspace: worktree (the session's base commit)`));
    } else if (s.id !== undefined && !isUpstream(s.id, name)) {
      out.push(problem('not-upstream', from, `step '${s.id}' starts its worktree from '${name}' but does not depend on '${name}', which may not have run yet: add '${name}' to its needs`));
    } else if (!hasCommit(target, defaults)) {
      const withCommit = graph.steps.filter((t) => t.id !== undefined && t.id !== s.id && hasCommit(t, defaults) && (s.id === undefined || isUpstream(s.id, t.id))).map((t) => t.id as string);
      const choose = withCommit.length ? ` (the steps it needs that have one: ${namesList(withCommit)})` : '';
      out.push(problem('schema', from, `step '${name}' has no commit to start a worktree from: only a step with workspace: worktree, or git/merge, has one. Give '${name}' workspace: worktree, or name another step${choose}`));
    }
  }
}

export function checkWorkspaces(root: YNode | null, graph: StepGraph, opts: WorkspaceCheckOptions, out: Problem[]): void {
  if (!opts.isGitRepo || opts.repoRoot === undefined) return;
  const at: YNode[] = [];
  const d = get(get(root, 'defaults'), 'workspace');
  if (d && isWorktree(d)) at.push(d);
  for (const s of graph.steps) {
    const w = get(s.node, 'workspace');
    if (w && isWorktree(w)) at.push(w);
    const uses = get(s.node, 'uses');
    if (uses && uses.kind === 'scalar' && typeof uses.value === 'string' && uses.value.startsWith('git/')) at.push(uses);
  }
  if (!at.length || opts.isGitRepo(opts.repoRoot)) return;
  for (const n of at) {
    const what = n.kind === 'scalar' && typeof n.value === 'string' && n.value.startsWith('git/') ? `${n.value} works on git branches` : 'workspace: worktree runs the step in a git worktree';
    out.push(problem('worktree-needs-git', n, `${what}, and ${opts.repoRoot} is not in a git repository: run git init there (and commit), or use workspace: shared`));
  }
}
