/**
 * Expression contexts for a step: inputs, env, secrets, steps (upstream results), matrix, session,
 * workflow. The `steps` context is kept up to date as steps finish (O(1) per finish), not rebuilt
 * per step.
 */
import type { EvalContext, Value } from '../workflow/expressions';
import type { CompiledStep } from '../workflow/plan';
import { isStepDone, type SessionState, type StepState } from './types';

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

/** The whole expression context of a step (its `if`, `run`, `env`, `outputs`) and its status functions. */
export class EvalContexts {
  private readonly upstreamCache = new Map<string, Set<string>>();

  constructor(
    private readonly state: SessionState,
    private readonly steps: ReadonlyMap<string, CompiledStep>,
    private readonly stepsContext: StepsContext,
    private readonly secrets: ReadonlyMap<string, string>,
  ) {}

  /** Whether a failure of this step lets the session go on (`on_error: continue`, on the step or in defaults). */
  continues(s: StepState): boolean {
    const def = this.steps.get(s.stepId);
    return (def?.on_error ?? this.state.workflow.compiled.definition.defaults?.on_error ?? 'fail') === 'continue';
  }

  /** `needs`: the instances the step needs; `self`: for `outputs:` expressions, what the step wrote. */
  forStep(s: StepState, def: CompiledStep, needs: StepState[], self?: Record<string, string>): EvalContext {
    const wf = this.state.workflow.compiled;
    const secrets: Record<string, Value> = {};
    for (const [k, v] of this.secrets) secrets[k] = v;
    const envVals: Record<string, Value> = {};
    for (const [k, v] of Object.entries(wf.definition.env ?? {})) envVals[k] = String(v);
    for (const [k, v] of Object.entries(def.env ?? {})) envVals[k] = String(v);
    const matrix: Record<string, Value> = {};
    const m = /\[(.*)\]$/.exec(s.id);
    if (m && def.matrix) {
      for (const part of m[1].split(',')) {
        const eq = part.indexOf('=');
        const key = part.slice(0, eq);
        const raw = part.slice(eq + 1);
        const original = def.matrix[key]?.find((v) => String(v) === raw);
        matrix[key] = original ?? raw;
      }
    }
    const success = needs.every((n) => n.status === 'succeeded' || (n.status !== 'skipped' && isStepDone(n.status) && n.status !== 'cancelled' && this.continues(n)));
    const failed = (n: StepState): boolean => (n.status === 'failed' || n.status === 'timed_out') && !this.continues(n);
    // As in GitHub Actions, failure() also sees failures further upstream: in a → b → notify, when a
    // fails b never starts (it ends cancelled), and notify's `if: failure()` must still hold.
    const failure = needs.some(failed) || (/\bfailure\s*\(/.test(String(def.if ?? '')) && [...this.upstream(def.id)].some((u) => this.stepsContext.instancesOf(u).some((i) => failed(this.state.steps[i]))));
    return {
      contexts: {
        inputs: this.state.inputs,
        env: envVals,
        secrets,
        steps: this.stepsContext.view(this.upstream(def.id), self ? { id: def.id, outputs: self } : undefined),
        matrix,
        session: { id: this.state.id },
        workflow: { name: wf.name },
      },
      status: { success, failure },
    };
  }

  /** Every step id upstream of this one (transitively through needs). */
  upstream(stepId: string): Set<string> {
    const hit = this.upstreamCache.get(stepId);
    if (hit) return hit;
    const out = new Set<string>();
    const stack = [...(this.steps.get(stepId)?.needs ?? [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (out.has(id)) continue;
      out.add(id);
      const cached = this.upstreamCache.get(id);
      if (cached) for (const x of cached) out.add(x);
      else stack.push(...(this.steps.get(id)?.needs ?? []));
    }
    this.upstreamCache.set(stepId, out);
    return out;
  }
}
