import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEP_STATUSES, type StepState, type StepStatus } from '../../server/src/engine/types';
import {
  GRAPH_STATUSES,
  GRAPH_STEP_STATUSES,
  graphOfPlan,
  graphOfSession,
  layoutGraph,
  type GraphDto,
  type GraphEdgeInput,
  type GraphNodeInput,
  type GraphStepStatus,
} from '../../server/src/workflow/graph';
import { compileWorkflow, planWorkflow } from '../../server/src/workflow/plan';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { yaml } from '../helpers/marked';

function compile(src: string) {
  const v = validateWorkflow(yaml(src));
  assert.deepEqual(v.problems.map((p) => p.message), []);
  return compileWorkflow(v);
}

function levels(g: GraphDto): Record<string, number> {
  return Object.fromEntries(g.nodes.map((n) => [n.id, n.level]));
}

/** Crossings between edges joining adjacent levels, from the laid-out positions (O(E²), fine for tests). */
function crossings(g: GraphDto): number {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const segs = g.edges.flatMap((e) => {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    return b.level === a.level + 1 ? [{ level: a.level, y1: a.y, y2: b.y }] : [];
  });
  let total = 0;
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      if (segs[i].level === segs[j].level && (segs[i].y1 - segs[j].y1) * (segs[i].y2 - segs[j].y2) < 0) total++;
    }
  }
  return total;
}

function assertNoOverlaps(g: GraphDto): void {
  const byLevel = new Map<number, GraphDto['nodes']>();
  for (const n of g.nodes) byLevel.set(n.level, [...(byLevel.get(n.level) ?? []), n]);
  for (const [level, nodes] of byLevel) {
    const sorted = [...nodes].sort((a, b) => a.y - b.y);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i - 1].y + sorted[i - 1].height <= sorted[i].y, `level ${level}: ${sorted[i - 1].id} overlaps ${sorted[i].id}`);
    }
  }
  // Columns do not overlap either: every node of level l ends before any node of level l+1 starts.
  const right = new Map<number, number>();
  const left = new Map<number, number>();
  for (const n of g.nodes) {
    right.set(n.level, Math.max(right.get(n.level) ?? -Infinity, n.x + n.width));
    left.set(n.level, Math.min(left.get(n.level) ?? Infinity, n.x));
  }
  for (const [l, r] of right) if (left.has(l + 1)) assert.ok(r < left.get(l + 1)!, `columns ${l} and ${l + 1} overlap`);
  for (const n of g.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= g.width && n.y + n.height <= g.height, `${n.id} is outside the drawing`);
  }
}

/** Edges start on the right side of their source and end on the left side of their target. */
function assertEdgePorts(g: GraphDto): void {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    const first = e.points[0];
    const last = e.points[e.points.length - 1];
    assert.ok(e.points.length >= 2);
    assert.equal(first.x, a.x + a.width);
    assert.ok(first.y >= a.y && first.y <= a.y + a.height);
    assert.equal(last.x, b.x);
    assert.ok(last.y >= b.y && last.y <= b.y + b.height);
    for (let i = 1; i < e.points.length; i++) assert.ok(e.points[i].x >= e.points[i - 1].x, `${e.from} → ${e.to} goes backwards`);
  }
}

/** root, `chains` chains of `length` steps each needing the previous, and a join needing every chain's end. */
function chainsYaml(chains: number, length: number): string {
  const lines = ['name: wide', 'steps:', '  - { id: root, run: echo }'];
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < length; i++) lines.push(`  - { id: c${c}_${i}, run: echo, needs: [${i ? `c${c}_${i - 1}` : 'root'}] }`);
  }
  lines.push(`  - { id: join, run: echo, needs: [${Array.from({ length: chains }, (_, c) => `c${c}_${length - 1}`).join(', ')}] }`);
  return lines.join('\n') + '\n';
}

