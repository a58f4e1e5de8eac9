/**
 * Expression checks: every `${{ }}` in the fields that take expressions parses, names known
 * contexts and functions, reads only declared inputs, only upstream steps, and only the step's
 * own matrix keys. Also tells the graph checks which `if`s are constant and which relax success().
 */
import type { StepSource } from './compile';
import {
  checkExpression,
  collectCalls,
  collectReferences,
  constantValue,
  findExpressions,
  parseExpression,
  truthy,
  type Expr,
} from './expressions';
import { cappedMessage, problem, type Problem, type Span } from './problems';
import { shellMessage, shellPlaces } from './shellChecks';
import { didYouMean } from './suggest';
import { get, type YNode, type YScalar } from './yamlTree';

interface Scope {
  /** The step reading, or undefined for the workflow's top-level env. */
  step?: StepSource;
  field: string;
  allowStatus: boolean;
}

/** One expression's parse and context-free checks, with offsets relative to the expression. */
export interface ExprAnalysis {
  readonly ast?: Expr;
  readonly errors: readonly { start: number; end: number; message: string }[];
  readonly refs: readonly { path: string[]; start: number; end: number }[];
}

/** Analyses by expression text (and whether status functions are allowed), reusable across validations. */
export type ExprCache = Map<string, ExprAnalysis>;

export function analyzeExpression(cache: ExprCache | undefined, inner: string, allowStatus: boolean): ExprAnalysis {
  const key = (allowStatus ? '1' : '0') + inner;
  const hit = cache?.get(key);
  if (hit) return hit;
  const parsed = parseExpression(inner, 0);
  const errors = [...parsed.errors];
  let refs: ExprAnalysis['refs'] = [];
  if (parsed.ast) {
    errors.push(...checkExpression(parsed.ast, { allowStatusFunctions: allowStatus }));
    refs = collectReferences(parsed.ast).map((r) => ({ path: r.path, start: r.start, end: r.end }));
  }
  const a: ExprAnalysis = { ...(parsed.ast ? { ast: parsed.ast } : {}), errors, refs };
  cache?.set(key, a);
  return a;
}

export interface ExprContext {
  readonly cache?: ExprCache;
  readonly text: string;
  readonly inputs: readonly string[];
  readonly stepIds: ReadonlySet<string>;
  readonly isUpstream: (reader: string, target: string) => boolean;
}

/** Fields of a step that take expressions: [key, allowStatusFunctions]. */
const STEP_FIELDS = ['run', 'prompt', 'env', 'with', 'outputs', 'verify', 'approval'] as const;

export interface IfInfo {
  readonly ast?: Expr;
  readonly constant?: boolean;
  readonly value?: unknown;
  readonly statusCalls: ReadonlySet<string>;
}

export class ExpressionChecker {
  /** Parsed `if` of each step, for the unreachable check. */
  readonly ifs = new Map<StepSource, IfInfo>();

  constructor(private readonly ctx: ExprContext, private readonly out: Problem[]) {
    this.inputSet = new Set(ctx.inputs);
  }

  /** `defaults.shell` of the workflow, read with its env. */
  private defaultShell: YNode | null | undefined;
  /** The declared inputs as a set, and their list for messages (made on first use). */
  private readonly inputSet: ReadonlySet<string>;
  private inputList: string | undefined;
  /** Each matrix's keys, their set and list (a step may read its matrix many times). */
  private readonly matrices = new WeakMap<YNode, { keys: string[]; set: Set<string>; list: string }>();

  checkWorkflowEnv(root: YNode | null): void {
    this.defaultShell = get(get(root, 'defaults'), 'shell');
    this.walkStrings(get(root, 'env'), { field: 'env', allowStatus: false });
  }

  checkStep(step: StepSource): void {
    for (const key of STEP_FIELDS) this.walkStrings(get(step.node, key), { step, field: key, allowStatus: false });
    const cond = get(step.node, 'if');
    if (cond) this.checkIf(step, cond);
  }

