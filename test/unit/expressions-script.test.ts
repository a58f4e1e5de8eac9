import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  constantValue,
  evaluateCondition,
  ExpressionError,
  interpolate,
  interpolateValue,
  isConstant,
  parseCondition,
  parseExpression,
  prepareScript,
  type EvalContext,
  type Expr,
  type Value,
} from '../../server/src/workflow/expressions/index';

function ctxWith(inputs: Record<string, Value>, status?: EvalContext['status']): EvalContext {
  return { contexts: { inputs, steps: { a: { outputs: { n: '5' }, status: 'success', findings: 0 } } }, status };
}

function parse(text: string): Expr {
  const r = parseExpression(text);
  assert.ok(r.ast, text);
  return r.ast;
}

function isExprError(start: number, end: number, message?: RegExp) {
  return (e: unknown): boolean =>
    e instanceof ExpressionError && e.start === start && e.end === end && (message === undefined || message.test(e.message));
}

void describe('interpolate', () => {
  const ctx = ctxWith({ name: 'World', n: 3, nothing: null, obj: { a: [1] }, yes: true });
  void it('replaces each expression with the text of its value', () => {
    assert.equal(interpolate('Hello ${{ inputs.name }}!', ctx), 'Hello World!');
    assert.equal(interpolate('${{inputs.n}}/${{ inputs.yes }}/${{ inputs.nothing }}/${{ inputs.obj }}', ctx), '3/true//{"a":[1]}');
    assert.equal(interpolate("${{ format('{{literal}} {0}', inputs.name) }}", ctx), '{literal} World');
    assert.equal(interpolate('no expressions {{ here }}', ctx), 'no expressions {{ here }}');
    assert.equal(interpolate('', ctx), '');
  });
  void it('throws ExpressionError with absolute spans for bad templates', () => {
    assert.throws(() => interpolate('ab ${{ inputs.x = 1 }}', ctx), isExprError(16, 17, /Did you mean '=='/));
    assert.throws(() => interpolate('ab ${{ inputs.x', ctx), isExprError(3, 6, /unclosed/));
    assert.throws(() => interpolate("${{ fromJSON('x') }}", ctx), isExprError(4, 17, /not valid JSON/));
  });
  void it('interpolateValue keeps the type of a lone expression', () => {
    assert.deepEqual(interpolateValue("  ${{ fromJSON('[1, true]') }} ", ctx), [1, true]);
    assert.equal(interpolateValue('${{ inputs.n }}', ctx), 3);
    assert.equal(interpolateValue('n=${{ inputs.n }}', ctx), 'n=3');
    assert.equal(interpolateValue('${{ inputs.n }}${{ inputs.n }}', ctx), '33');
  });
});

void describe('evaluateCondition', () => {
  const ok = ctxWith({ mode: 'fast', empty: '' }, { success: true, failure: false });
  const failed = ctxWith({ mode: 'fast', empty: '' }, { success: false, failure: true });
  void it('accepts a bare expression or one wrapped in ${{ }}', () => {
    assert.equal(evaluateCondition("inputs.mode == 'FAST'", ok), true);
    assert.equal(evaluateCondition("${{ inputs.mode == 'slow' }}", ok), false);
    assert.equal(evaluateCondition("  ${{ inputs.mode == 'fast' }}\n", ok), true);
    assert.equal(evaluateCondition('inputs.empty', ok), false);
    assert.equal(evaluateCondition('steps.a.outputs.n > 4', ok), true);
  });
  void it('without a status function, a failure makes the condition false (implicit success())', () => {
    assert.equal(evaluateCondition("inputs.mode == 'fast'", failed), false);
    assert.equal(evaluateCondition("inputs.mode == 'fast'", failed, { implicitSuccess: false }), true);
    assert.equal(evaluateCondition('failure()', failed), true);
    assert.equal(evaluateCondition('${{ always() }}', failed), true);
    assert.equal(evaluateCondition("success() || inputs.mode == 'fast'", failed), true);
    assert.equal(evaluateCondition('failure()', ok), false);
    assert.equal(evaluateCondition('inputs.mode', { contexts: { inputs: { mode: 'x' } } }), true);
  });
  void it('does not evaluate the condition after a failure unless it asks for status', () => {
    assert.equal(evaluateCondition("fromJSON('bad')", failed), false);
  });
  void it('rejects text mixed with ${{ }} and reports errors with spans', () => {
    assert.throws(() => evaluateCondition('${{ true }} && ${{ false }}', ok), isExprError(0, 11, /must be one expression/));
    assert.throws(() => evaluateCondition('x ${{ true }}', ok), isExprError(2, 13));
    assert.throws(() => evaluateCondition('${{ a == }}', ok), isExprError(6, 8, /expected an expression after '=='/));
    assert.throws(() => evaluateCondition('inputs.a ==', ok), isExprError(9, 11));
    assert.throws(() => evaluateCondition('${{ inputs.a', ok), isExprError(0, 3, /unclosed/));
    assert.throws(() => evaluateCondition('', ok), ExpressionError);
  });
  void it('parseCondition gives offsets relative to the text', () => {
    const ast = parseCondition('  ${{ inputs.a }}');
    assert.deepEqual([ast.start, ast.end], [6, 14]);
  });
});

