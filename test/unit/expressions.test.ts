import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression, type Expr, type ExprError } from '../../server/src/workflow/expressions/index';

/** Compact s-expression form of an AST, for structure assertions. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return JSON.stringify(e.value);
    case 'ref':
      return e.name;
    case 'property':
      return `${show(e.object)}.${e.name}`;
    case 'index':
      return `${show(e.object)}[${show(e.index)}]`;
    case 'call':
      return `${e.name}(${e.args.map(show).join(', ')})`;
    case 'unary':
      return `(! ${show(e.operand)})`;
    case 'binary':
    case 'logical':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
  }
}

function parse(text: string, base = 0): Expr {
  const r = parseExpression(text, base);
  assert.deepEqual(r.errors, [], `unexpected errors for ${text}`);
  assert.ok(r.ast);
  return r.ast;
}

function errorsOf(text: string, base = 0): ExprError[] {
  const r = parseExpression(text, base);
  assert.equal(r.ast, undefined, `expected no AST for ${text}`);
  assert.ok(r.errors.length > 0, `expected errors for ${text}`);
  return r.errors;
}

function firstError(text: string, base = 0): ExprError {
  return errorsOf(text, base)[0];
}

void describe('parser: precedence and structure', () => {
  const cases: Array<[string, string]> = [
    ['a || b && c', '(|| a (&& b c))'],
    ['a && b || c', '(|| (&& a b) c)'],
    ['a == b && c != d', '(&& (== a b) (!= c d))'],
    ['a < b == c >= d', '(== (< a b) (>= c d))'],
    ['!a == b', '(== (! a) b)'],
    ['!a < b', '(< (! a) b)'],
    ['!!a', '(! (! a))'],
    ['!(a == b)', '(! (== a b))'],
    ['(a || b) && c', '(&& (|| a b) c)'],
    ['a || b || c', '(|| (|| a b) c)'],
    ['a == b == c', '(== (== a b) c)'],
    ['a <= b', '(<= a b)'],
    ['a > b', '(> a b)'],
    ['a.b.c[0]', 'a.b.c[0]'],
    ["a['k'].b", 'a["k"].b'],
    ['a[b.c]', 'a[b.c]'],
    ['steps.build-app.outputs.text', 'steps.build-app.outputs.text'],
    ['steps.my_step-2.status', 'steps.my_step-2.status'],
    ["contains(a.b, 'x') || !startsWith(c, d)", '(|| contains(a.b, "x") (! startsWith(c, d)))'],
    ['format(\'{0}\', a, b, c)', 'format("{0}", a, b, c)'],
    ['success()', 'success()'],
    ['fromJSON(a).x[1]', 'fromJSON(a).x[1]'],
    ['inputs.null', 'inputs.null'],
    ['((((a))))', 'a'],
  ];
  for (const [src, expected] of cases) {
    void it(`parses ${src}`, () => assert.equal(show(parse(src)), expected));
  }
});

void describe('parser: literals', () => {
  const cases: Array<[string, string | number | boolean | null]> = [
    ["'hello'", 'hello'],
    ["'it''s'", "it's"],
    ["''", ''],
    ['"double"', 'double'],
    ['"a\\nb\\t\\"c\\" \\\\ \\u0041"', 'a\nb\t"c" \\ A'],
    ["'no \\n escapes'", 'no \\n escapes'],
    ['42', 42],
    ['3.25', 3.25],
    ['-1', -1],
    ['-2.5', -2.5],
    ['0x1F', 31],
    ['0xfF', 255],
    ['1e3', 1000],
    ['1.5E-2', 0.015],
    ['true', true],
    ['false', false],
    ['null', null],
  ];
  for (const [src, value] of cases) {
    void it(`reads ${src}`, () => {
      const ast = parse(src);
      assert.equal(ast.kind, 'literal');
      assert.equal(ast.kind === 'literal' ? ast.value : undefined, value);
    });
  }
  void it("'}}' and '${{' inside strings are plain text", () => {
    assert.equal(show(parse("format('{{x}}')")), 'format("{{x}}")');
  });
});

void describe('parser: spans', () => {
  void it('offsets are absolute with base and cover the node', () => {
    const ast = parse("steps.b.outputs['x'] == 'v'", 100);
    assert.equal(ast.kind, 'binary');
    if (ast.kind !== 'binary') return;
    assert.deepEqual([ast.start, ast.end], [100, 127]);
    assert.deepEqual([ast.left.start, ast.left.end], [100, 120]);
    assert.deepEqual([ast.right.start, ast.right.end], [124, 127]);
  });
  void it('calls carry the name span', () => {
    const ast = parse('  contains( a , b ) ', 10);
    assert.equal(ast.kind, 'call');
    if (ast.kind !== 'call') return;
    assert.deepEqual([ast.start, ast.end, ast.nameStart, ast.nameEnd], [12, 29, 12, 20]);
    assert.equal(ast.args.length, 2);
  });
  void it('property nodes carry the name span', () => {
    const ast = parse('inputs.name');
    assert.equal(ast.kind, 'property');
    if (ast.kind !== 'property') return;
    assert.deepEqual([ast.nameStart, ast.nameEnd, ast.start, ast.end], [7, 11, 0, 11]);
  });
  void it('unary starts at !, parentheses are not part of the span', () => {
    const ast = parse('!(a)');
    assert.deepEqual([ast.start, ast.end], [0, 3]);
  });
  void it('UTF-16 offsets after non-ASCII text', () => {
    const ast = parse("'😀é' == x");
    if (ast.kind !== 'binary') return assert.fail('expected binary');
    assert.deepEqual([ast.right.start, ast.right.end], [9, 10]);
  });
});

void describe('parser: errors are values with exact spans', () => {
  const cases: Array<[string, number, string, number, number]> = [
    // text, base, message (prefix), start, end
    ['(a == b', 0, "expected ')' to close '(' at offset 0", 0, 1],
    ['x && (a == b', 5, "expected ')' to close '(' at offset 10", 10, 11],
    ['(a b)', 0, "expected ')' to close '(' at offset 0, found 'b'", 3, 4],
    ["'abc", 0, "unterminated string: add a closing '", 0, 4],
    ["a == 'abc", 10, "unterminated string: add a closing '", 15, 19],
    ['"abc', 0, 'unterminated string: add a closing "', 0, 4],
    ['a = b', 0, "unexpected token '='. Did you mean '=='?", 2, 3],
    ['a & b', 0, "unexpected token '&'. Did you mean '&&'?", 2, 3],
    ['a | b', 0, "unexpected token '|'. Did you mean '||'?", 2, 3],
    ['a === b', 0, "'===' is not an operator: use '=='", 2, 5],
    ['a !== b', 0, "'!==' is not an operator: use '!='", 2, 5],
    ['a ==', 0, "expected an expression after '=='", 2, 4],
    ['a &&  ', 3, "expected an expression after '&&'", 5, 7],
    ['!', 0, "expected an expression after '!'", 0, 1],
    ['a b', 0, "unexpected 'b' after a complete expression", 2, 3],
    ['a and b', 0, "unexpected 'and'. Did you mean '&&'?", 2, 5],
    ['a OR b', 0, "unexpected 'OR'. Did you mean '||'?", 2, 4],
    ['a)', 0, "unexpected ')': there is no matching '('", 1, 2],
    ['a]', 0, "unexpected ']': there is no matching '['", 1, 2],
    ['contains(a, b', 0, "expected ')' to close 'contains(' at offset 8", 8, 9],
    ['contains(a b)', 0, "expected ')' to close 'contains(' at offset 8, found 'b'", 11, 12],
    ['f(a,)', 0, "expected an argument after ','", 3, 4],
    ['f(,a)', 0, "expected an argument after '('", 1, 2],
    ['a.', 0, "expected a property name after '.'", 1, 2],
    ['a.0', 0, "expected a property name after '.', found '0'; use [0] to index", 2, 3],
    ['a[1', 0, "expected ']' to close '[' at offset 1", 1, 2],
    ['a[]', 0, "expected an index inside '[]'", 2, 3],
    ['a.b(1)', 0, "unexpected '(': only functions", 3, 4],
    ['== 1', 0, "unexpected '=='", 0, 2],
    ['1abc', 0, "invalid number '1abc'", 0, 4],
    ['1.2.3', 0, "invalid number '1.2.3'", 0, 5],
    ['0x', 0, "invalid number '0x'", 0, 2],
    ['-0x10', 0, "invalid number '-0x10': hexadecimal and octal literals take no sign", 0, 5],
    ['0XfF', 0, "invalid number '0XfF': only '0x' (hexadecimal) and '0o' (octal) prefixes exist", 0, 4],
    ['a - 1', 0, "unexpected character '-': arithmetic is not supported", 2, 3],
    ['a -1', 0, "unexpected '-1': arithmetic is not supported", 2, 4],
    ['a + 1', 0, "unexpected character '+': arithmetic is not supported", 2, 3],
    ['a # b', 0, "unexpected character '#'", 2, 3],
    ['"a\\qb"', 0, "invalid escape '\\q' in string", 2, 4],
    ['${{ a }}', 0, "nested '${{'", 0, 3],
    ['', 7, "empty expression: write an expression between '${{' and '}}'", 7, 7],
    ['   ', 7, 'empty expression', 7, 10],
  ];
  for (const [text, base, message, start, end] of cases) {
    void it(`${JSON.stringify(text)} → ${message}`, () => {
      const err = firstError(text, base);
      assert.ok(err.message.startsWith(message), `message was: ${err.message}`);
      assert.deepEqual([err.start, err.end], [start, end]);
    });
  }
  void it('reports every lexer error', () => {
    const errors = errorsOf("a = b & 'c");
    assert.deepEqual(
      errors.map((e) => [e.start, e.end]),
      [[2, 3], [6, 7], [8, 10]],
    );
  });
  void it('never throws, even on deep nesting', () => {
    const deep = '('.repeat(1000) + 'a' + ')'.repeat(1000);
    const err = firstError(deep);
    assert.match(err.message, /nested too deeply/);
    assert.equal(firstError('!'.repeat(1000) + 'a').message.includes('nested too deeply'), true);
    for (const junk of ['(((', ')))', ',,', '...', "'''", '[[', 'f(((', '\u0000', '\ud800']) {
      const r = parseExpression(junk);
      assert.ok(r.errors.length > 0, junk);
    }
  });
  void it('bounds long chains so recursive walkers stay safe', () => {
    const long = Array.from({ length: 2600 }, () => 'a').join(' || ');
    assert.match(firstError(long, 3).message, /^expression is too long/);
    assert.deepEqual([firstError(long, 3).start, firstError(long, 3).end], [3, 3 + long.length]);
    const ok = Array.from({ length: 1200 }, () => 'a.b').join(' || ');
    assert.equal(parseExpression(ok).errors.length, 0);
  });
  void it('accepts moderately deep nesting', () => {
    assert.equal(show(parse('('.repeat(40) + 'a' + ')'.repeat(40))), 'a');
  });
});
