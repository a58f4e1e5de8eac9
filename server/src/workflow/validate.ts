/**
 * The entry point of the workflow language: text in, every problem out (all of them, each at the
 * smallest range), plus the tree and step graph for the editor features and the planner.
 * Collaborators (file system) come in as arguments, so this runs anywhere: host, CLI, tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkActions } from './actionChecks';
import { buildGraph, type StepGraph, type StepSource } from './compile';
import { checkOutsideRepo } from './pathChecks';
import { checkWorkspaceFrom, checkWorkspaces } from './workspaceChecks';
import { checkIgnoredKeys } from './ignoredKeys';
import { ExpressionChecker, isConstantFalse, relaxesSuccess, type ExprCache } from './exprChecks';
import { checkAgents, checkCycles, checkIds, checkNeeds, checkStepKinds, checkUnreachable } from './graphChecks';
import { problem, sortProblems, topOfFile, type Problem } from './problems';
import { withSuggestionBudget } from './suggest';
import { UpstreamIndex } from './upstream';
import { validateSchema } from './validateSchema';
import { checkVerify } from './verifyChecks';
import { parseChunked, type ChunkCache } from './chunked';
import { get, pairOf, type YNode } from './yamlTree';

export interface ValidateOptions {
  /** Absolute path of the workflow file: relative paths (agent instructions) resolve from its folder. */
  readonly file?: string;
  /** The repository root: `context:` files are relative to it (default: the workflow's folder). */
  readonly repoRoot?: string;
  /** Whether a file exists; without it, file checks are skipped. */
  readonly fileExists?: (absolutePath: string) => boolean;
  /** Whether a folder is in a git repository (`workspace: worktree` needs one); without it, not checked. */
  readonly isGitRepo?: (dir: string) => boolean;
  /** Resolves symlinks, for the outside-repo check (default: the file system's realpath). */
  readonly realPath?: (absolutePath: string) => string;
  /** Parsed chunks of this document's previous versions, reused for the parts that did not change. */
  readonly cache?: ChunkCache;
  /** The name of a check to make fail (tests only); also read from ORCHESTRATOR_TEST_FAULT. */
  readonly fault?: string;
}

/** Whether a folder is in a git repository: a `.git` in it or above (the default collaborator for worktree-needs-git). */
export function isGitRepo(dir: string): boolean {
  for (let d = path.resolve(dir); ; ) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    const up = path.dirname(d);
    if (up === d) return false;
    d = up;
  }
}

/** Whether a regular file exists at this path (the default collaborator for file checks). */
export function fileExists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface InternalError {
  readonly check: string;
  readonly error: unknown;
}

export interface Validation {
  readonly text: string;
  readonly root: YNode | null;
  readonly graph: StepGraph;
  readonly problems: Problem[];
  /** Checks that crashed (a bug): the host logs them; the other checks' problems still count. */
  readonly internalErrors: InternalError[];
  /** Milliseconds spent in each phase, for the host's debug log and the benchmark. */
  readonly timings: Record<string, number>;
  /** Whether the text was parsed in chunks (reusing unchanged ones) rather than whole. */
  readonly chunked: boolean;
}

/**
 * Limits (docs/workflow-language.md, "Limits"): a longer text is not parsed at all; the "did you
 * mean" suggestions of one validation share a budget of edit-distance cells.
 */
export const MAX_TEXT_LENGTH = 2 * 1024 * 1024;
/** Edit-distance cells for all suggestions of one validation: tens of milliseconds at most. */
const suggestionCells = (text: string) => Math.max(5_000_000, 20 * text.length);

export function validateWorkflow(text: string, opts: ValidateOptions = {}): Validation {
  if (text.length > MAX_TEXT_LENGTH) return tooLarge(text);
  return withSuggestionBudget(suggestionCells(text), () => validateAll(text, opts));
}

