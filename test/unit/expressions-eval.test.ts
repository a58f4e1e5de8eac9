import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluate,
  ExpressionError,
  looseEquals,
  parseExpression,
  toNumber,
  toText,
  truthy,
  type EvalContext,
  type Value,
} from '../../server/src/workflow/expressions/index';

const shared: Value[] = [1, 2];
const ctx: EvalContext = {
  contexts: {
    inputs: {
      name: 'World',
      count: '3',
      zero: 0,
      empty: '',
      flag: true,
      list: ['a', 'B', 3],
      nested: { Deep: { value: 'x' } },
      shared,
      other: [1, 2],
      nothing: null,
      'with-dash': 'dash',
    },
    env: { HOME: '/home/u' },
    secrets: { TOKEN: 's3cret' },
    steps: {
      'build-app': { outputs: { text: 'built', json: '{"a":[1,2]}' }, status: 'success', findings: 2 },
    },
    matrix: { os: 'linux' },
    session: { id: 'sess-1' },
    workflow: { name: 'review' },
  },
  status: { success: true, failure: false },
};

function ev(text: string, c: EvalContext = ctx): Value {
  const r = parseExpression(text);
  assert.deepEqual(r.errors, [], `errors in ${text}`);
  assert.ok(r.ast);
  return evaluate(r.ast, c);
}

function table(cases: Array<[string, Value]>, c: EvalContext = ctx): void {
  for (const [text, expected] of cases) {
    void it(`${text} → ${JSON.stringify(expected)}`, () => assert.deepEqual(ev(text, c), expected));
  }
}

void describe('evaluate: contexts and access', () => {
  table([
    ['inputs.name', 'World'],
    ['inputs.NAME', 'World'],
    ['INPUTS.name', 'World'],
    ["inputs['name']", 'World'],
    ["inputs['with-dash']", 'dash'],
    ['inputs.with-dash', 'dash'],
    ['inputs.list[0]', 'a'],
    ['inputs.list[2]', 3],
    ["inputs.list['1']", 'B'],
    ['inputs.list[3]', null],
    ['inputs.list[-1]', null],
    ['inputs.list[0.5]', null],
    ['inputs.nested.deep.VALUE', 'x'],
    ['inputs.missing', null],
    ['inputs.missing.deeper.still', null],
    ['inputs.nothing.x', null],
    ['inputs.name.length', null],
    ['inputs.list.length', null],
    ['inputs.constructor', null],
    ['inputs.__proto__', null],
    ['steps.build-app.outputs.text', 'built'],
    ['steps.build-app.status', 'success'],
    ['steps.build-app.findings', 2],
    ['steps.build-app.outputs', { text: 'built', json: '{"a":[1,2]}' }],
    ['steps.nope.outputs.text', null],
    ['env.HOME', '/home/u'],
    ['secrets.TOKEN', 's3cret'],
    ['matrix.os', 'linux'],
    ['session.id', 'sess-1'],
    ['workflow.name', 'review'],
    ["inputs[format('na{0}', 'me')]", 'World'],
  ]);
  void it('a known context that is absent is null; an unknown one throws', () => {
    assert.equal(ev('matrix.os', { contexts: {} }), null);
    assert.throws(() => ev('github.sha'), (e: unknown) => e instanceof ExpressionError && e.start === 0 && e.end === 6);
  });
  void it('extra contexts passed by the caller are readable', () => {
    assert.equal(ev('job.name', { contexts: { job: { name: 'j' } } }), 'j');
  });
});

void describe('evaluate: operators', () => {
  table([
    ['1 == 1', true],
    ['1 != 1', false],
    ["1 == '1'", true],
    ["'1.0' == 1", true],
    ["'0x10' == 16", true],
    ["' 2 ' == 2", true],
    ["'' == 0", true],
    ["'abc' == 0", false],
    ['null == 0', true],
    ['null == false', true],
    ["null == ''", true],
    ['null == null', true],
    ['true == 1', true],
    ["true == '1'", true],
    ["true == 'true'", false],
    ['false == 0', true],
    ["'abc' == 'ABC'", true],
    ["'abc' != 'ABC'", false],
    ["'Straße' == 'STRASSE'", false],
    ["'é' == 'É'", true],
    ['inputs.list == inputs.list', true],
    ['inputs.shared == inputs.other', false],
    ['inputs.list == 0', false],
    ["inputs.nested == '[object Object]'", false],
    ['1 < 2', true],
    ['2 < 1', false],
    ['2 <= 2', true],
    ['3 > 2', true],
    ['2 >= 3', false],
    ["'10' > 9", true],
    ["'a' < 'B'", true],
    ["'B' < 'a'", false],
    ["'abc' <= 'ABC'", true],
    ["'abc' < 5", false],
    ["'abc' >= 5", false],
    ['null < 1', true],
    ['false < true', true],
    ['inputs.list < 1', false],
    ['null <= null', true],
    ['!true', false],
    ['!0', true],
    ["!''", true],
    ['!inputs.list', false],
    ['!!inputs.name', true],
  ]);
  void it('NaN never compares equal', () => {
    assert.equal(looseEquals(NaN, NaN), false);
    assert.equal(looseEquals('x', NaN), false);
  });
});

