/**
 * Validation of hostile shapes stays bounded (issue 10 §3): anchors and aliases by the ten
 * thousand, huge maps, long `needs` cycles, deep chains, many references. These check what is
 * reported (once, capped, with a `not-checked` warning where a budget ran out); the host tests
 * (test/host/fuzz.test.ts, responsive.test.ts) and the benchmark (test/bench/hostile.ts) cover
 * the time it takes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { MAX_MESSAGE_LENGTH } from '../../server/src/workflow/problems';
import { UpstreamIndex } from '../../server/src/workflow/upstream';
import { MAX_TEXT_LENGTH, validateWorkflow } from '../../server/src/workflow/validate';
import { get, toValue } from '../../server/src/workflow/yamlTree';
import type { StepSource } from '../../server/src/workflow/compile';

const codes = (text: string) => validateWorkflow(text).problems.map((p) => p.code);

/** n anchors in the workflow env, and a step whose env aliases each of them. */
function anchorsAndAliases(n: number): string {
  const anchors = Array.from({ length: n }, (_, i) => `  A${i}: &a${i} v${i}\n`).join('');
  const aliases = Array.from({ length: n }, (_, i) => `      X${i}: *a${i}\n`).join('');
  return `name: a\nenv:\n${anchors}steps:\n  - id: s\n    run: echo\n    env:\n${aliases}`;
}

/** A chain of n steps where each step of the second half reads the step n/2 before it. */
function farReads(n: number): string {
  const h = n >> 1;
  return `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : ''}    run: echo${i >= h ? ` \${{ steps.s${i - h}.outputs.x }}` : ''}\n`).join('')}`;
}

function cycle(n: number): string {
  return `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n    needs: s${(i + 1) % n}\n    run: echo\n`).join('')}`;
}

describe('anchors and aliases', () => {
  it('20,000 anchors and 20,000 aliases: every alias resolves to its anchor, no problem', () => {
    const v = validateWorkflow(anchorsAndAliases(20_000));
    assert.deepEqual(v.problems, []);
    const env = toValue(get(v.graph.steps[0].node, 'env')) as Record<string, string>;
    assert.equal(Object.keys(env).length, 20_000);
    assert.equal(env.X0, 'v0');
    assert.equal(env.X19999, 'v19999');
  });

  it('an alias names the last anchor of that name before it', () => {
    const v = validateWorkflow('name: a\nenv: { A: &x one, B: *x, C: &x two, D: *x }\nsteps: [{ id: s, run: echo }]\n');
    assert.deepEqual(v.problems, []);
    assert.deepEqual(toValue(get(v.root, 'env')), { A: 'one', B: 'one', C: 'two', D: 'two' });
  });

  it('an alias to no anchor is a yaml-syntax error at the alias', () => {
    const text = 'name: a\nenv: { A: *nope }\nsteps: [{ id: s, run: echo }]\n';
    const p = validateWorkflow(text).problems.find((x) => x.code === 'yaml-syntax');
    assert.ok(p);
    assert.equal(text.slice(p.span.start, p.span.end), '*nope');
    assert.match(p.message, /names no anchor before it/);
  });

  it('an alias inside the value its anchor names is a yaml-syntax error, not an expansion', () => {
    const v = validateWorkflow('name: a\nx: &a [*a, *a]\nsteps: [{ id: s, run: echo }]\n');
    const msgs = v.problems.filter((x) => x.code === 'yaml-syntax').map((x) => x.message);
    assert.equal(msgs.length, 2);
    assert.match(msgs[0], /would contain itself/);
  });

  it('a duplicate key among 5,000 keys of one mapping is still found, at the key', () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => `  K${i}: v\n`).join('');
    const text = `name: a\nenv:\n${keys}  K2345: again\nsteps: [{ id: s, run: echo }]\n`;
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['yaml-syntax']);
    assert.equal(text.slice(ps[0].span.start, ps[0].span.end), 'K2345');
    assert.equal(text.lastIndexOf('K2345'), ps[0].span.start);
    assert.match(ps[0].message, /duplicate key 'K2345'/);
  });
});

describe('nesting', () => {
  it('flow collections nested over 1,000 levels: not parsed, one error at the bracket that goes too deep', () => {
    const text = `name: x\nenv:\n  V: ${'['.repeat(5_000)}${']'.repeat(5_000)}\nsteps: [{ id: s, run: echo }]\n`;
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['yaml-syntax']);
    assert.equal(ps[0].span.start, text.indexOf('[') + 1_000);
    assert.match(ps[0].message, /nested more than 1000 levels deep: the file was not parsed, so nothing in it was checked/);
  });

  it('brackets that are text (block scripts, quotes, plain scalars) do not count as nesting', () => {
    const step = (i: number) => `  - id: s${i}\n    run: |\n      [ -f x ] && echo {\n      echo "[[{"\n    env: { A: 'x[' }\n`;
    const text = `name: x\nsteps:\n${Array.from({ length: 1_200 }, (_, i) => step(i)).join('')}`;
    assert.deepEqual(codes(text), []);
  });
});

