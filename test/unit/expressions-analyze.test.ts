import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkExpression,
  collectCalls,
  collectReferences,
  findExpressions,
  parseExpression,
  parseTemplate,
  type Expr,
} from '../../server/src/workflow/expressions/index';

function parse(text: string, base = 0): Expr {
  const r = parseExpression(text, base);
  assert.deepEqual(r.errors, []);
  assert.ok(r.ast);
  return r.ast;
}

void describe('findExpressions', () => {
  void it('finds every expression with absolute offsets', () => {
    const src = 'echo ${{ inputs.a }} and ${{steps.x.outputs.y}}!';
    const r = findExpressions(src, 100);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.expressions, [
      { start: 105, end: 120, innerStart: 108, innerEnd: 118, inner: ' inputs.a ' },
      { start: 125, end: 147, innerStart: 128, innerEnd: 145, inner: 'steps.x.outputs.y' },
    ]);
    for (const e of r.expressions) {
      assert.equal(src.slice(e.start - 100, e.end - 100).startsWith('${{'), true);
      assert.equal(src.slice(e.innerStart - 100, e.innerEnd - 100), e.inner);
    }
  });
  void it("does not close on '}}' inside a quoted string", () => {
    const src = "x ${{ format('{{x}}', '}}') }} y";
    const r = findExpressions(src);
    assert.deepEqual(r.errors, []);
    assert.equal(r.expressions.length, 1);
    assert.equal(r.expressions[0].inner, " format('{{x}}', '}}') ");
    assert.equal(r.expressions[0].end, src.length - 2);
  });
  void it("handles '' escapes and double-quoted strings with backslashes", () => {
    const r = findExpressions(`\${{ 'it''s }}' }}-\${{ "a \\" }}" }}`);
    assert.deepEqual(
      r.expressions.map((e) => e.inner),
      [" 'it''s }}' ", ' "a \\" }}" '],
    );
  });
  void it("reports an unclosed '${{' at the '${{'", () => {
    const r = findExpressions('ok ${{ a }} then ${{ b', 10);
    assert.equal(r.expressions.length, 1);
    assert.deepEqual(r.errors, [{ message: "unclosed '${{': add '}}'", start: 27, end: 30 }]);
  });
  void it('an unbalanced quote falls back to the first }} so the parser can name the problem', () => {
    const parsed = parseTemplate("${{ 'abc }} tail");
    assert.equal(parsed.expressions.length, 1);
    assert.deepEqual(parsed.errors, [{ message: "unterminated string: add a closing '", start: 4, end: 9 }]);
  });
  void it('text without expressions', () => {
    assert.deepEqual(findExpressions('plain $HOME ${not} {{x}}'), { expressions: [], errors: [] });
  });
  void it('parseTemplate parses each expression with absolute offsets', () => {
    const parsed = parseTemplate('a ${{ x == }} b ${{ inputs.y }} ${{ }}', 50);
    assert.equal(parsed.expressions.length, 3);
    assert.ok(parsed.expressions[1].ast);
    assert.deepEqual(
      parsed.errors.map((e) => [e.message.slice(0, 30), e.start, e.end]),
      [
        ["expected an expression after '", 58, 60],
        ["empty expression: write an exp", 82, 88],
      ],
    );
  });
});

void describe('collectReferences', () => {
  void it('returns paths and spans of whole chains', () => {
    const refs = collectReferences(parse("steps.build-app.outputs.text == inputs['a'][0] && env.X", 10));
    assert.deepEqual(
      refs.map((r) => [r.path, r.start, r.end]),
      [
        [['steps', 'build-app', 'outputs', 'text'], 10, 38],
        [['inputs', 'a', '0'], 42, 56],
        [['env', 'X'], 60, 65],
      ],
    );
    assert.deepEqual(refs[0].segments[1], { name: 'build-app', start: 16, end: 25 });
    assert.deepEqual(refs[1].segments[1], { name: 'a', start: 49, end: 52 });
  });
  void it('a non-literal index stops the chain; its own references are collected', () => {
    const refs = collectReferences(parse('steps[inputs.id].outputs.text'));
    assert.deepEqual(
      refs.map((r) => [r.path, r.start, r.end]),
      [
        [['steps'], 0, 5],
        [['inputs', 'id'], 6, 15],
      ],
    );
  });
  void it('bare contexts, references inside calls and unary, none from literals or call results', () => {
    const refs = collectReferences(parse("!contains(inputs, matrix.os) || fromJSON('{}').steps || steps.a[true]"));
    assert.deepEqual(
      refs.map((r) => r.path),
      [['inputs'], ['matrix', 'os'], ['steps', 'a']],
    );
  });
});

void describe('collectCalls', () => {
  void it('lists calls with name spans and argument counts', () => {
    assert.deepEqual(collectCalls(parse("success() && contains(format('{0}', a), toJSON(b))", 5)), [
      { name: 'success', start: 5, end: 12, argc: 0 },
      { name: 'contains', start: 18, end: 26, argc: 2 },
      { name: 'format', start: 27, end: 33, argc: 2 },
      { name: 'toJSON', start: 45, end: 51, argc: 1 },
    ]);
  });
});