function tooLarge(text: string): Validation {
  const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
  const message = `this file is ${mb(text.length)} MB, over the ${mb(MAX_TEXT_LENGTH)} MB a workflow may have: it was not parsed nor checked (and cannot run); split it into smaller workflows`;
  return { text, root: null, graph: { form: 'none', steps: [], stages: [] }, problems: [problem('yaml-syntax', topOfFile(text), message)], internalErrors: [], timings: {}, chunked: false };
}

function validateAll(text: string, opts: ValidateOptions): Validation {
  const internalErrors: InternalError[] = [];
  const problems: Problem[] = [];
  const timings: Record<string, number> = {};
  // Fault injection for tests: ORCHESTRATOR_TEST_FAULT=<check> makes that check throw, to prove
  // that a bug in one check is reported and the others' problems still arrive.
  const fault = opts.fault ?? process.env.ORCHESTRATOR_TEST_FAULT;
  const guard = (check: string, f: () => void): void => {
    const t0 = performance.now();
    try {
      if (fault === check) throw new Error(`injected fault in '${check}' (ORCHESTRATOR_TEST_FAULT)`);
      f();
    } catch (error) {
      internalErrors.push({ check, error });
    }
    timings[check] = performance.now() - t0;
  };
  let chunked = false;

  let root: YNode | null = null;
  let notParsed = false;
  guard('yaml', () => {
    const parsed = parseChunked(text, opts.cache);
    chunked = parsed.chunked;
    root = parsed.root;
    notParsed = !!parsed.notParsed;
    for (const p of parsed.problems) problems.push(p);
  });
  if (notParsed) return { text, root: null, graph: { form: 'none', steps: [], stages: [] }, problems, internalErrors, timings, chunked };
  const r: YNode | null = root;
  guard('schema', () => {
    for (const p of validateSchema(r)) problems.push(p);
  });
  guard('form', () => checkForm(r, problems));
  let graph: StepGraph = { form: 'none', steps: [], stages: [] };
  guard('graph', () => {
    graph = buildGraph(r);
  });
  const g: StepGraph = graph;
  guard('ids', () => checkIds(g, problems));
  guard('step-kind', () => checkStepKinds(g, problems));
  guard('needs', () => checkNeeds(g, problems));
  guard('agents', () => checkAgents(r, g, problems));
  guard('cycles', () => checkCycles(g, problems));
  guard('actions', () => checkActions(g, problems));
  guard('outside-repo', () => checkOutsideRepo(r, g, opts, problems));
  guard('verify', () => checkVerify(g, opts, problems));
  guard('ignored-keys', () => checkIgnoredKeys(g, problems));
  guard('workspaces', () => checkWorkspaces(r, g, { ...(opts.repoRoot !== undefined ? { repoRoot: opts.repoRoot } : opts.file ? { repoRoot: path.dirname(opts.file) } : {}), ...(opts.isGitRepo ? { isGitRepo: opts.isGitRepo } : {}) }, problems));
  // "Does step R need step T?", for `steps.T` in expressions and `workspace.from` (upstream.ts).
  let upstream: UpstreamIndex | undefined;
  const byId = new Map<string, StepSource>();
  guard('upstream', () => {
    for (const s of g.steps) if (s.id && !byId.has(s.id)) byId.set(s.id, s);
    upstream = new UpstreamIndex(byId);
  });
  const isUpstream = (reader: string, target: string): boolean => upstream?.isUpstream(reader, target) ?? true;
  guard('workspace-from', () => checkWorkspaceFrom(r, g, isUpstream, problems));
  let checker: ExpressionChecker | undefined;
  guard('expressions', () => {
    checker = expressionChecker(text, r, g, isUpstream, problems, opts.cache?.expressions ?? (new Map() as ExprCache));
  });
  guard('not-checked', () => {
    if (upstream?.unchecked) {
      problems.push(problem('not-checked', topOfFile(text), `not-upstream was not checked for ${upstream.unchecked} step reference(s): the step graph (${byId.size} steps) is too large to check them all; split the workflow to have them checked`));
    }
  });
  guard('unreachable', () => {
    const ifs = checker?.ifs;
    checkUnreachable(g, (s) => isConstantFalse(ifs?.get(s)), (s) => relaxesSuccess(ifs?.get(s)), problems);
  });
  guard('files', () => {
    checkFiles(r, opts, problems);
    checkStepContext(g, opts, problems);
  });
  return { text, root: r, graph: g, problems: sortProblems(dedupe(problems)), internalErrors, timings, chunked };
}