  private walkStrings(node: YNode | null | undefined, scope: Scope): void {
    if (!node) return;
    if (node.kind === 'scalar') {
      if (typeof node.value === 'string' && node.value.includes('${{')) this.checkTemplate(node, scope);
      return;
    }
    if (node.kind === 'seq') for (const it of node.items) this.walkStrings(it, scope);
    else for (const p of node.pairs) this.walkStrings(p.value, scope);
  }

  /** The text to scan and its offset in the document: the source when it maps 1:1 to the value. */
  private source(node: YScalar): { text: string; base: number; exact: boolean } {
    const raw = this.ctx.text.slice(node.start, node.end);
    if (node.style === 'plain' || node.style === 'literal' || node.style === 'folded') return { text: raw, base: node.start, exact: true };
    const inner = raw.slice(1, -1);
    if (inner === node.value) return { text: inner, base: node.start + 1, exact: true };
    return { text: String(node.value), base: node.start, exact: false };
  }

  private checkTemplate(node: YScalar, scope: Scope): void {
    const src = this.source(node);
    const found = findExpressions(src.text, src.base);
    for (const e of found.errors) this.report('bad-expression', src.exact ? e : node, e.message);
    for (const f of found.expressions) this.checkOne(f.inner, f.innerStart, !src.exact ? node : f.inner.trim() ? undefined : f, scope);
    if ((scope.field === 'run' || scope.field === 'verify') && scope.step && isPosixShell(get(scope.step.node, 'shell') ?? this.defaultShell)) this.checkShell(node, src.exact ? found.expressions : []);
  }

  /** `shell-expression`: expressions where the shell expands nothing, or evaluates them as arithmetic (shellChecks.ts). */
  private checkShell(node: YScalar, inSource: readonly Span[]): void {
    const script = String(node.value);
    const exprs = findExpressions(script).expressions;
    const places = shellPlaces(script, exprs);
    if (!places.size) return;
    // The variable each expression becomes, numbered as prepareScript numbers them.
    const names = new Map<string, string>();
    exprs.forEach((e, k) => {
      const key = e.inner.trim();
      if (!names.has(key)) names.set(key, `ORCH_EXPR_${names.size}`);
      const place = places.get(k);
      if (!place) return;
      const at = inSource.length === exprs.length ? inSource[k] : node;
      this.out.push(problem('shell-expression', at, shellMessage(place, names.get(key)!, script.slice(e.start, e.end))));
    });
  }

  private checkIf(step: StepSource, cond: YNode): void {
    if (cond.kind !== 'scalar') return;
    if (typeof cond.value === 'boolean' || typeof cond.value === 'number') {
      this.ifs.set(step, { constant: true, value: cond.value, statusCalls: new Set() });
      return;
    }
    if (typeof cond.value !== 'string') return;
    const src = this.source(cond);
    const trimmed = src.text.trim();
    let inner = src.text;
    let base = src.base;
    if (trimmed.startsWith('${{') && trimmed.endsWith('}}') && findExpressions(src.text, src.base).expressions.length === 1) {
      const f = findExpressions(src.text, src.base).expressions[0];
      inner = f.inner;
      base = f.innerStart;
    } else if (src.text.includes('${{')) {
      // Text around an expression makes a string, which is always true: almost surely a mistake.
      this.report('bad-expression', cond, `'if' mixes text and \${{ }}: the result is a non-empty string, which is always true. Write the whole condition as one expression`);
      return;
    }
    const ast = this.checkOne(inner, base, src.exact && inner.trim() ? undefined : cond, { step, field: 'if', allowStatus: true });
    if (!ast) {
      this.ifs.set(step, { statusCalls: new Set() });
      return;
    }
    const calls = new Set(collectCalls(ast).map((c) => c.name));
    const c = constantValue(ast);
    this.ifs.set(step, { ast, constant: c.constant, value: c.constant ? c.value : undefined, statusCalls: calls });
  }

