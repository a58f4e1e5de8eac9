import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectProblems, messages, yaml } from '../helpers/marked';
import { PROBLEM_CODES } from '../../server/src/workflow/problems';
import { validateWorkflow } from '../../server/src/workflow/validate';

describe('valid workflows', () => {
  it('a steps workflow with every kind of step has no problems', () => {
    expectProblems(
      `
      version: 1
      name: review
      description: plan, review, audit
      inputs:
        task: { description: what, default: last commit, type: string }
        depth: { type: number, enum: [1, 2, 3], default: 1 }
      env: { CI: "true", LEVEL: 3 }
      agents:
        reviewer: { provider: claude-code, model: sonnet, instructions: Review carefully. }
      defaults: { timeout: 10m, stuck_after: 5m, retry: { max_attempts: 2, backoff: 1s, factor: 2, max_backoff: 1m }, on_error: fail, shell: bash }
      concurrency: 2
      deadline: 1h30m
      steps:
        - id: plan
          run: echo "\${{ inputs.task }}" >> "$ORCHESTRATOR_OUTPUT"
          outputs: { summary: "\${{ steps.plan.outputs.text }}" }
        - id: security
          needs: plan
          agent: reviewer
          model: opus
          prompt: Review \${{ steps.plan.outputs.summary }} at depth \${{ inputs.depth }}
        - id: tests
          needs: [plan]
          matrix: { os: [linux, mac] }
          run: echo \${{ matrix.os }}
          timeout: 90
        - id: sarif
          needs: [tests]
          uses: findings/sarif
          with: { file: "out/\${{ session.id }}.sarif" }
        - id: gate
          needs: [security, sarif]
          approval: Ship it?
          if: \${{ success() && steps.security.findings == 0 }}
        - id: report
          needs: gate
          if: always()
          run: echo \${{ workflow.name }} \${{ steps.plan.status }}
          on_error: continue
      `,
      [],
    );
  });

  it('a pipeline workflow has no problems', () => {
    expectProblems(
      `
      name: staged
      inputs: { task: {} }
      agents: { planner: { provider: codex }, builder: { provider: codex } }
      pipeline:
        - stage: plan
          agent: planner
          prompt: Plan \${{ inputs.task }}
        - stage: implement
          parallel:
            - { id: backend, agent: builder, prompt: "\${{ steps.plan.outputs.text }}" }
            - { id: frontend, agent: builder, prompt: "..." }
        - stage: audit
          run: echo \${{ steps.backend.status }} \${{ steps.plan.status }}
      `,
      [],
    );
  });
});

describe('yaml-syntax', () => {
  it('reports a YAML error at its position', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: [["unterminated]]
      `,
      ['yaml-syntax'],
    );
    assert.match(messages(v)[0], /unterminated string: add the closing "/);
  });

  it('reports duplicate keys at the second key instead of merging them', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: one
          [[run]]: two
      `,
      ['yaml-syntax'],
    );
    assert.match(messages(v)[0], /duplicate key 'run'/);
  });

  it('tabs used as indentation are reported', () => {
    const v = validateWorkflow('name: x\nsteps:\n\t- id: a\n');
    assert.ok(v.problems.some((p) => p.code === 'yaml-syntax'));
  });

  it('aliases that expand exponentially are stopped with an error, not a hang', () => {
    let s = 'name: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++) s += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    const v = validateWorkflow(s + 'steps: [{ id: a, run: echo }]\n');
    assert.match(v.problems[0].message, /aliases expand to too many nodes/);
  });

  it('a second document is reported', () => {
    const v = validateWorkflow('name: x\nsteps: [{id: a, run: x}]\n---\nname: y\n');
    const p = v.problems.find((x) => x.code === 'yaml-syntax');
    assert.ok(p);
    assert.match(p.message, /one YAML document/);
  });
});