function checkForm(root: YNode | null, out: Problem[]): void {
  if (!root || root.kind !== 'map') return;
  const steps = pairOf(root, 'steps');
  const pipeline = pairOf(root, 'pipeline');
  if (steps && pipeline) {
    const later = steps.start > pipeline.start ? steps : pipeline;
    out.push(problem('schema', later.key, `a workflow has either 'steps' or 'pipeline', not both: remove one (a pipeline compiles to steps)`));
  } else if (!steps && !pipeline) {
    const at = pairOf(root, 'name')?.key ?? root.pairs[0]?.key ?? { start: root.start, end: root.start + 1 };
    out.push(problem('schema', at, `the workflow has no 'steps' (or 'pipeline'): add steps: with at least one step`));
  }
}

function expressionChecker(text: string, root: YNode | null, graph: StepGraph, isUpstream: (reader: string, target: string) => boolean, out: Problem[], cache: ExprCache): ExpressionChecker {
  const inputsNode = get(root, 'inputs');
  const inputs = inputsNode && inputsNode.kind === 'map' ? inputsNode.pairs.map((p) => String(p.key.value)) : [];
  const stepIds = new Set<string>();
  for (const s of graph.steps) if (s.id) stepIds.add(s.id);
  const checker = new ExpressionChecker({ cache, text, inputs, stepIds, isUpstream }, out);
  checker.checkWorkflowEnv(root);
  for (const s of graph.steps) checker.checkStep(s);
  return checker;
}

/** Agent `instructions` that look like a path (one line, no spaces, a file extension or a slash). */
export function looksLikePath(value: string): boolean {
  const v = value.trim();
  if (!v || v !== value || /[\s]/.test(v) || v.includes('${{')) return false;
  return /^\.{0,2}\//.test(v) || /\.(md|markdown|txt|prompt|mdx|ya?ml|json)$/i.test(v);
}

function checkFiles(root: YNode | null, opts: ValidateOptions, out: Problem[]): void {
  if (!opts.fileExists || !opts.file) return;
  const agents = get(root, 'agents');
  if (!agents || agents.kind !== 'map') return;
  const dir = path.dirname(opts.file);
  for (const p of agents.pairs) {
    const ins = get(p.value, 'instructions');
    if (ins && ins.kind === 'scalar' && typeof ins.value === 'string' && looksLikePath(ins.value)) {
      const abs = path.resolve(dir, ins.value);
      if (!opts.fileExists(abs)) {
        out.push(problem('missing-file', ins, `instructions file '${ins.value}' does not exist (looked for ${abs}): create it, fix the path, or write the instructions inline`));
      }
    }
    checkContext(get(p.value, 'context'), opts, out);
  }
}

/** `context:` files of agents and steps, relative to the repository root. */
function checkContext(node: YNode | null | undefined, opts: ValidateOptions, out: Problem[]): void {
  if (!node || node.kind !== 'seq' || !opts.fileExists || !opts.file) return;
  const root = opts.repoRoot ?? path.dirname(opts.file);
  for (const item of node.items) {
    if (!item || item.kind !== 'scalar' || typeof item.value !== 'string' || item.value.includes('${{')) continue;
    const abs = path.resolve(root, item.value);
    if (!opts.fileExists(abs)) out.push(problem('missing-file', item, `context file '${item.value}' does not exist (looked for ${abs}, relative to the repository root): create it or fix the path`));
  }
}

function checkStepContext(graph: StepGraph, opts: ValidateOptions, out: Problem[]): void {
  for (const s of graph.steps) checkContext(get(s.node, 'context'), opts, out);
}

/** The same problem found twice (e.g. by two routes) is reported once. */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.code}:${p.span.start}:${p.span.end}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
