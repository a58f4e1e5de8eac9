/**
 * `outside-repo` (warning): a file the workflow reads (agent `instructions` and `context`, a
 * step's `context` and `findings:`, the `file` of `findings/sarif`) lies outside the repository,
 * symlinks resolved, and `allow_outside_repo` does not allow it. At run time such a read fails the
 * step (repoPaths.ts has the rule both sides use). Paths holding `${{ }}` are known only at run
 * time and are checked then.
 */
import * as path from 'node:path';
import { findAction, findArg } from './actions';
import type { StepGraph } from './compile';
import { problem, type Problem } from './problems';
import { ALLOW_KEY, optInHint, outsideRepo, realPath, whereOutside, type AllowOutsideRepo } from './repoPaths';
import { looksLikePath } from './validate';
import { get, type YNode, type YScalar } from './yamlTree';

export interface PathCheckOptions {
  /** Absolute path of the workflow file (instructions are relative to its folder). */
  readonly file?: string;
  readonly repoRoot?: string;
  /** Present when the file system may be consulted (see ValidateOptions). */
  readonly fileExists?: (absolutePath: string) => boolean;
  /** Resolves symlinks (default: the real file system's). */
  readonly realPath?: (absolutePath: string) => string;
}

/** A literal path value (no expression), or undefined. */
function literal(n: YNode | null | undefined): YScalar | undefined {
  return n && n.kind === 'scalar' && typeof n.value === 'string' && n.value !== '' && !n.value.includes('${{') ? n : undefined;
}

/** The workflow's allow_outside_repo as written (a wrong type is a schema error, and allows nothing). */
function allowed(root: YNode | null): AllowOutsideRepo {
  const n = get(root, ALLOW_KEY);
  if (n?.kind === 'scalar') return n.value === true;
  if (n?.kind === 'seq') return n.items.flatMap((i) => (i && i.kind === 'scalar' && typeof i.value === 'string' ? [i.value] : []));
  return undefined;
}

export function checkOutsideRepo(root: YNode | null, graph: StepGraph, opts: PathCheckOptions, out: Problem[]): void {
  if (!opts.file || !opts.fileExists) return;
  const repo = opts.repoRoot ?? path.dirname(opts.file);
  const allow = allowed(root);
  if (allow === true) return;
  const real = opts.realPath ?? realPath;
  const check = (node: YScalar | undefined, base: string, what: string): void => {
    if (!node) return;
    const o = outsideRepo(repo, path.resolve(base, node.value as string), allow, real);
    if (o) out.push(problem('outside-repo', node, `${what} '${String(node.value)}' is ${whereOutside(o, repo)}: the step will fail rather than read it; ${optInHint(o)}`));
  };
  const contexts = (n: YNode | null | undefined, what: string): void => {
    if (n && n.kind === 'seq') for (const item of n.items) check(literal(item), repo, what);
  };

  const agents = get(root, 'agents');
  if (agents && agents.kind === 'map') {
    for (const p of agents.pairs) {
      const ins = literal(get(p.value, 'instructions'));
      // Inline instructions are text, not a path (the same test as the engine's).
      if (ins && looksLikePath(ins.value as string)) check(ins, path.dirname(opts.file), 'instructions file');
      contexts(get(p.value, 'context'), 'context file');
    }
  }
  const defaultsDir = literal(get(get(root, 'defaults'), 'working_directory'));
  for (const s of graph.steps) {
    contexts(get(s.node, 'context'), 'context file');
    const wd = get(s.node, 'working_directory') ?? defaultsDir;
    if (wd && !literal(wd)) continue; // the working directory is known only at run time
    const cwd = path.resolve(repo, (literal(wd)?.value as string | undefined) ?? '.');
    check(literal(get(s.node, 'findings')), cwd, 'findings file');
    const uses = get(s.node, 'uses');
    const action = uses && uses.kind === 'scalar' && typeof uses.value === 'string' ? findAction(uses.value) : undefined;
    const args = get(s.node, 'with');
    if (!action || !args || args.kind !== 'map') continue;
    for (const p of args.pairs) if (findArg(action, String(p.key.value))?.name === 'file') check(literal(p.value), cwd, `${action.name} file`);
  }
}