describe('schema', () => {
  it('unknown key at the key, with a did-you-mean', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
          [[nedds]]: [b]
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /unknown key 'nedds'.*Did you mean 'needs'\?/);
  });

  it('unknown top-level key lists what is allowed when nothing is close', () => {
    const v = expectProblems(
      `
      name: x
      [[zzzzzz]]: 1
      steps: [{ id: a, run: echo }]
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /Allowed keys: version, name/);
  });

  it('wrong type at the value', () => {
    const v = expectProblems(
      `
      name: x
      concurrency: [[two]]
      steps: [{ id: a, run: echo }]
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /'concurrency' must be a number, not the text 'two'/);
  });

  it('out-of-range number and bad enum value', () => {
    const v = expectProblems(
      `
      name: x
      concurrency: [[0]]
      steps:
        - id: a
          run: echo
          on_error: [[stop]]
      `,
      ['schema', 'schema'],
    );
    assert.match(messages(v)[0], /at least 1/);
    assert.match(messages(v)[1], /one of "fail", "continue"/);
  });

  it('missing required key at the holder', () => {
    const v = expectProblems(
      `
      [[description]]: no name here
      steps: [{ id: a, run: echo }]
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /missing required key 'name'/);
  });

  it('missing step id at the step\'s first key', () => {
    expectProblems(
      `
      name: x
      steps:
        - [[run]]: echo
      `,
      ['schema'],
    );
  });

  it('needs of the wrong shape', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
        - id: b
          needs: [[{ a: 1 }]]
          run: echo
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /'needs' must be a text or a list/);
  });

  it('an invalid step id', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: [[1st step]]
          run: echo
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /not a valid step id/);
  });

  it('version other than 1', () => {
    const v = expectProblems(
      `
      version: [[2]]
      name: x
      steps: [{ id: a, run: echo }]
      `,
      ['schema'],
    );
    assert.match(messages(v)[0], /unsupported version 2/);
  });

  it('both steps and pipeline, or neither', () => {
    expectProblems(
      `
      name: x
      steps: [{ id: a, run: echo }]
      [[pipeline]]: [{ stage: b, run: echo }]
      `,
      ['schema'],
    );
    expectProblems(
      `
      [[name]]: x
      `,
      ['schema'],
    );
  });

  it('an empty file', () => {
    const v = validateWorkflow('');
    assert.deepEqual(v.problems.map((p) => p.code), ['schema']);
    assert.match(v.problems[0].message, /empty/);
  });

  it('prompt without agent, with without uses', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
          [[prompt]]: hi
          [[with]]: { a: 1 }
      `,
      ['schema', 'schema'],
    );
  });

  it('reports every problem of a file, not only the first', () => {
    const v = validateWorkflow(yaml(`
      name: x
      concurrency: many
      bogus: 1
      steps:
        - id: a
          run: echo
          timeout: soon
          needs: [nope]
    `));
    assert.deepEqual(v.problems.map((p) => p.code).sort(), ['bad-duration', 'schema', 'schema', 'unknown-need']);
  });
});

describe('duplicate-id', () => {
  it('on every repeat of an id', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
        - id: [[a]]
          run: echo
        - id: [[a]]
          run: echo
      `,
      ['duplicate-id', 'duplicate-id'],
    );
    assert.match(messages(v)[0], /duplicate step id 'a'/);
  });

  it('a parallel item and a stage with the same id', () => {
    expectProblems(
      `
      name: x
      pipeline:
        - stage: build
          run: echo
        - stage: test
          parallel:
            - { id: [[build]], run: echo }
      `,
      ['duplicate-id'],
    );
  });
});

describe('unknown-need', () => {
  it('at the need, with a did-you-mean', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: plan
          run: echo
        - id: b
          needs: [[plna]]
          run: echo
        - id: c
          needs: [plan, [[zzz]]]
          run: echo
      `,
      ['unknown-need', 'unknown-need'],
    );
    assert.match(messages(v)[0], /'plna' is not a step of this workflow. Did you mean 'plan'\?/);
    assert.doesNotMatch(messages(v)[1], /Did you mean/);
  });
});

describe('dependency-cycle', () => {
  it('on each step of the cycle, with the path', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          needs: [[c]]
          run: echo
        - id: b
          needs: [[a]]
          run: echo
        - id: c
          needs: [[b]]
          run: echo
        - id: d
          needs: c
          run: echo
      `,
      ['dependency-cycle', 'dependency-cycle', 'dependency-cycle'],
    );
    assert.match(messages(v)[0], /a → c → b → a/);
    assert.match(messages(v)[1], /b → a → c → b/);
    assert.match(messages(v)[2], /c → b → a → c/);
  });

  it('a step that needs itself', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          needs: [[a]]
          run: echo
      `,
      ['dependency-cycle'],
    );
    assert.match(messages(v)[0], /a → a/);
  });

  it('a cycle through a pipeline stage points at the pipeline lines', () => {
    const v = expectProblems(
      `
      name: x
      pipeline:
        - stage: plan
          needs: [[audit]]
          run: echo
        - stage: [[audit]]
          run: echo
      `,
      ['dependency-cycle', 'dependency-cycle'],
    );
    assert.match(messages(v)[0], /plan → audit → plan/);
    // audit's need of plan is implied by the stage order: reported at the stage's name.
    assert.match(messages(v)[1], /audit → plan → audit/);
  });
});

