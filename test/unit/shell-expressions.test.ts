/**
 * `shell-expression` (warning): an expression in a `run:` script where the shell expands nothing
 * (the script sees the text ${ORCH_EXPR_n}) or evaluates it as arithmetic (a value can run code).
 * The claims of the messages are checked against a real bash at the end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { findExpressions, prepareScript } from '../../server/src/workflow/expressions';
import { shellPlaces } from '../../server/src/workflow/shellChecks';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { expectProblems, messages } from '../helpers/marked';

describe('shell-expression: arithmetic', () => {
  it('$(( )), (( )), let, [[ -eq ]], array subscripts and $[ ], at the expression', () => {
    const v = expectProblems(
      `
      name: x
      inputs: { x: {}, n: {} }
      steps:
        - id: a
          run: echo $(( [[\${{ inputs.x }}]] + 1 ))
        - id: b
          run: |
            (( total = [[\${{ inputs.n }}]] * 2 ))
            let "half = [[\${{ inputs.n }}]] / 2"
            arr[[[\${{ inputs.x }}]]]=1
            echo "\${arr[[[\${{ inputs.x }}]]]}" $[ [[\${{ inputs.n }}]] ]
            for (( i = 0; i < [[\${{ inputs.n }}]]; i++ )); do :; done
      `,
      ['shell-expression', 'shell-expression', 'shell-expression', 'shell-expression', 'shell-expression', 'shell-expression', 'shell-expression'],
    );
    assert.equal(v.problems[0].severity, 'warning');
    assert.equal(
      messages(v)[0],
      'this expression is in a shell arithmetic context ($(( ))): bash evaluates its value as arithmetic, and an array subscript in the value runs commands (an input such as a[$(rm -rf ~)] runs rm), so whoever sets it can run code. Pass the number through env: (env: { N: ${{ inputs.x }} }), check it before any arithmetic ([[ $N =~ ^[0-9]+$ ]] || exit 1), then use $N',
    );
    assert.deepEqual(
      messages(v).map((m) => /context \((.*?)\): bash/.exec(m)?.[1]),
      ['$(( ))', '(( ))', 'let', 'an array subscript', 'an array subscript', '$[ ]', 'for (( ))'],
    );
  });

  it('the operands of -eq/-lt/… inside [[ ]], even quoted (bash evaluates them as arithmetic)', () => {
    // Written without the [[ ]] markers, which the shell's own [[ would confuse.
    const text = 'name: x\ninputs: { x: {} }\nsteps:\n  - id: a\n    run: if [[ "${{ inputs.x }}" -gt 3 || 1 -eq 1 ]]; then echo big; fi\n';
    const v = validateWorkflow(text);
    const at = text.indexOf('${{');
    assert.deepEqual(v.problems.map((p) => [p.code, p.span.start, p.span.end]), [['shell-expression', at, at + '${{ inputs.x }}'.length]]);
    assert.match(v.problems[0].message, /arithmetic context \(\[\[ … -gt … \]\]\)/);
  });

  it('ordinary places are quiet: double quotes, string tests, [ -eq ] (which refuses non-numbers), comments, other shells', () => {
    expectProblems(
      `
      name: x
      inputs: { x: {} }
      defaults: { shell: bash }
      steps:
        - id: a
          run: |
            echo "\${{ inputs.x }}" \${{ inputs.x }}
            [[ "\${{ inputs.x }}" == 3 ]] && [ "\${{ inputs.x }}" -eq 3 ]
            # it's fine: '\${{ inputs.x }}'
            echo "it's \${{ inputs.x }}"
        - id: b
          shell: python3
          run: print('\${{ inputs.x }}')
      `,
      [],
    );
  });
});

describe('shell-expression: where the shell expands nothing', () => {
  it("single quotes, $'…' and a quoted here-document delimiter, naming the variable the script sees", () => {
    const v = expectProblems(
      `
      name: x
      inputs: { x: {}, y: {} }
      steps:
        - id: a
          run: echo '[[\${{ inputs.x }}]]' "\${{ inputs.y }}" '[[\${{inputs.y}}]]'
        - id: b
          shell: /bin/sh
          run: |
            echo $'[[\${{ inputs.x }}]]'
            cat <<'EOF'
            hello [[\${{ inputs.y }}]]
            EOF
            cat <<EOF
            hello \${{ inputs.y }}
            EOF
      `,
      ['shell-expression', 'shell-expression', 'shell-expression', 'shell-expression'],
    );
    assert.deepEqual(messages(v).slice(0, 2), [
      `this expression is inside single quotes ('…'), where the shell expands nothing: the engine passes each expression to the script as an environment variable, so the script sees the text \${ORCH_EXPR_0}, not the value; use double quotes ("\${{ inputs.x }}")`,
      `this expression is inside single quotes ('…'), where the shell expands nothing: the engine passes each expression to the script as an environment variable, so the script sees the text \${ORCH_EXPR_1}, not the value; use double quotes ("\${{inputs.y}}")`,
    ]);
    assert.match(messages(v)[3], /^this expression is in a here-document with a quoted delimiter \(<<'EOF'\), .* sees the text \$\{ORCH_EXPR_1\}, not the value; unquote the delimiter \(<<EOF\) so that the body is expanded$/);
  });

  it('a quoted scalar with escapes: the warning covers the whole value', () => {
    expectProblems(
      `
      name: x
      inputs: { x: {} }
      steps:
        - id: a
          run: [["echo '\${{ inputs.x }}'\\n"]]
      `,
      ['shell-expression'],
    );
  });
});

describe('what the messages claim, in a real bash', () => {
  const bash = (script: string, env: Record<string, string>) => spawnSync('bash', ['-c', script], { env: { ...process.env, ...env }, encoding: 'utf8' });

  it('single quotes: the script prints the variable name, not the value', () => {
    const template = "echo '${{ inputs.x }}'";
    const p = prepareScript(template, { contexts: { inputs: { x: 'hello' } } });
    assert.equal(bash(p.script, p.env).stdout, '${ORCH_EXPR_0}\n');
    assert.equal(shellPlaces(template, findExpressions(template).expressions).get(0)?.context, 'single-quoted');
  });

  it('arithmetic: a value with an array subscript runs a command', () => {
    const template = 'echo $(( ${{ inputs.x }} ))';
    const p = prepareScript(template, { contexts: { inputs: { x: 'a[$(echo RAN >&2)]' } } });
    assert.match(bash(p.script, p.env).stderr, /RAN/);
    assert.equal(shellPlaces(template, findExpressions(template).expressions).get(0)?.context, 'arithmetic');
    // The documented way: through env, checked by a regex first.
    const safe = bash('[[ $N =~ ^[0-9]+$ ]] || { echo "not a number" >&2; exit 1; }; echo $(( N + 1 ))', { N: 'a[$(echo RAN >&2)]' });
    assert.equal(safe.status, 1);
    assert.doesNotMatch(safe.stderr, /RAN/);
  });
});
