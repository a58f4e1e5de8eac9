/** Finding `${{ ... }}` expressions inside a YAML string value. Never throws. */
import type { Expr, ExprError } from './ast';
import { parseExpression } from './parser';

export interface FoundExpression {
  /** Offset of `${{`. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
  /** Offset just after `${{`. */
  innerStart: number;
  /** Offset of `}}`. */
  innerEnd: number;
  /** Text between `${{` and `}}`, untrimmed. */
  inner: string;
}

export interface FindResult {
  expressions: FoundExpression[];
  errors: ExprError[];
}

const OPEN = '${{';
const CLOSE = '}}';

/**
 * Finds every `${{ ... }}` in `source`. A `}}` inside a quoted string of the
 * expression (`${{ format('{{x}}') }}`) does not close it. Offsets are `base` +
 * index into `source`.
 */
export function findExpressions(source: string, base = 0): FindResult {
  const expressions: FoundExpression[] = [];
  const errors: ExprError[] = [];
  let from = 0;
  for (;;) {
    const open = source.indexOf(OPEN, from);
    if (open === -1) break;
    const innerStart = open + OPEN.length;
    let close = findClose(source, innerStart);
    // An unbalanced quote: close at the first `}}` and let the parser report the string.
    if (close === -1) close = source.indexOf(CLOSE, innerStart);
    if (close === -1) {
      errors.push({ message: "unclosed '${{': add '}}'", start: base + open, end: base + innerStart });
      break;
    }
    expressions.push({
      start: base + open,
      end: base + close + CLOSE.length,
      innerStart: base + innerStart,
      innerEnd: base + close,
      inner: source.slice(innerStart, close),
    });
    from = close + CLOSE.length;
  }
  return { expressions, errors };
}

/** Index of the `}}` closing an expression whose text starts at `from`, or -1. */
function findClose(source: string, from: number): number {
  let i = from;
  while (i < source.length) {
    const ch = source[i];
    if (ch === "'" || ch === '"') {
      i = skipString(source, i);
      if (i === -1) return -1;
    } else if (source.startsWith(CLOSE, i)) {
      return i;
    } else {
      i++;
    }
  }
  return -1;
}

/** Index after the string literal starting at `start`, or -1 if it never ends. */
function skipString(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    if (quote === '"' && source[i] === '\\') i++;
    else if (source[i] === quote) return i + 1; // `''` is a close followed by a new open
  }
  return -1;
}

export interface ParsedExpression extends FoundExpression {
  /** Absent when the expression has errors. */
  ast?: Expr;
}

export interface ParsedTemplate {
  expressions: ParsedExpression[];
  /** Template errors and parse errors of every expression, in source order. */
  errors: ExprError[];
}

/** `findExpressions` + `parseExpression` on each one; offsets absolute. */
export function parseTemplate(source: string, base = 0): ParsedTemplate {
  const found = findExpressions(source, base);
  const errors: ExprError[] = [];
  const expressions = found.expressions.map((f): ParsedExpression => {
    const parsed = parseExpression(f.inner, f.innerStart);
    if (f.inner.trim() === '') {
      // Point at the whole `${{ }}` rather than at the blank between the braces.
      errors.push(...parsed.errors.map((e) => ({ ...e, start: f.start, end: f.end })));
    } else {
      errors.push(...parsed.errors);
    }
    return { ...f, ast: parsed.ast };
  });
  errors.push(...found.errors);
  errors.sort((a, b) => a.start - b.start);
  return { expressions, errors };
}
