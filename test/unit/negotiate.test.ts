import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeFindings } from '../../server/src/engine/findings/merge';
import type { RawFinding } from '../../server/src/engine/types';
import { validateWorkflow } from '../../server/src/workflow/validate';

const at = { file: 'src/db.ts', line: 12, rule: 'sql-injection' };
const r = (step: string, severity: RawFinding['severity'], verdict?: RawFinding['verdict']): RawFinding => ({ ...at, step, source: 'agent', severity, message: `${step} says`, ...(verdict ? { verdict } : {}) });

describe('negotiation of disputed findings', () => {
  it('highest-severity (default): the highest wins, a report keeps it open, every opinion is kept', () => {
    const [f] = mergeFindings([r('security', 'medium'), r('perf', 'high'), r('auditor', 'low', 'false-positive')]);
    assert.equal(f.severity, 'high');
    assert.equal(f.status, 'open');
    assert.equal(f.sources.length, 3);
    assert.equal(f.sources[2].verdict, 'false-positive');
    assert.equal(f.decision?.policy, 'highest-severity');
    assert.match(f.decision?.reason ?? '', /highest severity wins; 1 reporter\(s\) say false-positive, but a report keeps it open/);
  });

  it('majority: the severity most reports give; a tie goes to the higher', () => {
    const [f] = mergeFindings([r('a', 'medium'), r('b', 'medium'), r('c', 'critical')], 'majority');
    assert.equal(f.severity, 'medium');
    assert.match(f.decision?.reason ?? '', /2 of 3 reports say medium/);
    const [g] = mergeFindings([r('a', 'low'), r('b', 'high')], 'majority');
    assert.equal(g.severity, 'high');
  });

  it('majority: dismissed when more reporters call it fixed or a false positive than report it', () => {
    const [f] = mergeFindings([r('a', 'high'), r('b', 'high', 'fixed'), r('c', 'high', 'false-positive')], 'majority');
    assert.equal(f.status, 'dismissed');
    assert.match(f.decision?.reason ?? '', /2 of 3 reporters say fixed or false-positive/);
  });

  it('agent: provisional until the arbiter decides; its decision wins', () => {
    const [f] = mergeFindings([r('a', 'low'), r('b', 'high')], { agent: 'judge' });
    assert.match(f.decision?.reason ?? '', /waiting for agent judge/);
    const [g] = mergeFindings([r('a', 'low'), r('b', 'high')], { agent: 'judge' }, { [f.id]: { policy: 'agent', by: 'judge', severity: 'medium', status: 'open', reason: 'exploitable only by admins' } });
    assert.equal(g.severity, 'medium');
    assert.deepEqual(g.conflict, { severities: ['high', 'low'], resolution: 'exploitable only by admins' });
  });

  it('undisputed findings carry no decision', () => {
    const [f] = mergeFindings([r('a', 'high'), r('b', 'high')], 'majority');
    assert.equal(f.decision, undefined);
    assert.equal(f.conflict, undefined);
  });

  it('the arbiter must be a declared agent', () => {
    const v = validateWorkflow('name: x\nnegotiate: { agent: judgee }\nagents: { judge: { provider: codex } }\nsteps: [{ id: a, run: echo }]\n');
    assert.deepEqual(v.problems.map((p) => [p.code, p.message.includes("Did you mean 'judge'?")]), [['unknown-agent', true]]);
  });
});
