/**
 * Expression contexts for a step: inputs, env, secrets, steps (upstream results), matrix, session,
 * workflow. The `steps` context is kept up to date as steps finish (O(1) per finish), not rebuilt
 * per step.
 */
import type { Value } from '../workflow/expressions';
import type { SessionState, StepState } from './types';

export interface StepContextEntry {
  outputs: Record<string, string>;
  status: string;
  findings: number;
}

/** Aggregate of a step's instances: one entry per workflow step id. */
export function aggregate(instances: StepState[]): StepContextEntry {
  const outputs: Record<string, string> = {};
  let findings = 0;
  const statuses = new Set<string>();
  for (const s of instances) {
    Object.assign(outputs, s.outputs);
    findings += s.findings;
    statuses.add(s.status);
  }
  // A matrix step: failed if any instance failed, else the one status they share, else 'running'/'pending'.
  const order = ['failed', 'timed_out', 'cancelled', 'running', 'waiting', 'pending', 'succeeded', 'skipped'];
  const status = statuses.size === 1 ? [...statuses][0] : (order.find((s) => statuses.has(s)) ?? 'pending');
  return { outputs, status, findings };
}

export class StepsContext {
  private readonly byStep = new Map<string, string[]>();
  private readonly entries = new Map<string, StepContextEntry>();

  constructor(private readonly state: SessionState) {
    for (const id of state.order) {
      const s = state.steps[id];
      const list = this.byStep.get(s.stepId);
      if (list) list.push(id);
      else this.byStep.set(s.stepId, [id]);
    }
    for (const stepId of this.byStep.keys()) this.refresh(stepId);
  }

  /** Call when an instance of this step changed. */
  refresh(stepId: string): void {
    const ids = this.byStep.get(stepId) ?? [];
    this.entries.set(stepId, aggregate(ids.map((i) => this.state.steps[i])));
  }

  instancesOf(stepId: string): string[] {
    return this.byStep.get(stepId) ?? [];
  }

  /** The `steps` context as seen by a step: only the given (upstream) step ids. */
  view(stepIds: Iterable<string>, self?: { id: string; outputs: Record<string, string> }): Value {
    const out: Record<string, Value> = {};
    for (const id of stepIds) {
      const e = this.entries.get(id);
      if (e) out[id] = { outputs: e.outputs, status: e.status, findings: e.findings };
    }
    if (self) out[self.id] = { outputs: self.outputs, status: 'running', findings: 0 };
    return out;
  }
}