describe('dependency cycles', () => {
  it('a 10,000-step cycle is reported once, at its first step, with a capped path', () => {
    const text = cycle(10_000);
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['dependency-cycle']);
    assert.equal(text.slice(ps[0].span.start, ps[0].span.end), 's1');
    assert.ok(ps[0].span.start < text.indexOf('id: s1\n'));
    assert.match(ps[0].message, /^dependency cycle of 10000 steps: s0 → s1 → s2 → s3 → s4 → … \(9992 more\) → s9997 → s9998 → s9999 → s0 /);
    assert.ok(ps[0].message.length < 400);
  });

  it('a cycle of 50 steps is still reported on each step; one of 51, once', () => {
    assert.deepEqual(codes(cycle(50)), Array(50).fill('dependency-cycle'));
    assert.deepEqual(codes(cycle(51)), ['dependency-cycle']);
  });
});

describe('references to upstream steps', () => {
  it('10,000 chained steps that each read the last one: checked (no problem, none skipped)', () => {
    const n = 10_000;
    const text = `name: c\nsteps:\n${Array.from({ length: n }, (_, i) => `  - id: s${i}\n${i < n - 1 ? `    needs: s${i + 1}\n` : ''}    run: echo \${{ steps.s${n - 1}.outputs.x }}\n`).join('')}`;
    const ps = validateWorkflow(text).problems;
    // The last step reads itself: the only problem.
    assert.deepEqual(ps.map((p) => p.code), ['not-upstream']);
    assert.match(ps[0].message, /reads its own steps.s9999/);
  });

  it('one step reading 2,500 others up a chain: checked (one pass for the reader, not one search per read)', () => {
    const n = 2_500;
    const reads = Array.from({ length: n - 1 }, (_, j) => `\${{ steps.s${j}.outputs.x }}`).join(' ');
    const text = `name: c\nsteps:\n${Array.from({ length: n - 1 }, (_, i) => `  - id: s${i}\n${i ? `    needs: s${i - 1}\n` : ''}    run: echo\n`).join('')}  - id: s${n - 1}\n    needs: s${n - 2}\n    run: echo ${reads} \${{ steps.s${n - 1}.outputs.x }}\n`;
    assert.deepEqual(codes(text), ['not-upstream']);
  });

  it('thousands of distinct far reads: a not-checked warning at the top, no false not-upstream', () => {
    const text = farReads(3_000);
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['not-checked']);
    assert.deepEqual(ps[0].span, { start: 0, end: 'name: c'.length });
    assert.match(ps[0].message, /not-upstream was not checked for \d+ step reference\(s\)/);
  });

  it('UpstreamIndex answers like a plain search, and "yes" (counted) once its budget is spent', () => {
    const step = (id: string, needs: string[]) => ({ id, needs: needs.map((n) => ({ id: n })) }) as unknown as StepSource;
    const steps = [step('a', []), step('b', ['a']), step('c', ['b']), step('d', ['a']), step('e', ['e', 'd']), step('x', ['y']), step('y', ['x'])];
    const byId = new Map(steps.map((s) => [s.id!, s]));
    const idx = new UpstreamIndex(byId);
    const pairs: [string, string, boolean][] = [
      ['c', 'a', true], ['c', 'a', true], ['c', 'b', true], ['b', 'c', false], ['d', 'b', false], ['e', 'a', true],
      ['e', 'e', true], ['a', 'a', false], ['x', 'x', true], ['x', 'y', true], ['c', 'zz', false], ['zz', 'a', false],
    ];
    for (const [r, t, want] of pairs) assert.equal(idx.isUpstream(r, t), want, `${r} needs ${t}`);
    assert.equal(idx.unchecked, 0);
    const tiny = new UpstreamIndex(byId, 0);
    assert.equal(tiny.isUpstream('c', 'a'), true);
    assert.equal(tiny.isUpstream('b', 'c'), false, 'c comes after b: no search needed');
    assert.equal(tiny.unchecked, 1);
  });
});

describe('sizes', () => {
  it('a file over the size limit is not parsed: one error at the top saying so', () => {
    const text = `name: big\nsteps:\n${'  - id: s\n    run: echo\n'.repeat(Math.ceil(MAX_TEXT_LENGTH / 24) + 1)}`;
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['yaml-syntax']);
    assert.deepEqual(ps[0].span, { start: 0, end: 'name: big'.length });
    assert.match(ps[0].message, /over the 2\.0 MB a workflow may have: it was not parsed nor checked/);
  });

  it('a message that would list thousands of names is capped', () => {
    const agents = Array.from({ length: 5_000 }, (_, i) => `  agent${i}: { provider: codex }\n`).join('');
    const text = `name: a\nagents:\n${agents}steps:\n  - id: s\n    agent: zzzzzzzzzzzzzzzzzzzz\n    prompt: hi\n`;
    const ps = validateWorkflow(text).problems;
    assert.deepEqual(ps.map((p) => p.code), ['unknown-agent']);
    assert.ok(ps[0].message.length <= MAX_MESSAGE_LENGTH, `${ps[0].message.length} characters`);
    assert.match(ps[0].message, /… \(4980 more\)\.$/);
  });
});

describe('no recursion on the depth of the step graph', () => {
  it('chains of 5,000 and 20,000 steps validate, plan and lay out with a small stack', () => {
    // A tenth of the default stack: recursion on the chain's length would overflow it.
    const script = path.join(__dirname, '..', 'helpers', 'deepChains.ts');
    const r = spawnSync(process.execPath, ['--stack-size=100', '--import', 'tsx', script], { encoding: 'utf8', cwd: path.resolve(__dirname, '..', '..') });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /^ok 8 shapes$/m);
  });
});
