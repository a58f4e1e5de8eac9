/**
 * Where the spec only says "`${{ }}` behaves as a GitHub Actions user expects": the rules of
 * GitHub's expression language (its runner and the `actions/languageservices` expressions
 * package, whose cross-language test data these cases follow), one `describe` per rule.
 * Deliberate differences are in docs/workflow-language.md ("Expression semantics").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluate,
  evaluateCondition,
  formatNumber,
  interpolate,
  parseExpression,
  parseTemplate,
  prepareScript,
  toNumber,
  type EvalContext,
  type Value,
} from '../../server/src/workflow/expressions/index';
import { expectProblems, messages } from '../helpers/marked';

const ctx: EvalContext = { contexts: { inputs: { list: [1, 'a'], obj: { k: 'v' }, empty: [], nothing: null } } };

function ev(text: string, c: EvalContext = ctx): Value {
  const r = parseExpression(text);
  assert.deepEqual(r.errors, [], `errors in ${text}`);
  assert.ok(r.ast);
  return evaluate(r.ast, c);
}

function parseError(text: string): string {
  const r = parseExpression(text);
  assert.equal(r.ast, undefined, `expected an error for ${text}`);
  return r.errors[0].message;
}

function table(cases: Array<[string, Value]>): void {
  for (const [text, expected] of cases) {
    void it(`${text} → ${JSON.stringify(expected)}`, () => assert.deepEqual(ev(text), expected));
  }
}

void describe('rule: number literals are the forms GitHub accepts (NaN, Infinity, hex, octal, exponents, .5, +1)', () => {
  const cases: Array<[string, number]> = [
    ['1', 1], ['.5', 0.5], ['0.5', 0.5], ['-1', -1], ['+1', 1], ['-.5', -0.5], ['+.5', 0.5], ['5.', 5],
    ['0', 0], ['-0', -0], ['0.0', 0],
    ['0x0', 0], ['0xf', 15], ['0xfF', 255], ['0xfFf', 4095],
    ['0o0', 0], ['0o7', 7], ['0o77', 63], ['0o777', 511],
    ['1e1', 10], ['1E1', 10], ['1E+1', 10], ['1e-1', 0.1], ['1.2e2', 120], ['1.2E-2', 0.012],
    ['Infinity', Infinity], ['+Infinity', Infinity], ['-Infinity', -Infinity],
  ];
  for (const [text, value] of cases) {
    void it(`${text} is the number ${value}`, () => assert.ok(Object.is(ev(text), value), JSON.stringify(ev(text))));
  }
  void it('NaN is the number NaN', () => assert.ok(Number.isNaN(ev('NaN'))));
  void it('after a dot, NaN, Infinity, true, false and null are property names', () => {
    const c: EvalContext = { contexts: { inputs: { NaN: 'n', Infinity: 'i', true: 't', null: { x: 'x' } } } };
    assert.equal(ev('inputs.NaN', c), 'n');
    assert.equal(ev('inputs.Infinity', c), 'i');
    assert.equal(ev('inputs.true', c), 't');
    assert.equal(ev('inputs.null.x', c), 'x');
  });
  void it('a dot before a digit is a number only where a property access cannot be', () => {
    assert.equal(ev('inputs.list[.5 == 0.5 && 1 || 0]'), 'a');
    assert.equal(ev('(.5) == 0.5'), true);
    assert.equal(ev("format('{0}', .5)"), '0.5');
  });
  const bad: Array<[string, RegExp]> = [
    ['0x01p2', /invalid number '0x01p2'/],
    ['0xFZ', /invalid number '0xFZ'/],
    ['-0xFF', /invalid number '-0xFF': hexadecimal and octal literals take no sign/],
    ['0XFF', /invalid number '0XFF': only '0x' \(hexadecimal\) and '0o' \(octal\)/],
    ['0O17', /invalid number '0O17'/],
    ['0b101', /invalid number '0b101'/],
    ['0o8', /invalid number '0o8'/],
    ['1.2.3', /invalid number '1.2.3'/],
    ['1_000', /invalid number '1_000'/],
    ['-Inf', /arithmetic is not supported/],
  ];
  for (const [text, message] of bad) {
    void it(`${text} is not a number`, () => assert.match(parseError(text), message));
  }
  void it('NaN and Infinity are case-sensitive words: nan is an unknown context', () => {
    assert.throws(() => ev('nan == 1'), /unknown context 'nan'/);
  });
});

void describe('rule: a string compared with a number is read with the same number forms, trimmed', () => {
  table([
    ["'' == 0", true], ["' ' == 0", true], ["' -0.0 ' == 0", true],
    ["' 123456.789 ' == 123456.789", true], ["' +123456.789 ' == 123456.789", true],
    ["' +1.2e2 ' == 120", true], ["' 1.2E+2 ' == 120", true], ["' 1.2e-2 ' == 0.012", true],
    ["' 0xff ' == 255", true], ["' 0xFF ' == 255", true], ["' 0o10 ' == 8", true],
    ["' Infinity ' == Infinity", true], ["' -Infinity ' == -Infinity", true], ["'+Infinity' == Infinity", true],
    ["'.5' == 0.5", true], ["'5.' == 5", true],
    ["'-0x10' == -16", false], ["'0X10' == 16", false], ["'0b1' == 1", false], ["'1,000' == 1000", false],
    ["'infinity' == Infinity", false], ["'0o10' > 7", true], ["'0x10' < 17", true],
    ['true == \' 1.0 \'', true], ["false == ' 0.0 '", true], ["null == '0'", true], ["null == 'null'", false],
  ]);
  void it('toNumber is that rule', () => {
    assert.equal(toNumber(' 0o17 '), 15);
    assert.equal(toNumber('-Infinity'), -Infinity);
    assert.ok(Number.isNaN(toNumber('0b1')));
  });
});

void describe('rule: NaN is never equal to or ordered with anything', () => {
  table([
    ['NaN == NaN', false], ['NaN != NaN', true], ["' NaN ' == NaN", false], ["' NaN ' > NaN", false],
    ["' abc ' < NaN", false], ['NaN <= NaN', false], ['NaN >= 0', false], ['false == NaN', false],
    ['Infinity == Infinity', true], ['-Infinity == Infinity', false], ['1 < Infinity', true],
  ]);
});

void describe('rule: <= and >= are == or < (>), so an array or object is <= itself', () => {
  table([
    ['inputs.list <= inputs.list', true], ['inputs.obj >= inputs.obj', true],
    ['inputs.list < inputs.list', false], ['inputs.list <= inputs.empty', false], ["'abc' <= 'ABC'", true],
  ]);
});

void describe('rule: case-insensitive comparison is ordinal and culture-invariant (ı is not I)', () => {
  table([
    ["'ı' == 'I'", false], ["'I' == 'ı'", false], ["'ı' == 'ı'", true], ["'i' == 'İ'", false],
    ["'ς' == 'Σ'", true], ["'σ' == 'ς'", true], ["'ü' == 'Ü'", true], ["'ç' == 'Ç'", true],
    ["'абвгдежзийклмнопрстуфхцчшщьэюя' == 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЭЮЯ'", true],
    ["'ß' == 'SS'", false], ["'ß' == 'ß'", true],
    ["'ı' < 'I'", false], ["'ı' > 'I'", true],
    ["startsWith('ı_asdf', 'I')", false], ["startsWith('I_asdf', 'ı')", false],
    ["startsWith('i_asdf', 'İ')", false], ["startsWith('ς_asdf', 'Σ')", true],
    ["startsWith('ABCDEFGHIJKLMNOPQRSTUVWXYZ_asdf', 'abcdefghijklmnopqrstuvwxyz')", true],
    ["endsWith('asdf_ı', 'I')", false], ["endsWith('asdf_Ü', 'ü')", true],
    ["contains('xıx', 'I')", false], ["contains('xIx', 'ı')", false], ["contains('xςx', 'σ')", true],
  ]);
  void it('contains on an array compares elements with == (so the same folding)', () => {
    const c: EvalContext = { contexts: { inputs: { list: ['ı', 'Ü'] } } };
    assert.equal(ev("contains(inputs.list, 'I')", c), false);
    assert.equal(ev("contains(inputs.list, 'ü')", c), true);
  });
});

void describe('rule: startsWith, endsWith and contains on strings need two primitive values', () => {
  table([
    ["contains('Object', inputs.obj)", false], ["contains('[1,\"a\"]', inputs.list)", false],
    ["contains(inputs.obj, 'k')", false], ["startsWith(inputs.list, 'A')", false], ["endsWith('Array', inputs.list)", false],
    ['contains(inputs.list, 1)', true], ["contains(inputs.list, '1')", true], ["contains('asdf', null)", true],
    ["startsWith('1234', 12)", true], ["startsWith('true', true)", true], ["contains('0.5', .5)", true],
    ["endsWith('x1E+15', 1e15)", true],
  ]);
});

void describe('rule: format() writes an array as Array and an object as Object', () => {
  table([
    ["format('{0}', inputs.list)", 'Array'], ["format('{0}', inputs.empty)", 'Array'],
    ["format('{0}', inputs.obj)", 'Object'], ["format('{0}', fromJSON('{}'))", 'Object'],
    ["format('{0}|{1}|{2}', null, true, false)", '|true|false'], ['format(inputs.list)', 'Array'],
  ]);
  void it('only the values the format string refers to are evaluated', () => {
    assert.equal(ev("format('{1}', fromJSON('not json'), 'b')"), 'b');
    assert.throws(() => ev("format('{0}', fromJSON('not json'))"), /not valid JSON/);
  });
  void it('a value pasted into a template stays JSON (documented difference)', () => {
    assert.equal(interpolate('x ${{ inputs.list }} ${{ inputs.obj }}', ctx), 'x [1,"a"] {"k":"v"}');
  });
});

void describe('rule: a number becomes text with at most 15 significant digits (G15)', () => {
  const cases: Array<[number, string]> = [
    [1, '1'], [0.5, '0.5'], [-0.5, '-0.5'], [-2, '-2'], [0, '0'], [-0, '0'],
    [123456.789, '123456.789'], [-123456.789, '-123456.789'], [0.84551240822557006, '0.84551240822557'],
    [1.9, '1.9'], [1234.56, '1234.56'], [120, '120'], [0.012, '0.012'], [0.1 + 0.2, '0.3'],
    [123456789012345, '123456789012345'], [1234567890123456, '1.23456789012346E+15'], [1e15, '1E+15'],
    [1.5e20, '1.5E+20'], [1e21, '1E+21'], [0.0001, '0.0001'], [0.00001, '1E-05'], [-1.25e-7, '-1.25E-07'],
    [1e100, '1E+100'], [Number.MAX_SAFE_INTEGER, '9.00719925474099E+15'],
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
  ];
  for (const [n, text] of cases) {
    void it(`${n} → ${text}`, () => assert.equal(formatNumber(n), text));
  }
  table([
    ["format('{0}', 0.84551240822557006)", '0.84551240822557'], ["format('{0}', -0.0)", '0'],
    ["format('{0}', 0xff)", '255'], ["format('{0}', 0o10)", '8'], ["format('{0}', 1.2e-2)", '0.012'],
    ["format('{0}', -Infinity)", '-Infinity'], ["format('{0}', NaN)", 'NaN'], ["format('{0}', +Infinity)", 'Infinity'],
  ]);
  void it('templates, scripts and object keys use the same text', () => {
    assert.equal(interpolate('${{ 0.1 }}+${{ 0.2 }}=${{ fromJSON(\'0.30000000000000004\') }}', ctx), '0.1+0.2=0.3');
    assert.deepEqual(prepareScript('echo ${{ 1e15 }}', ctx).env, { ORCH_EXPR_0: '1E+15' });
    assert.equal(ev("fromJSON('{\"1E+15\": \"big\"}')[1e15]"), 'big');
  });
});

/** `n` levels of each construct GitHub counts, around `core`. */
const nest = {
  not: (n: number) => `${'!'.repeat(n)}false`,
  dots: (n: number) => `inputs${Array.from({ length: n }, (_, i) => `._${i + 1}`).join('')}`,
  indexes: (n: number) => `inputs${Array.from({ length: n }, (_, i) => `[${i + 1}]`).join('')}`,
  calls: (n: number) => `${Array.from({ length: n }, (_, i) => (i % 2 ? 'toJSON(' : 'fromJSON(')).join('')}'1'${')'.repeat(n)}`,
  parens: (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`,
  /** `n` calls of format('x' || ...); the innermost has an `||` too when `or` is set. */
  orCalls: (n: number, or: boolean) => `${"format('x'||".repeat(n - 1)}format('y'${or ? "||'z'" : ''}${')'.repeat(n)}`,
};

void describe('rule: expressions nest at most 50 levels deep, counted as GitHub counts', () => {
  const limits: Array<[string, string, string]> = [
    // construct, deepest accepted (50 levels), shallowest refused (51)
    ['! operators', nest.not(49), nest.not(50)],
    ['.name links', nest.dots(49), nest.dots(50)],
    ['[index] links', nest.indexes(49), nest.indexes(50)],
    ['nested calls', nest.calls(49), nest.calls(50)],
    ['parentheses', nest.parens(49), nest.parens(50)],
    ["format('x' || ...) (an argument and an || chain per level)", nest.orCalls(25, false), nest.orCalls(25, true)],
  ];
  for (const [what, ok, tooDeep] of limits) {
    void it(`${what}: the limit is exact`, () => {
      assert.deepEqual(parseExpression(ok).errors, []);
      assert.match(parseError(tooDeep), /^expression is nested too deeply \(more than 50 levels, the limit of GitHub Actions\)/);
    });
  }
  void it('a long || or && chain counts once', () => {
    const chain = (op: string) => Array.from({ length: 60 }, (_, i) => String(i + 1)).join(` ${op} `);
    assert.equal(ev(chain('||')), 1);
    assert.equal(ev(chain('&&')), 60);
    assert.equal(ev(Array.from({ length: 30 }, (_, i) => `${2 * i + 1} && ${2 * i + 2}`).join(' || ')), 2);
    assert.equal(ev(Array.from({ length: 60 }, () => '1').join(' == ')), true);
  });
  void it('the error points at the token where the limit was passed', () => {
    const text = nest.not(50);
    const err = parseExpression(text, 100).errors[0];
    assert.deepEqual([err.start, err.end], [150, 155]);
  });
  void it('validation reports it as bad-expression at that token', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo \${{ ${'!'.repeat(50)}[[false]] }}
      `,
      ['bad-expression'],
    );
    assert.match(messages(v)[0], /nested too deeply/);
  });
});