describe('unknown-agent', () => {
  it('at the agent name', () => {
    const v = expectProblems(
      `
      name: x
      agents: { reviewer: { provider: codex } }
      steps:
        - id: a
          agent: [[reviwer]]
          prompt: hi
      `,
      ['unknown-agent'],
    );
    assert.match(messages(v)[0], /Did you mean 'reviewer'\?/);
  });
});

describe('step-kind', () => {
  it('none of run/agent/uses/approval: at the id', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: [[a]]
          name: nothing
      `,
      ['step-kind'],
    );
    assert.match(messages(v)[0], /does nothing/);
  });

  it('more than one: at each extra kind key', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
          [[approval]]: ok?
          [[uses]]: findings/merge
      `,
      ['step-kind', 'step-kind'],
    );
  });

  it('a single-step stage without a kind: at the stage name', () => {
    expectProblems(
      `
      name: x
      pipeline:
        - stage: [[plan]]
      `,
      ['step-kind'],
    );
  });
});

describe('bad-duration', () => {
  it('at the value, everywhere durations are taken', () => {
    const v = expectProblems(
      `
      name: x
      deadline: [[1 hour]]
      defaults: { timeout: [[10 min]], retry: { backoff: [[fast]] } }
      steps:
        - id: a
          run: echo
          stuck_after: [[5x]]
          timeout: 1h30m
      `,
      ['bad-duration', 'bad-duration', 'bad-duration', 'bad-duration'],
    );
    assert.match(messages(v)[0], /'1 hour' is not a duration/);
  });
});

describe('bad-expression', () => {
  it('a syntax error inside ${{ }} at the offending token', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo \${{ 1 [[=]] 2 }}
      `,
      ['bad-expression'],
    );
  });

  it('an unclosed ${{', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo [[\${{]] inputs
      `,
      ['bad-expression'],
    );
  });

  it('an unknown context and an unknown function', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo \${{ [[github]].sha }} \${{ [[contain]]('a', 'b') }}
      `,
      ['bad-expression', 'bad-expression'],
    );
    assert.match(messages(v)[1], /Did you mean 'contains'\?/);
  });

  it('status functions only in if', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo \${{ [[success]]() }}
          if: success()
      `,
      ['bad-expression'],
    );
  });

  it("in an approval's question (the runner fills it in), as in run", () => {
    const v = expectProblems(
      `
      name: x
      inputs: { target: { default: prod } }
      steps:
        - id: a
          run: echo
        - id: ok
          needs: a
          approval: Deploy \${{ inputs.target }} at \${{ steps.a.outputs.sha }}?
        - id: bad
          approval: Deploy \${{ [[input]].target }} at \${{ [[steps.a.outputs.sha]] }}?
      `,
      ['bad-expression', 'not-upstream'],
    );
    assert.match(messages(v)[0], /Did you mean 'inputs'\?/);
  });

  it('in a block scalar, at the exact place', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: |
            echo one
            echo \${{ inputs[[.]] }}
      `,
      ['bad-expression'],
    );
  });

  it('matrix keys the step does not have', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          matrix: { os: [linux] }
          run: echo \${{ [[matrix.arch]] }}
      `,
      ['bad-expression'],
    );
  });

  it('if that mixes text and an expression', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
          if: [[yes \${{ true }}]]
      `,
      ['bad-expression'],
    );
  });

  it('in a quoted string with escapes, at the whole value', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: [["\\t\${{ nope.x }}"]]
      `,
      ['bad-expression'],
    );
  });
});