void describe('evaluate: && and || return operands and short-circuit', () => {
  table([
    ["inputs.name && 'yes'", 'yes'],
    ["inputs.empty && 'yes'", ''],
    ["inputs.zero && 'yes'", 0],
    ["inputs.nothing && 'yes'", null],
    ["inputs.empty || 'default'", 'default'],
    ["inputs.name || 'default'", 'World'],
    ['inputs.zero || inputs.empty', ''],
    ["inputs.flag && inputs.count || 'no'", '3'],
    ["false || null", null],
    ['inputs.list || 1', ['a', 'B', 3]],
  ]);
  void it('does not evaluate the right side when it is not needed', () => {
    assert.equal(ev("false && fromJSON('not json')"), false);
    assert.equal(ev("true || fromJSON('not json')"), true);
    assert.throws(() => ev("true && fromJSON('not json')"), ExpressionError);
  });
});

void describe('evaluate: functions', () => {
  table([
    ["contains('Hello World', 'WORLD')", true],
    ["contains('Hello', 'xyz')", false],
    ["contains('abc', '')", true],
    ["contains(inputs.list, 'b')", true],
    ["contains(inputs.list, '3')", true],
    ["contains(inputs.list, 'c')", false],
    ['contains(123, 2)', true],
    ["contains(null, '')", true],
    ["startsWith('Hello', 'he')", true],
    ["startsWith('Hello', 'lo')", false],
    ["endsWith('Hello', 'LO')", true],
    ["endsWith('Hello', 'he')", false],
    ['startsWith(12345, 12)', true],
    ["format('Hello {0}, you are {1}', inputs.name, 42)", 'Hello World, you are 42'],
    ["format('{1}{0}{1}', 'a', 'b')", 'bab'],
    ["format('{{0}} is {0}', 'x')", '{0} is x'],
    ["format('{{{0}}}', 'x')", '{x}'],
    ["format('}}{{')", '}{'],
    ["format('plain')", 'plain'],
    ["format('{0}|{1}|{2}|{3}', null, true, 1.5, inputs.list)", '|true|1.5|Array'],
    ['toJSON(inputs.nested)', '{\n  "Deep": {\n    "value": "x"\n  }\n}'],
    ['toJSON(inputs.list)', '[\n  "a",\n  "B",\n  3\n]'],
    ["toJSON('s')", '"s"'],
    ['toJSON(null)', 'null'],
    ['fromJSON(steps.build-app.outputs.json).a[1]', 2],
    ["fromJSON('true')", true],
    ["fromJSON('null')", null],
    ["fromJSON('12')", 12],
    ["fromJSON('{\"k\": [1, \"x\"]}')", { k: [1, 'x'] }],
    ['CONTAINS(inputs.name, \'orl\')', true],
    ['tojson(1)', '1'],
    ['always()', true],
    ['success()', true],
    ['failure()', false],
  ]);
  void it('status functions read ctx.status, with defaults', () => {
    const failed: EvalContext = { contexts: {}, status: { success: false, failure: true } };
    assert.equal(ev('success()', failed), false);
    assert.equal(ev('failure()', failed), true);
    assert.equal(ev('always()', failed), true);
    assert.equal(ev('success()', { contexts: {} }), true);
    assert.equal(ev('failure()', { contexts: {} }), false);
  });
  const throwing: Array<[string, RegExp, number, number]> = [
    ["fromJSON('{bad')", /fromJSON: the value is not valid JSON/, 0, 16],
    ["1 == fromJSON('')", /not valid JSON/, 5, 17],
    ["format('{0} {1}', 'a')", /'\{1\}' has no argument/, 7, 16],
    ["format('{x}')", /invalid '\{' at index 0/, 7, 12],
    ["format('a } b')", /unmatched '\}' at index 2/, 7, 14],
    ["nope('a')", /unknown function 'nope'/, 0, 4],
    ['contains(1)', /contains\(\) called with 1 argument/, 0, 8],
  ];
  for (const [text, message, start, end] of throwing) {
    void it(`${text} throws ExpressionError at ${start}-${end}`, () => {
      assert.throws(
        () => ev(text),
        (e: unknown) => e instanceof ExpressionError && message.test(e.message) && e.start === start && e.end === end,
      );
    });
  }
});

void describe('evaluate: helpers', () => {
  void it('truthy', () => {
    for (const v of [false, 0, -0, NaN, '', null] as Value[]) assert.equal(truthy(v), false, JSON.stringify(v));
    for (const v of [true, 1, -1, 'a', '0', 'false', [], {}] as Value[]) assert.equal(truthy(v), true, JSON.stringify(v));
  });
  void it('toText', () => {
    assert.equal(toText(null), '');
    assert.equal(toText(true), 'true');
    assert.equal(toText(false), 'false');
    assert.equal(toText(1.5), '1.5');
    assert.equal(toText(-0), '0');
    assert.equal(toText('s'), 's');
    assert.equal(toText([1, 'a']), '[1,"a"]');
    assert.equal(toText({ a: null }), '{"a":null}');
  });
  void it('toNumber', () => {
    assert.equal(toNumber(null), 0);
    assert.equal(toNumber(true), 1);
    assert.equal(toNumber(''), 0);
    assert.equal(toNumber('  '), 0);
    assert.equal(toNumber('1e3'), 1000);
    assert.equal(toNumber(' 0x1f '), 31);
    assert.ok(Number.isNaN(toNumber('-0x1f')));
    assert.ok(Number.isNaN(toNumber('12abc')));
    assert.ok(Number.isNaN(toNumber([])));
    assert.ok(Number.isNaN(toNumber({})));
  });
});
