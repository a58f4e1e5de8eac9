/** Evaluation with GitHub Actions semantics (loose equality, case-insensitive strings). */
import type { CallNode, Expr, Span } from './ast';
import { isKnownContext, lookupFunction } from './builtins';
import {
  compareValues,
  foldCase,
  isObject,
  isPrimitive,
  looseEquals,
  toNumber,
  toStringValue,
  toText,
  truthy,
  type Value,
} from './coerce';

export interface EvalContext {
  /** `inputs`, `env`, `secrets`, `steps`, `matrix`, `session`, `workflow`, ... */
  contexts: Record<string, Value>;
  /** Read by success()/failure(); when absent, success() is true and failure() false. */
  status?: { success: boolean; failure: boolean };
}

/** An error while evaluating (bad JSON, bad format string, ...); the span is absolute. */
export class ExpressionError extends Error {
  readonly start: number;
  readonly end: number;

  constructor(message: string, span: Span) {
    super(message);
    this.name = 'ExpressionError';
    this.start = span.start;
    this.end = span.end;
  }
}

/** Own property, exact key first, then case-insensitive; null when missing. */
export function getProperty(obj: Value, key: string): Value {
  if (!isObject(obj)) return null;
  if (Object.hasOwn(obj, key)) return obj[key];
  const folded = foldCase(key);
  const match = Object.keys(obj).find((k) => foldCase(k) === folded);
  return match === undefined ? null : obj[match];
}

function getIndex(obj: Value, key: Value): Value {
  if (Array.isArray(obj)) {
    const n = toNumber(key);
    return Number.isInteger(n) && n >= 0 && n < obj.length ? obj[n] : null;
  }
  return getProperty(obj, toText(key));
}

export function evaluate(ast: Expr, ctx: EvalContext): Value {
  switch (ast.kind) {
    case 'literal':
      return ast.value;
    case 'ref': {
      const folded = foldCase(ast.name);
      const present = Object.keys(ctx.contexts).some((k) => foldCase(k) === folded);
      if (!present && !isKnownContext(ast.name)) {
        throw new ExpressionError(`unknown context '${ast.name}'`, ast);
      }
      return getProperty(ctx.contexts, ast.name);
    }
    case 'property':
      return getProperty(evaluate(ast.object, ctx), ast.name);
    case 'index':
      return getIndex(evaluate(ast.object, ctx), evaluate(ast.index, ctx));
    case 'unary':
      return !truthy(evaluate(ast.operand, ctx));
    case 'logical': {
      const left = evaluate(ast.left, ctx);
      if (ast.op === '&&') return truthy(left) ? evaluate(ast.right, ctx) : left;
      return truthy(left) ? left : evaluate(ast.right, ctx);
    }
    case 'binary': {
      const left = evaluate(ast.left, ctx);
      const right = evaluate(ast.right, ctx);
      if (ast.op === '==') return looseEquals(left, right);
      if (ast.op === '!=') return !looseEquals(left, right);
      // As in GitHub, `<=` is `==` or `<` (so an array is <= itself), and `>=` likewise.
      if ((ast.op === '<=' || ast.op === '>=') && looseEquals(left, right)) return true;
      const c = compareValues(left, right);
      if (c === undefined) return false;
      return ast.op === '<' || ast.op === '<=' ? c < 0 : c > 0;
    }
    case 'call':
      return callFunction(ast, ctx);
  }
}

function callFunction(node: CallNode, ctx: EvalContext): Value {
  const nameSpan = { start: node.nameStart, end: node.nameEnd };
  const spec = lookupFunction(node.name);
  if (spec === undefined) throw new ExpressionError(`unknown function '${node.name}'`, nameSpan);
  const argc = node.args.length;
  if (argc < spec.minArgs || argc > spec.maxArgs) {
    throw new ExpressionError(`${spec.name}() called with ${argc} argument(s)`, nameSpan);
  }
  if (spec.name === 'format') {
    // As in GitHub, a value is evaluated only when the format string refers to it, and once.
    const values = new Map<number, Value>();
    const valueAt = (n: number): Value => {
      if (!values.has(n)) values.set(n, evaluate(node.args[n + 1], ctx));
      return values.get(n) ?? null;
    };
    return format(toStringValue(evaluate(node.args[0], ctx)), argc - 1, valueAt, node.args[0]);
  }
  const args = node.args.map((arg) => evaluate(arg, ctx));
  switch (spec.name) {
    case 'contains': {
      const [search, item] = args;
      if (Array.isArray(search)) return search.some((el) => looseEquals(el, item));
      return stringTest(search, item, (s, part) => s.includes(part));
    }
    case 'startsWith':
      return stringTest(args[0], args[1], (s, part) => s.startsWith(part));
    case 'endsWith':
      return stringTest(args[0], args[1], (s, part) => s.endsWith(part));
    case 'toJSON':
      return JSON.stringify(args[0], null, 2);
    case 'fromJSON':
      return fromJSON(toText(args[0]), node);
    case 'success':
      return ctx.status?.success ?? true;
    case 'failure':
      return ctx.status?.failure ?? false;
    default:
      return true; // always()
  }
}

/** contains/startsWith/endsWith on strings: both values primitive (else false), compared folded. */
function stringTest(a: Value, b: Value, test: (s: string, part: string) => boolean): boolean {
  if (!isPrimitive(a) || !isPrimitive(b)) return false;
  return test(foldCase(toStringValue(a)), foldCase(toStringValue(b)));
}

function fromJSON(text: string, node: CallNode): Value {
  try {
    return JSON.parse(text) as Value;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new ExpressionError(`fromJSON: the value is not valid JSON (${reason}): '${shown}'`, node);
  }
}

/**
 * `format('{0} is {1}', a, b)`; `{{` and `}}` stand for literal braces. Values convert as in
 * GitHub (`toStringValue`): numbers with 15 significant digits, arrays `Array`, objects `Object`.
 */
export function format(fmt: string, argCount: number, valueAt: (n: number) => Value, at: Span): string {
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i];
    if ((ch === '{' || ch === '}') && fmt[i + 1] === ch) {
      out += ch;
      i += 2;
    } else if (ch === '{') {
      const m = /^\{(\d+)\}/.exec(fmt.slice(i));
      if (!m) {
        throw new ExpressionError(`format: invalid '{' at index ${i} of the format string: use '{0}', '{1}', ... or '{{' for a literal '{'`, at);
      }
      const n = Number(m[1]);
      if (n >= argCount) {
        throw new ExpressionError(`format: '{${n}}' has no argument (${argCount} given after the format string)`, at);
      }
      out += toStringValue(valueAt(n));
      i += m[0].length;
    } else if (ch === '}') {
      throw new ExpressionError(`format: unmatched '}' at index ${i} of the format string: use '}}' for a literal '}'`, at);
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}
