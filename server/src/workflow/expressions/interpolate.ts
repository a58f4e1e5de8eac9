/** Using expressions at run time: string interpolation, `if` conditions, shell scripts. */
import { collectCalls, collectReferences } from './analyze';
import type { Expr } from './ast';
import { lookupFunction } from './builtins';
import { toText, truthy, type Value } from './coerce';
import { evaluate, ExpressionError, type EvalContext } from './evaluate';
import { parseExpression } from './parser';
import { findExpressions, parseTemplate, type ParsedExpression } from './template';

type ReadyExpression = ParsedExpression & { ast: Expr };

/** Parses every `${{ }}` of `template`; throws an ExpressionError for the first problem. */
function parseTemplateOrThrow(template: string): ReadyExpression[] {
  const parsed = parseTemplate(template);
  const first = parsed.errors[0];
  if (first !== undefined) throw new ExpressionError(first.message, first);
  return parsed.expressions.filter((e): e is ReadyExpression => e.ast !== undefined);
}

function parseOrThrow(text: string, base: number): Expr {
  const parsed = parseExpression(text, base);
  const first = parsed.errors[0];
  if (parsed.ast === undefined || first !== undefined) {
    throw new ExpressionError(first?.message ?? 'invalid expression', first ?? { start: base, end: base + text.length });
  }
  return parsed.ast;
}

/** Replaces each `${{ expr }}` with the text of its value (`toText`). */
export function interpolate(template: string, ctx: EvalContext): string {
  let out = '';
  let last = 0;
  for (const e of parseTemplateOrThrow(template)) {
    out += template.slice(last, e.start) + toText(evaluate(e.ast, ctx));
    last = e.end;
  }
  return out + template.slice(last);
}

/**
 * Like `interpolate`, but a value that is exactly one `${{ expr }}` (surrounding
 * blanks allowed) keeps its type: `${{ fromJSON('[1]') }}` gives `[1]`, not `'[1]'`.
 */
export function interpolateValue(template: string, ctx: EvalContext): Value {
  const exprs = parseTemplateOrThrow(template);
  const only = exprs.length === 1 ? exprs[0] : undefined;
  if (only !== undefined && isWhole(template, only)) return evaluate(only.ast, ctx);
  return interpolate(template, ctx);
}

function isWhole(text: string, e: { start: number; end: number }): boolean {
  return text.slice(0, e.start).trim() === '' && text.slice(e.end).trim() === '';
}

/** Parses an `if:` value: a bare expression, or one `${{ }}` around the whole condition. */
export function parseCondition(text: string): Expr {
  const found = findExpressions(text);
  const firstError = found.errors[0];
  if (firstError !== undefined) throw new ExpressionError(firstError.message, firstError);
  if (found.expressions.length === 0) return parseOrThrow(text, 0);
  const only = found.expressions.length === 1 ? found.expressions[0] : undefined;
  if (only === undefined || !isWhole(text, only)) {
    const at = found.expressions[0];
    throw new ExpressionError(
      "an 'if' must be one expression: write it without '${{ }}', or wrap the whole condition in a single '${{ }}'",
      { start: at.start, end: at.end },
    );
  }
  return parseOrThrow(only.inner, only.innerStart);
}

export interface ConditionOptions {
  /**
   * As in GitHub Actions, a condition that calls none of success(), failure()
   * and always() means `success() && (condition)`. Default true.
   */
  implicitSuccess?: boolean;
}

/** Evaluates an `if:` value to a boolean (see `parseCondition`, `ConditionOptions`). */
export function evaluateCondition(text: string, ctx: EvalContext, opts: ConditionOptions = {}): boolean {
  const ast = parseCondition(text);
  const usesStatus = collectCalls(ast).some((c) => lookupFunction(c.name)?.status === true);
  if ((opts.implicitSuccess ?? true) && !usesStatus && !(ctx.status?.success ?? true)) return false;
  return truthy(evaluate(ast, ctx));
}

export interface PreparedScript {
  /** The script with each `${{ expr }}` replaced by `${PREFIXn}`. */
  script: string;
  /** Values of those variables, to add to the environment of the shell. */
  env: Record<string, string>;
}

/**
 * Makes a shell script safe from its expressions: each `${{ expr }}` becomes a
 * reference to an environment variable holding the value, so the value is
 * never parsed as shell code. The same expression text reuses its variable.
 * Note: like any variable, it is not expanded inside single quotes.
 */
export function prepareScript(template: string, ctx: EvalContext, prefix = 'ORCH_EXPR_'): PreparedScript {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw new Error(`prepareScript: '${prefix}' cannot start a shell variable name`);
  }
  const env: Record<string, string> = {};
  const names = new Map<string, string>();
  let script = '';
  let last = 0;
  for (const e of parseTemplateOrThrow(template)) {
    const key = e.inner.trim();
    let name = names.get(key);
    if (name === undefined) {
      name = `${prefix}${names.size}`;
      names.set(key, name);
      env[name] = toText(evaluate(e.ast, ctx));
    }
    script += `${template.slice(last, e.start)}\${${name}}`;
    last = e.end;
  }
  return { script: script + template.slice(last), env };
}

export type ConstantResult = { constant: true; value: Value } | { constant: false };

/**
 * The value of an expression that reads no context and calls no status
 * function (`false`, `1 == 2`, `!true`, `format('{0}', 1)`), or `{ constant: false }`.
 * An expression that would fail at run time is not constant.
 */
export function constantValue(ast: Expr): ConstantResult {
  if (collectReferences(ast).length > 0) return { constant: false };
  const calls = collectCalls(ast);
  if (calls.some((c) => lookupFunction(c.name)?.status !== false)) return { constant: false };
  try {
    return { constant: true, value: evaluate(ast, { contexts: {} }) };
  } catch (e) {
    if (e instanceof ExpressionError) return { constant: false };
    throw e;
  }
}

export function isConstant(ast: Expr): boolean {
  return constantValue(ast).constant;
}
