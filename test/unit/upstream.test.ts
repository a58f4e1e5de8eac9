import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepSource } from '../../server/src/workflow/compile';
import { UpstreamIndex } from '../../server/src/workflow/upstream';

const step = (id: string, needs: string[]) => ({ id, needs: needs.map((n) => ({ id: n })) }) as unknown as StepSource;

/** Whether reader needs target through the needs of known steps: a plain breadth-first search. */
function plain(byId: ReadonlyMap<string, StepSource>, reader: string, target: string): boolean {
  if (!byId.has(reader) || !byId.has(target)) return false;
  const seen = new Set<string>();
  const queue = byId.get(reader)!.needs.map((n) => n.id);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const n of byId.get(id)?.needs ?? []) queue.push(n.id);
  }
  return false;
}

/** A small deterministic generator (the same graphs on every run). */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('UpstreamIndex on numbered steps', () => {
  it('answers every question like a plain search on random graphs (cycles, self-needs, unknown and repeated needs)', () => {
    const r = rng(7);
    for (let g = 0; g < 200; g++) {
      const n = 2 + Math.floor(r() * 14);
      const ids = Array.from({ length: n }, (_, i) => `s${i}`);
      // Mostly needs on earlier steps (a DAG), sometimes on later ones (cycles) or on no step.
      const steps = ids.map((id, i) =>
        step(
          id,
          Array.from({ length: Math.floor(r() * 4) }, () => {
            const x = r();
            if (x < 0.08) return 'missing';
            if (x < 0.2) return ids[Math.floor(r() * n)];
            return ids[Math.floor(r() * Math.max(1, i))];
          }),
        ),
      );
      const byId = new Map(steps.map((s) => [s.id!, s]));
      const idx = new UpstreamIndex(byId);
      // Every pair twice, in a shuffled order: later questions take the closure paths.
      const pairs = [...ids, 'missing'].flatMap((a) => [...ids, 'missing'].map((b) => [a, b] as const));
      const asked = [...pairs, ...pairs].sort(() => r() - 0.5);
      for (const [a, b] of asked) assert.equal(idx.isUpstream(a, b), plain(byId, a, b), `graph ${g}: ${a} needs ${b}?`);
      assert.equal(idx.unchecked, 0);
    }
  });

  it('a long chain read from far away spends the budget and then answers "yes", counted', () => {
    const n = 2_000;
    const steps = Array.from({ length: n }, (_, i) => step(`s${i}`, i ? [`s${i - 1}`] : []));
    const idx = new UpstreamIndex(new Map(steps.map((s) => [s.id!, s])), 5_000);
    let yes = 0;
    for (let i = n / 2; i < n; i++) if (idx.isUpstream(`s${i}`, `s${i - n / 2}`)) yes++;
    assert.equal(yes, n / 2, 'every far read is upstream (really or unchecked)');
    assert.ok(idx.unchecked > 0 && idx.unchecked < n / 2, `${idx.unchecked} unchecked`);
  });
});
