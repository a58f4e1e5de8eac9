import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileWorkflow, formatPlan, matrixInstances, planWorkflow } from '../../server/src/workflow/plan';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { yaml } from '../helpers/marked';

function compile(src: string) {
  const v = validateWorkflow(yaml(src));
  assert.deepEqual(v.problems.map((p) => p.message), []);
  return compileWorkflow(v);
}

describe('pipeline compilation', () => {
  it('each stage needs the whole previous stage; parallel stages become one step per item', () => {
    const w = compile(`
      name: staged
      agents: { a: { provider: codex } }
      pipeline:
        - stage: plan
          agent: a
          prompt: plan
        - stage: implement
          parallel:
            - { id: backend, run: echo b }
            - { id: frontend, run: echo f }
        - stage: audit
          agent: a
          prompt: audit
    `);
    assert.deepEqual(
      w.steps.map((s) => [s.id, s.kind, s.needs, s.stage]),
      [
        ['plan', 'agent', [], 'plan'],
        ['backend', 'run', ['plan'], 'implement'],
        ['frontend', 'run', ['plan'], 'implement'],
        ['audit', 'agent', ['backend', 'frontend'], 'audit'],
      ],
    );
    assert.equal(w.steps[0].prompt, 'plan');
    assert.equal((w.steps[0] as { stage?: string }).stage, 'plan');
  });

  it('a stated needs replaces the implicit one; a stage name stands for all its steps', () => {
    const w = compile(`
      name: staged
      pipeline:
        - stage: a
          run: echo
        - stage: b
          parallel:
            - { id: b1, run: echo }
            - { id: b2, run: echo, needs: [] }
        - stage: c
          needs: [a]
          run: echo
        - stage: d
          needs: b
          run: echo
    `);
    assert.deepEqual(Object.fromEntries(w.steps.map((s) => [s.id, s.needs])), { a: [], b1: ['a'], b2: [], c: ['a'], d: ['b1', 'b2'] });
  });
});

describe('plan', () => {
  it('levels group what may run in parallel', () => {
    const w = compile(`
      name: dag
      concurrency: 2
      steps:
        - { id: root, run: echo }
        - { id: x, needs: root, run: echo }
        - { id: y, needs: root, run: echo }
        - { id: z, needs: [x, root], run: echo }
        - { id: join, needs: [y, z], run: echo }
    `);
    const plan = planWorkflow(w);
    assert.deepEqual(plan.levels, [['root'], ['x', 'y'], ['z'], ['join']]);
    assert.equal(plan.concurrency, 2);
    const text = formatPlan(plan);
    assert.match(text, /Level 2 \(2 in parallel\):\n {2}x \[run\]/);
    assert.match(text, /join \[run\] {2}← needs y, z/);
  });

  it('matrix steps list their instances', () => {
    assert.deepEqual(matrixInstances({ id: 't', matrix: { os: ['linux', 'mac'], node: [20, 22] } }), ['t[os=linux,node=20]', 't[os=linux,node=22]', 't[os=mac,node=20]', 't[os=mac,node=22]']);
    assert.deepEqual(matrixInstances({ id: 't' }), []);
  });

  it('refuses to compile a workflow with errors', () => {
    assert.throws(() => compileWorkflow(validateWorkflow('name: x\nsteps: [{ id: a }]\n')), /has errors/);
  });

  it('the hash changes with the text', () => {
    const a = compile('name: x\nsteps: [{ id: a, run: echo }]\n');
    const b = compile('name: x\nsteps: [{ id: a, run: echo  }]\n');
    assert.notEqual(a.hash, b.hash);
  });
});