void describe('checkExpression', () => {
  const check = (text: string, allowStatusFunctions = false) =>
    checkExpression(parse(text), { allowStatusFunctions });

  void it('accepts valid expressions', () => {
    const ok = [
      "inputs.x == 'a' && env.HOME && secrets.TOKEN && matrix.os",
      'steps.build.outputs.text && steps.build.status && steps.build.findings > 0',
      'steps.build.outputs',
      'steps.build',
      'steps',
      'inputs',
      'session.id && workflow.name',
      "format('{0}', 1) && toJSON(inputs) && fromJSON('1') && startsWith('a', 'b') && endsWith('a', 'b')",
      "steps['build'].outputs['text']",
    ];
    for (const text of ok) assert.deepEqual(check(text), [], text);
    assert.deepEqual(check('success() || failure() || always()', true), []);
  });

  void it('unknown function with did-you-mean and the list of known functions', () => {
    assert.deepEqual(check("contain(inputs.x, 'a')"), [
      {
        message:
          "unknown function 'contain'. Did you mean 'contains'? Known functions: contains, startsWith, endsWith, format, toJSON, fromJSON, success, failure, always.",
        start: 0,
        end: 7,
      },
    ]);
    assert.match(check('frmat(1)')[0].message, /^unknown function 'frmat'\. Did you mean 'format'\?/);
    assert.match(check('sucess()', true)[0].message, /Did you mean 'success'\?/);
    const far = check('hashFiles(1)')[0].message;
    assert.ok(far.startsWith("unknown function 'hashFiles'. Known functions: contains,"), far);
  });

  void it('unknown context with did-you-mean', () => {
    assert.deepEqual(check('a == input.x'), [
      {
        message:
          "unknown context 'a'. Known contexts: inputs, env, secrets, steps, matrix, session, workflow.",
        start: 0,
        end: 1,
      },
      {
        message:
          "unknown context 'input'. Did you mean 'inputs'? Known contexts: inputs, env, secrets, steps, matrix, session, workflow.",
        start: 5,
        end: 10,
      },
    ]);
    assert.match(check('True')[0].message, /Literals are lowercase: write 'true'/);
  });

  void it('asks for the canonical spelling of contexts, functions and fixed properties', () => {
    assert.deepEqual(check("Contains(INPUTS.x, 'a') || tojson(1)"), [
      { message: "write 'contains' instead of 'Contains': function names are case-sensitive here", start: 0, end: 8 },
      { message: "write 'inputs' in lowercase: context names are lowercase", start: 9, end: 15 },
      { message: "write 'toJSON' instead of 'tojson': function names are case-sensitive here", start: 27, end: 33 },
    ]);
    assert.deepEqual(check('session.ID'), [
      { message: "unknown property 'ID' of 'session': the only property is 'id'", start: 8, end: 10 },
    ]);
    assert.match(check('steps.a.Outputs.x')[0].message, /unknown property 'Outputs' of step 'a'\. Did you mean 'outputs'\?/);
  });

  void it('argument counts', () => {
    const cases: Array<[string, string, number, number]> = [
      ["contains('a')", 'contains() takes exactly 2 arguments, got 1', 0, 8],
      ["startsWith('a', 'b', 'c')", 'startsWith() takes exactly 2 arguments, got 3', 0, 10],
      ['endsWith()', 'endsWith() takes exactly 2 arguments, got 0', 0, 8],
      ['format()', 'format() needs at least 1 argument, got 0', 0, 6],
      ['toJSON()', 'toJSON() takes exactly 1 argument, got 0', 0, 6],
      ["inputs.x == fromJSON('1', '2')", 'fromJSON() takes exactly 1 argument, got 2', 12, 20],
      ['always(1)', 'always() takes no arguments, got 1', 0, 6],
    ];
    for (const [text, message, start, end] of cases) {
      assert.deepEqual(check(text, true), [{ message, start, end }], text);
    }
  });

  void it("status functions only in 'if'", () => {
    assert.deepEqual(check('success() && failure() || always()'), [
      { message: "success() can only be used in 'if'", start: 0, end: 7 },
      { message: "failure() can only be used in 'if'", start: 13, end: 20 },
      { message: "always() can only be used in 'if'", start: 26, end: 32 },
    ]);
  });

  void it('session, workflow and steps have fixed shapes', () => {
    assert.deepEqual(check('session.name'), [
      { message: "unknown property 'name' of 'session': the only property is 'id'", start: 8, end: 12 },
    ]);
    assert.deepEqual(check('workflow.id'), [
      { message: "unknown property 'id' of 'workflow': the only property is 'name'", start: 9, end: 11 },
    ]);
    assert.deepEqual(check('session.id.x'), [
      { message: "'session.id' is a string and has no property 'x'", start: 11, end: 12 },
    ]);
    assert.deepEqual(check('steps.build-app.output.text'), [
      {
        message:
          "unknown property 'output' of step 'build-app'. Did you mean 'outputs'? A step has 'outputs', 'status' and 'findings'.",
        start: 16,
        end: 22,
      },
    ]);
    assert.deepEqual(check("steps.b['result']"), [
      {
        message: "unknown property 'result' of step 'b'. A step has 'outputs', 'status' and 'findings'.",
        start: 8,
        end: 16,
      },
    ]);
    assert.match(check('steps.b.findings.x')[0].message, /is a number \(the count of findings\)/);
    assert.match(check('steps.b.status.x')[0].message, /'steps\.b\.status' is a string/);
  });

  void it('reports several problems in source order with absolute offsets', () => {
    const ast = parse('foo(bar.x) && success()', 40);
    assert.deepEqual(
      checkExpression(ast, { allowStatusFunctions: false }).map((e) => [e.start, e.end]),
      [
        [40, 43],
        [44, 47],
        [54, 61],
      ],
    );
  });
});