describe('not-upstream', () => {
  it('a step reading a step it does not need', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
        - id: b
          run: echo \${{ [[steps.a.outputs.x]] }}
        - id: c
          needs: b
          run: echo \${{ steps.b.status }}
      `,
      ['not-upstream'],
    );
    assert.match(messages(v)[0], /add 'a' to its needs/);
  });

  it('transitive needs are upstream', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
        - id: b
          needs: a
          run: echo
        - id: c
          needs: b
          run: echo \${{ steps.a.outputs.x }}
      `,
      [],
    );
  });

  it('a step that does not exist, and steps in the workflow env', () => {
    expectProblems(
      `
      name: x
      env:
        A: \${{ [[steps.a.status]] }}
      steps:
        - id: a
          run: echo \${{ [[steps.zzz.status]] }}
      `,
      ['not-upstream', 'not-upstream'],
    );
  });

  it('in a pipeline, earlier stages are upstream and later ones are not', () => {
    expectProblems(
      `
      name: x
      pipeline:
        - stage: plan
          run: echo \${{ [[steps.audit.status]] }}
        - stage: audit
          run: echo \${{ steps.plan.status }}
      `,
      ['not-upstream'],
    );
  });
});

describe('unknown-input', () => {
  it('at the reference, with a did-you-mean', () => {
    const v = expectProblems(
      `
      name: x
      inputs: { task: {} }
      steps:
        - id: a
          run: echo \${{ [[inputs.tsk]] }}
          [[prompt]]: \${{ [[inputs.other]] }}
      `,
      ['unknown-input', 'schema', 'unknown-input'],
    );
    assert.match(messages(v)[0], /Did you mean 'task'\?/);
  });
});

describe('missing-file', () => {
  it('an instructions path that does not exist (warning)', () => {
    const v = expectProblems(
      `
      name: x
      agents:
        a: { provider: codex, instructions: [[prompts/a.md]] }
        b: { provider: codex, instructions: prompts/b.md }
        c: { provider: codex, instructions: Be brief and kind. }
      steps: [{ id: s, agent: a, prompt: hi }]
      `,
      ['missing-file'],
      { file: '/repo/wf/review.workflow.yaml', fileExists: (p) => p === '/repo/wf/prompts/b.md' },
    );
    assert.equal(v.problems[0].severity, 'warning');
  });
});

describe('missing-file for context', () => {
  it('context files are relative to the repository root', () => {
    expectProblems(
      `
      name: x
      agents:
        a: { provider: codex, context: [AGENTS.md, [[docs/none.md]]] }
      steps:
        - id: s
          agent: a
          prompt: hi
          context: [[[NOTES.md]]]
      `,
      ['missing-file', 'missing-file'],
      { file: '/repo/.orchestrator/workflows/w.yaml', repoRoot: '/repo', fileExists: (p) => p === '/repo/AGENTS.md' },
    );
  });
});

describe('unreachable', () => {
  it('a step needing one whose if is literally false, and what follows it', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: off
          if: \${{ false }}
          run: echo
        - id: b
          needs: [[off]]
          run: echo
        - id: c
          needs: [[b]]
          run: echo
        - id: d
          needs: off
          if: always()
          run: echo
      `,
      ['unreachable', 'unreachable'],
    );
    assert.equal(v.problems[0].severity, 'warning');
    assert.match(messages(v)[1], /needs 'b', which can never run/);
  });
});

describe('pipeline compilation', () => {
  it('diagnostics inside a pipeline point at its own lines', () => {
    expectProblems(
      `
      name: x
      agents: { builder: { provider: codex } }
      pipeline:
        - stage: plan
          run: echo
        - stage: build
          parallel:
            - id: backend
              agent: [[buildr]]
              prompt: x
            - id: frontend
              needs: [[plam]]
              run: echo
              [[timout]]: 1m
          [[run]]: echo
      `,
      ['unknown-agent', 'unknown-need', 'schema', 'schema'],
    );
  });

  it('covers every code of the spec, and ours', () => {
    // The spec's 13, plus unknown-action, unknown-argument, outside-repo, shell-expression, not-checked, no-git-repo, worktree-needs-git and ignored-key (docs/workflow-language.md).
    assert.equal(PROBLEM_CODES.length, 21);
  });
});

describe('a bug in one check', () => {
  it('is reported as an internal error and the other checks still report', () => {
    const text = 'name: x\nsteps:\n  - id: a\n    needs: [zz]\n    nedds: 1\n    run: echo\n';
    const healthy = validateWorkflow(text);
    assert.deepEqual(healthy.problems.map((p) => p.code), ['unknown-need', 'schema']);
    const v = validateWorkflow(text, { fault: 'needs' });
    assert.equal(v.internalErrors.length, 1);
    assert.equal(v.internalErrors[0].check, 'needs');
    assert.deepEqual(v.problems.map((p) => p.code), ['schema']);
  });
});
