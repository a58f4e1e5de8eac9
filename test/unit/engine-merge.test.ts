import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { compareSeverity, mergeFindings } from '../../server/src/engine/findings/merge';
import type { RawFinding } from '../../server/src/engine/types';

function raw(f: Partial<RawFinding>): RawFinding {
  return { severity: 'medium', message: 'm', step: 'a', source: 'annotation', ...f };
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

describe('mergeFindings', () => {
  it('merges the same (file, line, rule) across steps: first is the base, highest severity wins, conflict kept', () => {
    const out = mergeFindings([
      raw({ step: 'lint', source: 'sarif:ESLint', severity: 'medium', message: 'from lint', file: 'src/a.ts', line: 12, rule: 'sql' }),
      raw({ step: 'audit', source: 'agent', severity: 'critical', message: 'from audit', file: 'src/a.ts', line: 12, rule: 'sql', column: 4 }),
      raw({ step: 'scan', source: 'jsonl', severity: 'medium', message: 'from scan', file: './src/a.ts', line: 12, rule: 'sql' }),
    ]);
    assert.equal(out.length, 1);
    const f = out[0];
    assert.equal(f.id, sha('src/a.ts\0' + '12\0sql'));
    assert.equal(f.severity, 'critical');
    assert.equal(f.message, 'from lint');
    assert.equal(f.step, 'lint');
    assert.equal(f.source, 'sarif:ESLint');
    assert.equal(f.file, 'src/a.ts');
    assert.equal(f.column, 4, 'missing column filled from a later report');
    assert.deepEqual(f.sources, [
      { step: 'lint', source: 'sarif:ESLint', severity: 'medium', message: 'from lint' },
      { step: 'audit', source: 'agent', severity: 'critical', message: 'from audit' },
      { step: 'scan', source: 'jsonl', severity: 'medium', message: 'from scan' },
    ]);
    assert.deepEqual(f.conflict, { severities: ['critical', 'medium'], resolution: 'highest severity wins' });
  });

  it('merges the same step reporting twice; equal severities have no conflict', () => {
    const out = mergeFindings([raw({ file: 'x', line: 1, rule: 'r' }), raw({ file: 'x', line: 1, rule: 'r', message: 'again' })]);
    assert.equal(out.length, 1);
    assert.equal(out[0].sources.length, 2);
    assert.equal(out[0].conflict, undefined);
    assert.equal('conflict' in out[0], false);
  });

  it('does not merge when file, line or rule is missing or differs', () => {
    const out = mergeFindings([
      raw({ file: 'x', line: 1 }),
      raw({ file: 'x', line: 1, step: 'b' }),
      raw({ file: 'x', rule: 'r' }),
      raw({ file: 'x', rule: 'r', step: 'b' }),
      raw({ line: 1, rule: 'r' }),
      raw({ line: 1, rule: 'r', step: 'b' }),
      raw({ file: 'x', line: 1, rule: 'r' }),
      raw({ file: 'x', line: 2, rule: 'r' }),
      raw({ file: 'y', line: 1, rule: 'r' }),
      raw({ file: 'x', line: 1, rule: 's' }),
    ]);
    assert.equal(out.length, 10);
    assert.ok(out.every((f) => f.sources.length === 1));
    assert.equal(new Set(out.map((f) => f.id)).size, 10);
  });

  it('ids: located from file/line/rule, others from step/message/file/line; duplicates stay unique', () => {
    const out = mergeFindings([raw({ step: 's', message: 'hello' }), raw({ step: 's', message: 'hello' }), raw({ step: 's', message: 'hi', file: 'f', line: 3 })]);
    const ids = out.map((f) => f.id);
    assert.deepEqual(out.map((f) => f.message), ['hi', 'hello', 'hello'], 'findings with a file come first');
    assert.deepEqual(ids.slice(1).sort(), [sha('s\0hello\0\0'), sha('s\0hello\0\0\0' + '2')].sort());
    assert.ok(ids.includes(sha('s\0hi\0f\0' + '3')));
    assert.ok(ids.every((id) => /^[0-9a-f]{16}$/.test(id)));
    // Stable: the same input gives the same ids.
    assert.deepEqual(mergeFindings([raw({ file: 'a', line: 1, rule: 'r' })])[0].id, mergeFindings([raw({ file: 'a', line: 1, rule: 'r', step: 'z', severity: 'low' })])[0].id);
  });

  it('orders by severity, then file (none last), then line, whatever the input order', () => {
    const input = [
      raw({ severity: 'low', file: 'b.ts', line: 1, rule: 'r' }),
      raw({ severity: 'info', message: 'general' }),
      raw({ severity: 'critical', file: 'z.ts', line: 9, rule: 'r' }),
      raw({ severity: 'high', message: 'no file' }),
      raw({ severity: 'high', file: 'a.ts', line: 20, rule: 'r' }),
      raw({ severity: 'high', file: 'a.ts', line: 3, rule: 'r' }),
      raw({ severity: 'high', file: 'a.ts', rule: 'whole-file' }),
      raw({ severity: 'low', file: 'a.ts', line: 5, rule: 'r' }),
    ];
    const order = (fs: RawFinding[]) => mergeFindings(fs).map((f) => `${f.severity} ${f.file ?? '-'}:${f.line ?? '-'}`);
    const expected = ['critical z.ts:9', 'high a.ts:-', 'high a.ts:3', 'high a.ts:20', 'high -:-', 'low a.ts:5', 'low b.ts:1', 'info -:-'];
    assert.deepEqual(order(input), expected);
    assert.deepEqual(order([...input].reverse()), expected);
  });

  it('severity order and empty input', () => {
    assert.ok(compareSeverity('critical', 'high') < 0);
    assert.ok(compareSeverity('info', 'low') > 0);
    assert.deepEqual(mergeFindings([]), []);
  });

  it('does not mutate its input', () => {
    const input = [raw({ file: 'x', line: 1, rule: 'r' }), raw({ file: 'x', line: 1, rule: 'r', severity: 'high', column: 2 })];
    const copy = structuredClone(input);
    mergeFindings(input);
    assert.deepEqual(input, copy);
  });
});
