/**
 * Which pending step instances can start, kept up to date in O(1) per transition (a step's
 * dependents are told when it is done), so that scheduling a 1,000-step session never scans it.
 * A step instance is ready when it is pending and every instance it needs is done.
 */
import { isStepDone, type SessionState, type StepState, type StepStatus } from './types';

export class Readiness {
  /** For each instance, how many instances it needs are not done yet. */
  private readonly remaining = new Map<string, number>();
  /** For each instance, the instances that need it. */
  private readonly dependents = new Map<string, string[]>();
  private readonly ready = new Set<string>();
  private readonly orderIndex = new Map<string, number>();

  /** `needs(id)`: the instances the instance `id` needs, as they are now. */
  constructor(
    private readonly state: SessionState,
    private readonly needs: (id: string) => StepState[],
  ) {
    this.index();
  }

  /** Builds everything again from the state (at start, and when a resume replaced the steps). */
  index(): void {
    this.remaining.clear();
    this.dependents.clear();
    this.ready.clear();
    this.orderIndex.clear();
    this.state.order.forEach((id, i) => this.orderIndex.set(id, i));
    for (const id of this.state.order) {
      const needs = this.needs(id);
      this.remaining.set(id, needs.filter((n) => !isStepDone(n.status)).length);
      for (const n of needs) {
        const list = this.dependents.get(n.id);
        if (list) list.push(id);
        else this.dependents.set(n.id, [id]);
      }
      if (this.state.steps[id].status === 'pending' && this.remaining.get(id) === 0) this.ready.add(id);
    }
  }

  /** The instance `id` went from `before` to `after`. */
  track(id: string, before: StepStatus | undefined, after: StepStatus): void {
    const wasDone = before !== undefined && isStepDone(before);
    if (!wasDone && isStepDone(after)) {
      for (const d of this.dependents.get(id) ?? []) {
        const left = (this.remaining.get(d) ?? 1) - 1;
        this.remaining.set(d, left);
        if (left === 0 && this.state.steps[d].status === 'pending') this.ready.add(d);
      }
    }
    if (after === 'pending' && (this.remaining.get(id) ?? 0) === 0) this.ready.add(id);
    else if (after !== 'pending') this.ready.delete(id);
  }

  /** The ready instances in the workflow file's order. */
  candidates(): string[] {
    return [...this.ready].sort((a, b) => this.orderIndex.get(a)! - this.orderIndex.get(b)!);
  }
}
