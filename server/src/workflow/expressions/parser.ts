/**
 * Recursive-descent parser. `parseExpression` never throws: problems come
 * back as `ExprError`s with absolute offsets and a message that says what to do.
 *
 * Precedence, high to low (as in GitHub Actions):
 *   postfix `.name` `[expr]` and calls, `!`, `< <= > >=`, `== !=`, `&&`, `||`.
 */
import type { BinaryOp, Expr, ExprError } from './ast';
import { lex, type Token, type TokenKind } from './lexer';

export interface ParseResult {
  ast?: Expr;
  errors: ExprError[];
}

/**
 * GitHub Actions' nesting limit. Depth is counted as GitHub counts it: one level for the whole
 * expression and for each parenthesised group, function argument and `[index]`; one for a chain
 * of `||` and one for a chain of `&&` (however long); one for each `!`, `.name` and `[index]`.
 */
export const MAX_DEPTH = 50;
/** GitHub Actions' limit on the length of one expression (its trimmed text). */
export const MAX_LENGTH = 21000;
/** Bounds the depth of left-leaning chains (`a || b || ...`) for recursive walkers. */
const MAX_TOKENS = 5000;

type Level = readonly TokenKind[];
const EQUALITY: Level = ['==', '!='];
const COMPARISON: Level = ['<', '<=', '>', '>='];

const WORD_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/** Internal bail-out; always caught in `parseExpression`. */
class Bail extends Error {
  constructor(readonly error: ExprError) {
    super(error.message);
  }
}

/**
 * Parses `text` (the inside of `${{ ... }}`, or a bare `if:` condition).
 * `base` is added to every offset so they come out absolute.
 */