describe('workflow graph: levels', () => {
  it('a diamond: longest path from the roots, whatever the input order', () => {
    const w = compile(`
      name: diamond
      steps:
        - { id: d, run: echo, needs: [b, c] }
        - { id: c, run: echo, needs: [a] }
        - { id: b, run: echo, needs: [a] }
        - { id: a, run: echo }
        - { id: e, run: echo, needs: [a, d] }
    `);
    const g = graphOfPlan(planWorkflow(w));
    assert.equal(g.title, 'diamond');
    assert.deepEqual(levels(g), { a: 0, b: 1, c: 1, d: 2, e: 3 });
    assert.ok(g.nodes.every((n) => n.status === 'planned' && n.kind === 'run'));
    assert.deepEqual(
      g.edges.map((e) => `${e.from}>${e.to}`).sort(),
      ['a>b', 'a>c', 'a>e', 'b>d', 'c>d', 'd>e'],
    );
    // The long edge a → e bends around levels 1 and 2 (two points per level crossed).
    assert.equal(g.edges.find((e) => e.from === 'a' && e.to === 'e')!.points.length, 6);
    assertNoOverlaps(g);
    assertEdgePorts(g);
  });

  it('levels do not trust the input order of layoutGraph either', () => {
    const nodes: GraphNodeInput[] = ['z', 'y', 'x'].map((id) => ({ id, stepId: id, label: id, kind: 'run', status: 'planned' }));
    const g = layoutGraph('t', nodes, [
      { from: 'x', to: 'y' },
      { from: 'y', to: 'z' },
    ]);
    assert.deepEqual(levels(g), { z: 2, y: 1, x: 0 });
  });

  it('root, 50 chains of 20, join: 1,002 steps in 22 levels', () => {
    const g = graphOfPlan(planWorkflow(compile(chainsYaml(50, 20))));
    assert.equal(g.nodes.length, 1002);
    assert.equal(g.edges.length, 50 * 20 + 50);
    const l = levels(g);
    assert.equal(l.root, 0);
    assert.equal(l.c0_0, 1);
    assert.equal(l.c49_19, 20);
    assert.equal(l.c17_7, 8);
    assert.equal(l.join, 21);
    assert.equal(crossings(g), 0);
    assertNoOverlaps(g);
    assertEdgePorts(g);
  });

  it('a cycle (never validated, but defensively) is broken instead of hanging', () => {
    const nodes: GraphNodeInput[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, stepId: id, label: id, kind: 'run', status: 'planned' }));
    const g = layoutGraph('cycle', nodes, [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'b' },
      { from: 'c', to: 'd' },
      { from: 'd', to: 'd' },
      { from: 'a', to: 'nowhere' },
    ]);
    assert.equal(g.nodes.length, 4);
    assert.equal(new Set(Object.values(levels(g))).size >= 2, true);
    assert.ok(levels(g).a < levels(g).d);
    assert.equal(g.edges.length, 4); // self-loop and unknown endpoint dropped
    assertNoOverlaps(g);
  });
});

describe('workflow graph: matrix', () => {
  it('one node per instance; an instance needs every instance of what its step needs', () => {
    const w = compile(`
      name: m
      steps:
        - { id: build, run: echo }
        - id: test
          name: Test
          needs: [build]
          matrix: { os: [linux, mac] }
          run: echo
        - id: pack
          needs: [test]
          matrix: { arch: [x64, arm] }
          run: echo
        - { id: report, run: echo, needs: [test, pack] }
    `);
    const g = graphOfPlan(planWorkflow(w), 'matrix plan');
    assert.equal(g.title, 'matrix plan');
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.stepId, n.label, n.level]),
      [
        ['build', 'build', 'build', 0],
        ['test[os=linux]', 'test', 'Test[os=linux]', 1],
        ['test[os=mac]', 'test', 'Test[os=mac]', 1],
        ['pack[arch=x64]', 'pack', 'pack[arch=x64]', 2],
        ['pack[arch=arm]', 'pack', 'pack[arch=arm]', 2],
        ['report', 'report', 'report', 3],
      ],
    );
    assert.deepEqual(
      g.edges.map((e) => `${e.from} > ${e.to}`),
      [
        'build > test[os=linux]',
        'build > test[os=mac]',
        'test[os=linux] > pack[arch=x64]',
        'test[os=mac] > pack[arch=x64]',
        'test[os=linux] > pack[arch=arm]',
        'test[os=mac] > pack[arch=arm]',
        'test[os=linux] > report',
        'test[os=mac] > report',
        'pack[arch=x64] > report',
        'pack[arch=arm] > report',
      ],
    );
    assertNoOverlaps(g);
    assertEdgePorts(g);
  });
});

