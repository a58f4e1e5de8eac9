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
 */
import type { StepSource } from './compile';

export class UpstreamIndex {
  /** Position in a topological order; steps on or after a cycle have none. */
  private readonly position = new Map<string, number>();
  private readonly dependents = new Map<string, string[]>();
  private readonly needIds = new Map<string, string[]>();
  private readonly askedTarget = new Set<string>();
  private readonly askedReader = new Set<string>();
  private readonly dependentsOf = new Map<string, Set<string>>();
  private readonly needsOf = new Map<string, Set<string>>();
  private budget: number;
  /** Questions answered "yes" unchecked because the budget was spent. */
  unchecked = 0;

  constructor(private readonly byId: ReadonlyMap<string, StepSource>, budget?: number) {
    let edges = 0;
    const pending = new Map<string, number>();
    for (const [id, s] of byId) {
      const needs = new Set(s.needs.map((n) => n.id).filter((n) => byId.has(n) && n !== id));
      edges += needs.size;
      pending.set(id, needs.size);
      this.needIds.set(id, [...needs]);
      for (const n of needs) {
        const list = this.dependents.get(n);
        if (list) list.push(id);
        else this.dependents.set(n, [id]);
      }
    }
    const order = [...pending].filter(([, n]) => n === 0).map(([id]) => id);
    for (let i = 0; i < order.length; i++) {
      this.position.set(order[i], i);
      for (const d of this.dependents.get(order[i]) ?? []) {
        const left = pending.get(d)! - 1;
        pending.set(d, left);
        if (left === 0) order.push(d);
      }
    }
    // Enough for any ordinary workflow many times over; linear in the graph's size.
    this.budget = budget ?? Math.max(250_000, 20 * (byId.size + edges));
  }

  /** Whether `reader` needs `target`, directly or transitively. */
  isUpstream(reader: string, target: string): boolean {
    const start = this.byId.get(reader);
    if (!start || !this.byId.has(target)) return false;
    if (start.needs.some((n) => n.id === target)) return true;
    const pr = this.position.get(reader);
    const pt = this.position.get(target);
    if (pt !== undefined && pr !== undefined && pt >= pr) return false;
    const dependents = this.dependentsOf.get(target);
    if (dependents) return dependents.has(reader);
    const needs = this.needsOf.get(reader);
    if (needs) return needs.has(target);
    let found: boolean | undefined;
    if (this.askedTarget.has(target)) found = this.closure(target, this.dependents, this.dependentsOf)?.has(reader);
    else if (this.askedReader.has(reader)) found = this.closure(reader, this.needIds, this.needsOf)?.has(target);
    else found = this.search(reader, target, pt);
    this.askedTarget.add(target);
    this.askedReader.add(reader);
    if (found !== undefined) return found;
    this.unchecked++;
    return true;
  }

  /** Depth-first over needs from the reader, skipping steps ordered before the target. */
  private search(reader: string, target: string, pt: number | undefined): boolean | undefined {
    const seen = new Set<string>([reader]);
    const stack = this.byId.get(reader)!.needs.map((n) => n.id);
    while (stack.length) {
      const id = stack.pop()!;
      if (id === target) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      if (--this.budget < 0) return undefined;
      const p = this.position.get(id);
      if (pt !== undefined && p !== undefined && p < pt) continue;
      const s = this.byId.get(id);
      if (s) for (const n of s.needs) stack.push(n.id);
    }
    return false;
  }

  /** Every step reachable from `from` along `edges` (remembered in `into`), or undefined when over budget. */
  private closure(from: string, edges: ReadonlyMap<string, readonly string[]>, into: Map<string, Set<string>>): Set<string> | undefined {
    const set = new Set<string>();
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      for (const d of edges.get(queue[i]) ?? []) {
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