void describe('rule: an expression is at most 21,000 characters long', () => {
  void it('21,000 characters parse; 21,001 are refused with a clear message', () => {
    const literal = (n: number) => `'${'x'.repeat(n - 2)}'`;
    assert.deepEqual(parseExpression(`  ${literal(21000)}  `).errors, []);
    assert.match(parseError(literal(21001)), /^expression is too long \(more than 21000 characters, the limit of GitHub Actions\)/);
  });
});

void describe("rule: an empty ${{ }} is an error (GitHub: 'An expression was expected')", () => {
  for (const blank of ['${{ }}', '${{}}', '${{\n}}']) {
    void it(`${JSON.stringify(blank)} in a template, a condition and a script`, () => {
      assert.match(parseTemplate(`a ${blank} b`).errors[0].message, /^empty expression: write an expression between/);
      assert.throws(() => interpolate(`a ${blank} b`, ctx), /empty expression/);
      assert.throws(() => evaluateCondition(blank, ctx), /empty expression/);
      assert.throws(() => prepareScript(`echo ${blank}`, ctx), /empty expression/);
    });
  }
  void it('validation reports bad-expression on the whole ${{ }} in every field', () => {
    expectProblems(
      `
      name: x
      env: { A: "[[\${{ }}]]" }
      steps:
        - id: a
          run: echo [[\${{ }}]]
          env: { B: "[[\${{}}]]" }
          outputs: { c: "[[\${{  }}]]" }
        - id: b
          needs: a
          if: [[\${{ }}]]
          run: echo
      `,
      ['bad-expression', 'bad-expression', 'bad-expression', 'bad-expression', 'bad-expression'],
    );
  });
  void it("an empty if: is bad-expression on the value too (documented difference: GitHub reads it as success())", () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          if: [['']]
          run: echo
      `,
      ['bad-expression'],
    );
    assert.match(messages(v)[0], /^empty expression/);
    assert.throws(() => evaluateCondition('  ', ctx), /empty expression/);
  });
});

void describe('GitHub syntax outside the spec gets a message of its own', () => {
  void it("the '.*' and '[*]' filters", () => {
    assert.match(parseError('inputs.list.*'), /the '\.\*' and '\[\*\]' filters of GitHub Actions are not supported/);
    assert.match(parseError('inputs.list[*]'), /filters of GitHub Actions are not supported/);
    assert.match(parseError('a * 2'), /arithmetic is not supported/);
  });
});
