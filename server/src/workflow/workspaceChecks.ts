/**
 * `worktree-needs-git` (error): a step with `workspace: worktree` (or `defaults.workspace:
 * worktree`, or a `git/*` action) in a folder that is not in a git repository. It would fail when
 * the session starts; the editor and `validate` say so first. Whether the folder is in a
 * repository comes in as a collaborator (ValidateOptions.isGitRepo), as file existence does.
 */
import type { StepGraph } from './compile';
import { problem, type Problem } from './problems';
import { get, type YNode } from './yamlTree';

export interface WorkspaceCheckOptions {
  readonly repoRoot?: string;
  readonly isGitRepo?: (dir: string) => boolean;
}

function isWorktree(n: YNode | null | undefined): boolean {
  if (!n) return false;
  if (n.kind === 'scalar') return n.value === 'worktree';
  return n.kind === 'map' && get(n, 'worktree')?.kind === 'scalar' && (get(n, 'worktree') as { value: unknown }).value === true;
}

/** `workspace: { worktree: true, from: X }` where no step has the id X: `unknown-need` at the value. */
export function checkWorkspaceFrom(graph: StepGraph, out: Problem[]): void {
  const ids = new Set(graph.steps.map((s) => s.id).filter((id): id is string => id !== undefined));
  for (const s of graph.steps) {
    const from = get(get(s.node, 'workspace'), 'from');
    if (from && from.kind === 'scalar' && typeof from.value === 'string' && !ids.has(from.value)) {
      out.push(problem('unknown-need', from, `workspace.from names no step '${from.value}': name the step whose commit this worktree starts from (it must run before this one)`));
    }
  }
}

export function checkWorkspaces(root: YNode | null, graph: StepGraph, opts: WorkspaceCheckOptions, out: Problem[]): void {
  checkWorkspaceFrom(graph, out);
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