  /** Parses and checks one expression; returns its AST when it parsed. */
  private checkOne(inner: string, base: number, whole: Span | undefined, scope: Scope): Expr | undefined {
    const at = (s: Span): Span => whole ?? { start: s.start + base, end: s.end + base };
    const a = analyzeExpression(this.ctx.cache, inner, scope.allowStatus);
    for (const e of a.errors) this.report('bad-expression', at(e), e.message);
    for (const ref of a.refs) this.checkReference(ref.path, at(ref), scope);
    return a.ast;
  }

  private checkReference(path: readonly string[], span: Span, scope: Scope): void {
    const [ctxName, name] = path;
    if (name === undefined) return;
    if (ctxName === 'inputs') {
      if (!this.inputSet.has(name)) {
        const inputs = this.ctx.inputs;
        const suggestion = didYouMean(name, inputs);
        const hint = suggestion ? [suggestion] : inputs.length ? [' Declared inputs: ', (this.inputList ??= inputs.join(', ')), '.'] : [' Declare it under inputs: at the top level.'];
        this.report('unknown-input', span, cappedMessage([`input '${name}' is not declared under 'inputs'.`, ...hint]));
      }
    } else if (ctxName === 'steps') {
      const reader = scope.step?.id;
      if (!this.ctx.stepIds.has(name)) {
        this.report('not-upstream', span, `steps.${name}: there is no step '${name}'.${didYouMean(name, this.ctx.stepIds)}`);
      } else if (!scope.step) {
        this.report('not-upstream', span, `steps.${name} cannot be read in the workflow's env: it is set before any step runs`);
      } else if (reader === name) {
        if (scope.field !== 'outputs') this.report('not-upstream', span, `step '${name}' reads its own steps.${name}: a step can read only the steps it needs (its own results exist only in 'outputs')`);
      } else if (reader && !this.ctx.isUpstream(reader, name)) {
        this.report('not-upstream', span, `step '${reader}' reads steps.${name} but does not depend on '${name}': add '${name}' to its needs`);
      }
    } else if (ctxName === 'matrix') {
      const m = scope.step ? get(scope.step.node, 'matrix') : undefined;
      const keys = this.matrixKeys(m);
      if (!keys.keys.length) this.report('bad-expression', span, `matrix.${name}: ${scope.step ? 'this step has no matrix' : 'there is no matrix outside a step'}; add matrix: { ${name}: [...] } to the step`);
      else if (!keys.set.has(name)) {
        const suggestion = didYouMean(name, keys.keys);
        this.report('bad-expression', span, cappedMessage([`matrix.${name}: the step's matrix has no key '${name}'.`, ...(suggestion ? [suggestion] : [' Keys: ', keys.list, '.'])]));
      }
    }
  }

  private matrixKeys(m: YNode | null | undefined): { keys: string[]; set: Set<string>; list: string } {
    if (!m || m.kind !== 'map') return { keys: [], set: new Set(), list: '' };
    let k = this.matrices.get(m);
    if (!k) {
      const keys = m.pairs.map((p) => String(p.key.value));
      k = { keys, set: new Set(keys), list: keys.join(', ') };
      this.matrices.set(m, k);
    }
    return k;
  }

  private report(code: 'bad-expression' | 'unknown-input' | 'not-upstream', span: Span, message: string): void {
    this.out.push(problem(code, span, message));
  }
}

/** Whether a step's shell (or the default, bash) is a POSIX-style shell, whose quoting and arithmetic shellChecks.ts knows. */
function isPosixShell(n: YNode | null | undefined): boolean {
  if (!n) return true;
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return false;
  const program = n.value.trim().split(/\s+/)[0] ?? '';
  return /^(ba|z|k|mk|da|a)?sh$/.test(program.slice(program.lastIndexOf('/') + 1));
}

/** Whether a step's `if` is literally false (constant and falsy). */
export function isConstantFalse(info: IfInfo | undefined): boolean {
  return !!info && info.constant === true && !truthy(info.value as never);
}

/** Whether a step's `if` lets it run after a need was skipped or failed. */
export function relaxesSuccess(info: IfInfo | undefined): boolean {
  return !!info && (info.statusCalls.has('always') || info.statusCalls.has('failure'));
}