export function parseExpression(text: string, base = 0): ParseResult {
  if (text.trim().length > MAX_LENGTH) {
    const message = `expression is too long (more than ${MAX_LENGTH} characters, the limit of GitHub Actions): split it or move logic into a step`;
    return { errors: [{ message, start: base, end: base + text.length }] };
  }
  const { tokens, errors } = lex(text, base);
  if (errors.length > 0) return { errors };
  if (tokens[0].kind === 'eof') {
    const message = "empty expression: write an expression between '${{' and '}}'";
    return { errors: [{ message, start: base, end: base + text.length }] };
  }
  if (tokens.length > MAX_TOKENS) {
    const message = `expression is too long (more than ${MAX_TOKENS} tokens): split it or move logic into a step`;
    return { errors: [{ message, start: base, end: base + text.length }] };
  }
  const parser = new Parser(tokens);
  try {
    return { ast: parser.parseAll(), errors: [] };
  } catch (e) {
    if (e instanceof Bail) return { errors: [e.error] };
    throw e;
  }
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Expr {
    const ast = this.parseExpr();
    const tok = this.peek();
    if (tok.kind === ')' || tok.kind === ']') {
      const open = tok.kind === ')' ? '(' : '[';
      this.fail(`unexpected '${tok.text}': there is no matching '${open}'`, tok);
    }
    if (tok.kind !== 'eof') {
      this.fail(
        hintFor(tok) ?? `unexpected '${tok.text}' after a complete expression: join them with an operator such as '==' or '&&'`,
        tok,
      );
    }
    return ast;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  private advance(): Token {
    const tok = this.peek();
    if (tok.kind !== 'eof') this.pos++;
    return tok;
  }

  private fail(message: string, at: { start: number; end: number }): never {
    throw new Bail({ message, start: at.start, end: at.end });
  }

  /** One level deeper; fails past MAX_DEPTH at `at` (the next token, as GitHub reports it). */
  private enter(at: Token): void {
    if (++this.depth > MAX_DEPTH) {
      this.fail(`expression is nested too deeply (more than ${MAX_DEPTH} levels, the limit of GitHub Actions): simplify it or split it`, at);
    }
  }

  /** A whole expression: the top level, inside `( )` and `[ ]`, and each function argument. */
  private parseExpr(): Expr {
    this.enter(this.peek());
    const node = this.parseOr();
    this.depth--;
    return node;
  }

  // Precedence levels, low to high.
  private parseOr(): Expr {
    return this.parseLogical('||', () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseLogical('&&', () => this.parseEquality());
  }

  private parseEquality(): Expr {
    return this.parseLevel(EQUALITY, () => this.parseComparison());
  }

  private parseComparison(): Expr {
    return this.parseLevel(COMPARISON, () => this.parseUnary());
  }

  /** `a || b || c` (or `&&`): left-associative; the chain after its first operand is one level deeper. */
  private parseLogical(op: '||' | '&&', operand: () => Expr): Expr {
    let left = operand();
    if (this.peek().kind !== op) return left;
    this.enter(this.peek());
    while (this.peek().kind === op) {
      const opTok = this.advance();
      this.expectOperand(opTok);
      const right = operand();
      left = { kind: 'logical', op, left, right, start: left.start, end: right.end };
    }
    this.depth--;
    return left;
  }

  /** Comparison operators of one precedence level, left-associative; no extra depth. */
  private parseLevel(ops: Level, operand: () => Expr): Expr {
    let left = operand();
    while (ops.includes(this.peek().kind)) {
      const opTok = this.advance();
      this.expectOperand(opTok);
      const right = operand();
      left = { kind: 'binary', op: opTok.kind as BinaryOp, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  /** Fails with "expected an expression after 'X'" when the input ended. */
  private expectOperand(after: Token): void {
    if (this.peek().kind === 'eof') this.fail(`expected an expression after '${after.text}'`, after);
  }

  private parseUnary(): Expr {
    const tok = this.peek();
    if (tok.kind !== '!') return this.parsePostfix(this.parsePrimary());
    this.advance();
    this.expectOperand(tok);
    this.enter(this.peek());
    const operand = this.parseUnary();
    this.depth--;
    return { kind: 'unary', op: '!', operand, start: tok.start, end: operand.end };
  }

  private parsePrimary(): Expr {
    const tok = this.advance();
    switch (tok.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: tok.value ?? null, start: tok.start, end: tok.end };
      case 'true':
      case 'false':
        return { kind: 'literal', value: tok.kind === 'true', start: tok.start, end: tok.end };
      case 'null':
        return { kind: 'literal', value: null, start: tok.start, end: tok.end };
      case 'ident':
        if (this.peek().kind === '(') return this.parseCall(tok);
        return { kind: 'ref', name: tok.text, start: tok.start, end: tok.end };
      case '(': {
        this.expectOperand(tok);
        const inner = this.parseExpr();
        this.expectClose(')', tok, '(');
        return inner;
      }
      case 'eof': {
        const prev = this.tokens[Math.max(0, this.pos - 1)];
        return this.fail(`expected an expression after '${prev.text}'`, prev);
      }
      default:
        return this.fail(
          `unexpected '${tok.text}': expected a value (a context such as inputs.name, a literal, or a function call)`,
          tok,
        );
    }
  }

  private parseCall(nameTok: Token): Expr {
    const open = this.advance();
    const args: Expr[] = [];
    const label = `${nameTok.text}(`;
    if (this.peek().kind !== ')') {
      for (;;) {
        const tok = this.peek();
        if (tok.kind === 'eof') this.fail(`expected ')' to close '${label}' at offset ${open.start}`, open);
        if (tok.kind === ')' || tok.kind === ',') {
          const prev = this.tokens[this.pos - 1];
          this.fail(`expected an argument after '${prev.text}'${prev.kind === ',' ? ': remove the extra comma' : ''}`, prev);
        }
        args.push(this.parseExpr());
        const sep = this.peek();
        if (sep.kind !== ',') break;
        this.advance();
      }
    }
    const close = this.expectClose(')', open, label);
    return {
      kind: 'call',
      name: nameTok.text,
      nameStart: nameTok.start,
      nameEnd: nameTok.end,
      args,
      start: nameTok.start,
      end: close.end,
    };
  }

  /** `.name` and `[index]` chains; each link is one level deeper until the chain ends. */
  private parsePostfix(node: Expr): Expr {
    const outer = this.depth;
    for (;;) {
      const tok = this.peek();
      if (tok.kind === '.') {
        this.advance();
        this.enter(this.peek());
        const name = this.peek();
        if (name.kind === 'eof') this.fail("expected a property name after '.'", tok);
        if (name.kind !== 'ident' && name.kind !== 'true' && name.kind !== 'false' && name.kind !== 'null') {
          const hint = name.kind === 'number' ? `; use [${name.text}] to index` : '';
          this.fail(`expected a property name after '.', found '${name.text}'${hint}`, name);
        }
        this.advance();
        node = {
          kind: 'property',
          object: node,
          name: name.text,
          nameStart: name.start,
          nameEnd: name.end,
          start: node.start,
          end: name.end,
        };
      } else if (tok.kind === '[') {
        this.advance();
        if (this.peek().kind === ']') this.fail("expected an index inside '[]', such as ['name'] or [0]", this.peek());
        this.expectOperand(tok);
        const index = this.parseExpr();
        const close = this.expectClose(']', tok, '[');
        this.enter(this.peek());
        node = { kind: 'index', object: node, index, start: node.start, end: close.end };
      } else if (tok.kind === '(') {
        this.fail("unexpected '(': only functions such as contains(a, b) can be called", tok);
      } else {
        this.depth = outer;
        return node;
      }
    }
  }

  private expectClose(kind: ')' | ']', open: Token, label: string): Token {
    const tok = this.peek();
    if (tok.kind === kind) return this.advance();
    const base = `expected '${kind}' to close '${label}' at offset ${open.start}`;
    if (tok.kind === 'eof') this.fail(base, open);
    return this.fail(hintFor(tok) ?? `${base}, found '${tok.text}'`, tok);
  }
}

/** A specific message for a token that cannot follow a complete expression. */
function hintFor(tok: Token): string | undefined {
  const lower = tok.text.toLowerCase();
  if (tok.kind === 'ident' && Object.hasOwn(WORD_OPERATORS, lower)) {
    const word = WORD_OPERATORS[lower];
    return `unexpected '${tok.text}'. Did you mean '${word}'?`;
  }
  if (tok.kind === 'number' && (tok.text.startsWith('-') || tok.text.startsWith('+'))) {
    return `unexpected '${tok.text}': arithmetic is not supported`;
  }
  return undefined;
}