void describe('prepareScript', () => {
  const ctx = ctxWith({ x: 'hi', y: 'there', nothing: null, list: ['a'] });
  void it('replaces expressions with variables; the same text reuses its variable', () => {
    const r = prepareScript('echo "${{ inputs.x }}" ${{inputs.x}}\necho ${{ inputs.y }}-${{ inputs.nothing }} ${{ inputs.list }}', ctx);
    assert.equal(r.script, 'echo "${ORCH_EXPR_0}" ${ORCH_EXPR_0}\necho ${ORCH_EXPR_1}-${ORCH_EXPR_2} ${ORCH_EXPR_3}');
    assert.deepEqual(r.env, { ORCH_EXPR_0: 'hi', ORCH_EXPR_1: 'there', ORCH_EXPR_2: '', ORCH_EXPR_3: '["a"]' });
  });
  void it('takes a prefix and rejects one that is not a shell name', () => {
    assert.deepEqual(prepareScript('echo ${{ inputs.x }}', ctx, 'STEP1_'), { script: 'echo ${STEP1_0}', env: { STEP1_0: 'hi' } });
    assert.throws(() => prepareScript('echo', ctx, '1-bad'), /cannot start a shell variable name/);
  });
  void it('leaves a script without expressions alone', () => {
    assert.deepEqual(prepareScript('echo "$HOME" ${PATH}', ctx), { script: 'echo "$HOME" ${PATH}', env: {} });
  });
  void it('throws ExpressionError for bad expressions', () => {
    assert.throws(() => prepareScript('echo\necho ${{ contains( }}', ctx), isExprError(22, 23, /expected '\)' to close 'contains\('/));
  });
});

void describe('prepareScript: values never become shell code', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-expr-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function run(script: string, env: Record<string, string>) {
    const r = spawnSync('bash', ['-c', script], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(r.error, undefined);
    return r;
  }
  const pwned = (): boolean => fs.existsSync(path.join(dir, 'pwned'));

  void it('the check is meaningful: pasting the value into the script does run it', () => {
    const pasted = interpolate('echo "${{ inputs.x }}"', ctxWith({ x: '$(touch pwned)' }));
    run(pasted, {});
    assert.equal(pwned(), true);
    fs.rmSync(path.join(dir, 'pwned'));
  });

  const values = [
    '$(touch pwned)',
    "'; touch pwned #",
    '`touch pwned`',
    '"; touch pwned; echo "',
    '; touch pwned',
    '$(touch pwned)\n`touch pwned`',
    '${IFS}$(touch${IFS}pwned)',
  ];
  for (const value of values) {
    void it(`quoted: ${JSON.stringify(value)} is printed literally`, () => {
      const { script, env } = prepareScript('echo "${{ inputs.x }}"', ctxWith({ x: value }));
      assert.equal(script, 'echo "${ORCH_EXPR_0}"');
      const r = run(script, env);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${value}\n`);
      assert.equal(pwned(), false);
    });
    void it(`unquoted: ${JSON.stringify(value)} runs nothing`, () => {
      const { script, env } = prepareScript('echo ${{ inputs.x }}', ctxWith({ x: value }));
      assert.equal(script, 'echo ${ORCH_EXPR_0}');
      const r = run(script, env);
      assert.equal(r.status, 0, r.stderr);
      // Word splitting applies as for any unquoted variable, but no substitution runs.
      assert.equal(r.stdout, `${value.split(/[ \t\n]+/).filter((w) => w !== '').join(' ')}\n`);
      assert.equal(pwned(), false);
    });
  }
  void it('values in a multi-line script with several expressions', () => {
    const { script, env } = prepareScript(
      'a="${{ inputs.a }}"\nb=${{ inputs.b }}\nprintf "%s|%s|%s" "$a" "$b" "${{ inputs.a }}"',
      ctxWith({ a: '$(touch pwned) x', b: '`touch pwned`' }),
    );
    const r = run(script, env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '$(touch pwned) x|`touch pwned`|$(touch pwned) x');
    assert.equal(pwned(), false);
  });
});

void describe('constantValue / isConstant', () => {
  const constants: Array<[string, Value]> = [
    ['false', false],
    ['true', true],
    ['1 == 2', false],
    ['!true', false],
    ["'a' == 'A' && 2", 2],
    ["format('{0}-{1}', 1, null)", '1-'],
    ["contains('abc', 'B')", true],
    ["fromJSON('[1]')", [1]],
    ["toJSON('x')", '"x"'],
  ];
  for (const [text, value] of constants) {
    void it(`${text} is constant ${JSON.stringify(value)}`, () => {
      assert.deepEqual(constantValue(parse(text)), { constant: true, value });
      assert.equal(isConstant(parse(text)), true);
    });
  }
  const variables = ['inputs.x', "false && inputs.x", 'success()', 'failure()', 'always()', '!success()', "nope('a')", "fromJSON('bad')", 'contains(1)', "inputs['a']"];
  for (const text of variables) {
    void it(`${text} is not constant`, () => {
      assert.deepEqual(constantValue(parse(text)), { constant: false });
      assert.equal(isConstant(parse(text)), false);
    });
  }
});
