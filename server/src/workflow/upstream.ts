/**
 * "Does step R depend on step T (directly or through other steps)?" for the not-upstream check,
 * answered many times per validation (once per `steps.T` an expression of R reads), within a
 * work budget, without recursion.
 *
 * - Steps in a topological order (needs first): T can be upstream of R only if it comes before R,
 *   and a search from R never needs to enter a step that comes before T.
 * - A target asked about a second time gets its whole set of dependents computed once (one pass
 *   over the graph), so a hub that many steps read costs one pass, not one search per reader;
 *   likewise a reader asked about a second time gets the set of everything it needs.
 * - Each step visited costs one unit of the budget; once it is spent, the remaining questions are
 *   answered "yes" (no false error) and counted in `unchecked`, so validation can say so.
 * - Steps are numbered once; the searches work on numbers and typed arrays (a "seen" mark is the
 *   search's generation), not on maps and sets of strings: no garbage per step visited.
 */
import type { StepSource } from './compile';

export class UpstreamIndex {
  /** The number of each id: the steps' ids first (0 … steps - 1), then needs that name no step. */
  private readonly num = new Map<string, number>();
  /** Each step's needs as written (unknown ids and itself included), by number. */
  private readonly rawNeeds: Int32Array[] = [];
  /** Position in a topological order; -1 for steps on or after a cycle (and for unknown ids). */
  private readonly position: Int32Array;
  /** Each step's distinct known needs other than itself, and the steps that have it as such a need. */
  private readonly needIds: number[][] = [];
  private readonly dependents: number[][] = [];
  private readonly askedTarget = new Set<number>();
  private readonly askedReader = new Set<number>();
  private readonly dependentsOf = new Map<number, Set<number>>();
  private readonly needsOf = new Map<number, Set<number>>();
  private readonly steps: number;
  /** search()'s marks: a step is seen when its mark is the current search's generation. */
  private seen = new Uint32Array(0);
  private generation = 0;
  private budget: number;
  /** Questions answered "yes" unchecked because the budget was spent. */
  unchecked = 0;

  constructor(private readonly byId: ReadonlyMap<string, StepSource>, budget?: number) {
    for (const id of byId.keys()) this.num.set(id, this.num.size);
    this.steps = this.num.size;
    let edges = 0;
    const pending = new Int32Array(this.steps);
    for (let i = 0; i < this.steps; i++) this.dependents.push([]);
    let i = 0;
    for (const [id, s] of byId) {
      const raw = new Int32Array(s.needs.length);
      const needs: number[] = [];
      const distinct = new Set<number>();
      s.needs.forEach((n, k) => {
        let x = this.num.get(n.id);
        if (x === undefined) this.num.set(n.id, (x = this.num.size));
        raw[k] = x;
        if (x < this.steps && n.id !== id && !distinct.has(x)) {
          distinct.add(x);
          needs.push(x);
        }
      });
      this.rawNeeds.push(raw);
      this.needIds.push(needs);
      edges += needs.length;
      pending[i] = needs.length;
      for (const n of needs) this.dependents[n].push(i);
      i++;
    }
    this.position = new Int32Array(this.num.size).fill(-1);
    const order: number[] = [];
    for (let v = 0; v < this.steps; v++) if (pending[v] === 0) order.push(v);
    for (let k = 0; k < order.length; k++) {
      this.position[order[k]] = k;
      for (const d of this.dependents[order[k]]) if (--pending[d] === 0) order.push(d);
    }
    // Enough for any ordinary workflow many times over; linear in the graph's size.
    this.budget = budget ?? Math.max(250_000, 20 * (byId.size + edges));
  }

  /** Whether `reader` needs `target`, directly or transitively. */
  isUpstream(reader: string, target: string): boolean {
    const r = this.num.get(reader);
    const t = this.num.get(target);
    if (r === undefined || r >= this.steps || t === undefined || t >= this.steps) return false;
    const raw = this.rawNeeds[r];
    for (let k = 0; k < raw.length; k++) if (raw[k] === t) return true;
    const pr = this.position[r];
    const pt = this.position[t];
    if (pt >= 0 && pr >= 0 && pt >= pr) return false;
    const dependents = this.dependentsOf.get(t);
    if (dependents) return dependents.has(r);
    const needs = this.needsOf.get(r);
    if (needs) return needs.has(t);
    let found: boolean | undefined;
    if (this.askedTarget.has(t)) found = this.closure(t, this.dependents, this.dependentsOf)?.has(r);
    else if (this.askedReader.has(r)) found = this.closure(r, this.needIds, this.needsOf)?.has(t);
    else found = this.search(r, t, pt);
    this.askedTarget.add(t);
    this.askedReader.add(r);
    if (found !== undefined) return found;
    this.unchecked++;
    return true;
  }

  /** Depth-first over needs from the reader, skipping steps ordered before the target (pt: -1 for none). */
  private search(reader: number, target: number, pt: number): boolean | undefined {
    if (this.seen.length < this.num.size) this.seen = new Uint32Array(this.num.size);
    const seen = this.seen;
    const mark = ++this.generation;
    seen[reader] = mark;
    const stack = Array.from(this.rawNeeds[reader]);
    while (stack.length) {
      const id = stack.pop()!;
      if (id === target) return true;
      if (seen[id] === mark) continue;
      seen[id] = mark;
      if (--this.budget < 0) return undefined;
      const p = this.position[id];
      if (pt >= 0 && p >= 0 && p < pt) continue;
      if (id < this.steps) {
        const raw = this.rawNeeds[id];
        for (let k = 0; k < raw.length; k++) stack.push(raw[k]);
      }
    }
    return false;
  }

  /** Every step reachable from `from` along `edges` (remembered in `into`), or undefined when over budget. */
  private closure(from: number, edges: readonly (readonly number[])[], into: Map<number, Set<number>>): Set<number> | undefined {
    const set = new Set<number>();
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      for (const d of edges[queue[i]]) {
        if (set.has(d)) continue;
        if (--this.budget < 0) return undefined;
        set.add(d);
        queue.push(d);
      }
    }
    into.set(from, set);
    return set;
  }
}