describe('workflow graph: layout', () => {
  const tangled = compile(`
    name: tangled
    steps:
      - { id: a, run: echo }
      - { id: b, run: echo }
      - { id: c, run: echo }
      - { id: d, run: echo }
      - { id: w, run: echo, needs: [d] }
      - { id: x, run: echo, needs: [c, d] }
      - { id: y, run: echo, needs: [b] }
      - { id: z, run: echo, needs: [a] }
      - { id: p, run: echo, needs: [z] }
      - { id: q, run: echo, needs: [w, y] }
  `);

  it('the barycenter sweeps reduce crossings compared with the input order', () => {
    const plan = planWorkflow(tangled);
    const inputOrder = graphOfPlan(plan, 't', { sweeps: 0 });
    const swept = graphOfPlan(plan, 't');
    assert.ok(crossings(inputOrder) >= 4, `input order has ${crossings(inputOrder)} crossings`);
    assert.ok(crossings(swept) < crossings(inputOrder), `${crossings(swept)} vs ${crossings(inputOrder)}`);
    assert.equal(crossings(swept), 0);
    assertNoOverlaps(inputOrder);
    assertNoOverlaps(swept);
  });

  it('is deterministic', () => {
    const plan = planWorkflow(tangled);
    assert.deepEqual(graphOfPlan(plan), graphOfPlan(plan));
    const big = planWorkflow(compile(chainsYaml(10, 5)));
    assert.equal(JSON.stringify(graphOfPlan(big)), JSON.stringify(graphOfPlan(big)));
  });

  it('an empty graph has a size and no nodes', () => {
    const g = layoutGraph('empty', [], []);
    assert.deepEqual(g.nodes, []);
    assert.ok(g.width > 0 && g.height > 0);
  });

  it('lays out 2,000 nodes with long edges', () => {
    // Deterministic pseudo-random DAG: each node needs up to 3 earlier nodes, often far back.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const nodes: GraphNodeInput[] = [];
    const edges: GraphEdgeInput[] = [];
    for (let i = 0; i < 2000; i++) {
      const id = `s${i}`;
      nodes.push({ id, stepId: id, label: `step number ${i}`, kind: 'run', status: 'planned' });
      if (i === 0) continue;
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) edges.push({ from: `s${Math.floor(rand() * i)}`, to: id });
    }
    edges.push({ from: 's0', to: 's1999' });
    const g = layoutGraph('big', nodes, edges);
    assert.equal(g.nodes.length, 2000);
    assert.ok(g.edges.length >= 2000);
    const l = levels(g);
    for (const e of g.edges) assert.ok(l[e.from] < l[e.to], `${e.from} → ${e.to}`);
    assertNoOverlaps(g);
    assertEdgePorts(g);
  });
});

describe('workflow graph: sessions', () => {
  it('statuses, attempts, stuck and durations are mapped; instances follow the order', () => {
    const w = compile(`
      name: s
      steps:
        - { id: lint, run: echo }
        - id: test
          needs: [lint]
          matrix: { os: [linux, mac] }
          run: echo
        - { id: review, agent: r, prompt: review, needs: [test] }
        - { id: ok, approval: ship it?, needs: [review] }
      agents: { r: { provider: codex } }
    `);
    const order = ['lint', 'test[os=linux]', 'test[os=mac]', 'review', 'ok'];
    const state = (stepId: string, status: StepStatus, extra: Partial<StepState> = {}): StepState => ({
      id: '',
      stepId,
      status,
      attempt: 0,
      outputs: {},
      findings: 0,
      ...extra,
    });
    const steps: Record<string, StepState> = {
      lint: state('lint', 'succeeded', { attempt: 1, startedAt: '2024-01-01T00:00:00.000Z', finishedAt: '2024-01-01T00:00:02.500Z' }),
      'test[os=linux]': state('test', 'failed', { attempt: 2, startedAt: '2024-01-01T00:00:03.000Z', finishedAt: '2024-01-01T00:00:04.000Z' }),
      'test[os=mac]': state('test', 'running', { attempt: 1, startedAt: '2024-01-01T00:00:03.000Z', stuck: true }),
      review: state('review', 'pending'),
      ok: state('ok', 'waiting', { attempt: 1 }),
    };
    const g = graphOfSession(w, order, steps, 's · 123');
    assert.equal(g.title, 's · 123');
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.stepId, n.kind, n.status, n.attempt, n.stuck, n.durationMs, n.level]),
      [
        ['lint', 'lint', 'run', 'succeeded', 1, undefined, 2500, 0],
        ['test[os=linux]', 'test', 'run', 'failed', 2, undefined, 1000, 1],
        ['test[os=mac]', 'test', 'run', 'running', 1, true, undefined, 1],
        ['review', 'review', 'agent', 'pending', undefined, undefined, undefined, 2],
        ['ok', 'ok', 'approval', 'waiting', 1, undefined, undefined, 3],
      ],
    );
    assert.deepEqual(
      g.edges.map((e) => `${e.from} > ${e.to}`),
      ['lint > test[os=linux]', 'lint > test[os=mac]', 'test[os=linux] > review', 'test[os=mac] > review', 'review > ok'],
    );
    assertNoOverlaps(g);
    assertEdgePorts(g);
  });

  it('the graph statuses are the step statuses plus planned', () => {
    assert.deepEqual([...GRAPH_STEP_STATUSES], [...STEP_STATUSES]);
    assert.deepEqual([...GRAPH_STATUSES], ['planned', ...STEP_STATUSES]);
    // And the types agree both ways.
    const toGraph = (s: StepStatus): GraphStepStatus => s;
    const toStep = (s: GraphStepStatus): StepStatus => s;
    assert.equal(toStep(toGraph('timed_out')), 'timed_out');
  });
});
