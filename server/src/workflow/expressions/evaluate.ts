/** Evaluation with GitHub Actions semantics (loose equality, case-insensitive strings). */
import type { CallNode, Expr, Span } from './ast';
import { isKnownContext, lookupFunction } from './builtins';

export type Value = null | boolean | number | string | Value[] | { [k: string]: Value };
export type ValueObject = { [k: string]: Value };

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

export function isObject(v: Value): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** false, 0, -0, NaN, '' and null are falsy; everything else (incl. [] and {}) is truthy. */
export function truthy(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return true;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const HEX = /^([+-]?)0x([0-9a-f]+)$/i;

/** GH number coercion: null → 0, booleans → 1/0, '' → 0, numeric strings parsed, else NaN. */
export function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '') return 0;
    const hex = HEX.exec(s);
    if (hex) return (hex[1] === '-' ? -1 : 1) * parseInt(hex[2], 16);
    return DECIMAL.test(s) ? Number(s) : NaN;
  }
  return NaN;
}

/** String form used for interpolation: null → '', objects/arrays → JSON. */
export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Ordinal case-insensitive folding that keeps string length (like OrdinalIgnoreCase). */
export function foldCase(s: string): string {
  if (!/[^\x20-\x7e]/.test(s)) return s.toUpperCase();
  return Array.from(s, (ch) => {
    const up = ch.toUpperCase();
    return up.length === ch.length ? up : ch;
  }).join('');
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: Value): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

/** `==`: same kind compares directly (strings ignoring case, objects by identity); else both become numbers. */
export function looseEquals(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === kb) {
    if (typeof a === 'string' && typeof b === 'string') return foldCase(a) === foldCase(b);
    return a === b;
  }
  if (ka === 'array' || ka === 'object' || kb === 'array' || kb === 'object') return false;
  return toNumber(a) === toNumber(b);
}

/** Ordering for `< <= > >=`: negative, zero, positive, or undefined when not comparable. */
export function compareValues(a: Value, b: Value): number | undefined {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'array' || ka === 'object' || kb === 'array' || kb === 'object') return undefined;
  if (typeof a === 'string' && typeof b === 'string') {
    const fa = foldCase(a);
    const fb = foldCase(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  }
  const na = toNumber(a);
  const nb = toNumber(b);
  if (Number.isNaN(na) || Number.isNaN(nb)) return undefined;
  return na < nb ? -1 : na > nb ? 1 : 0;
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
      const c = compareValues(left, right);
      if (c === undefined) return false;
      if (ast.op === '<') return c < 0;
      if (ast.op === '<=') return c <= 0;
      if (ast.op === '>') return c > 0;
      return c >= 0;
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
  const args = node.args.map((arg) => evaluate(arg, ctx));
  switch (spec.name) {
    case 'contains': {
      const [search, item] = args;
      if (Array.isArray(search)) return search.some((el) => looseEquals(el, item));
      return foldCase(toText(search)).includes(foldCase(toText(item)));
    }
    case 'startsWith':
      return foldCase(toText(args[0])).startsWith(foldCase(toText(args[1])));
    case 'endsWith':
      return foldCase(toText(args[0])).endsWith(foldCase(toText(args[1])));
    case 'format':
      return format(toText(args[0]), args.slice(1), node.args[0]);
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

function fromJSON(text: string, node: CallNode): Value {
  try {
    return JSON.parse(text) as Value;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new ExpressionError(`fromJSON: the value is not valid JSON (${reason}): '${shown}'`, node);
  }
}

/** `format('{0} is {1}', a, b)`; `{{` and `}}` stand for literal braces. */
export function format(fmt: string, args: Value[], at: Span): string {
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
      if (n >= args.length) {
        throw new ExpressionError(`format: '{${n}}' has no argument (${args.length} given after the format string)`, at);
      }
      out += toText(args[n]);
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
