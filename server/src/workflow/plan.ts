/**
 * The compiled workflow and its execution plan: the steps as the engine will run them (pipeline
 * compiled, needs as lists, matrix expanded) in levels, where each level's steps may run in
 * parallel (within `concurrency`). Only for a workflow without errors.
 */
import { createHash } from 'node:crypto';
import { Step, Workflow, type StepDef, type WorkflowFile } from './schema';
import type { Validation } from './validate';
import { toValue } from './yamlTree';

export type StepKind = 'run' | 'agent' | 'uses' | 'approval';

export interface CompiledStep extends Omit<StepDef, 'needs'> {
  readonly id: string;
  readonly needs: string[];
  readonly kind: StepKind;
  readonly stage?: string;
}

export interface CompiledWorkflow {
  readonly name: string;
  readonly definition: Omit<WorkflowFile, 'steps' | 'pipeline'>;
  readonly steps: CompiledStep[];
  /** sha256 of the file text, so a session can tell when the file changed since it started. */
  readonly hash: string;
}

export interface PlannedStep {
  readonly id: string;
  readonly name?: string;
  readonly kind: StepKind;
  readonly needs: string[];
  readonly stage?: string;
  readonly level: number;
  /** Ids of the matrix instances (`test[os=linux]`), empty without a matrix. */
  readonly instances: string[];
}

export interface Plan {
  readonly workflow: string;
  readonly concurrency?: number;
  readonly steps: PlannedStep[];
  /** levels[i] = ids that may run in parallel once levels before i are done. */
  readonly levels: string[][];
}

export function compileWorkflow(v: Validation): CompiledWorkflow {
  if (v.problems.some((p) => p.severity === 'error')) throw new Error('cannot compile a workflow that has errors');
  const file = Workflow.parse(toValue(v.root));
  const { steps: _steps, pipeline: _pipeline, ...definition } = file;
  const steps: CompiledStep[] = v.graph.steps.map((s) => {
    const raw = toValue(s.node) as Record<string, unknown>;
    const rest: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(raw)) if (k !== 'stage' && k !== 'parallel' && k !== 'needs' && k !== 'id') rest[k] = val;
    const def = Step.parse({ ...rest, id: s.id });
    const kind = (['run', 'agent', 'uses', 'approval'] as const).find((k) => def[k] !== undefined)!;
    const { needs: _n, ...fields } = def;
    return { ...fields, id: s.id!, needs: [...new Set(s.needs.map((n) => n.id))], kind, ...(s.stage ? { stage: s.stage } : {}) };
  });
  return { name: file.name, definition, steps, hash: createHash('sha256').update(v.text).digest('hex') };
}

export function matrixInstances(step: Pick<StepDef, 'id' | 'matrix'>): string[] {
  const m = step.matrix;
  if (!m || !Object.keys(m).length) return [];
  let combos: [string, unknown][][] = [[]];
  for (const [k, values] of Object.entries(m)) combos = combos.flatMap((c) => values.map((v) => [...c, [k, v] as [string, unknown]]));
  return combos.map((c) => `${step.id}[${c.map(([k, v]) => `${k}=${String(v)}`).join(',')}]`);
}

export function planWorkflow(w: CompiledWorkflow): Plan {
  const byId = new Map(w.steps.map((s) => [s.id, s]));
  const level = new Map<string, number>();
  // Kahn's algorithm; the graph has no cycles (the workflow validated).
  const indeg = new Map(w.steps.map((s) => [s.id, s.needs.length]));
  const dependents = new Map<string, string[]>();
  for (const s of w.steps) {
    for (const n of s.needs) {
      const list = dependents.get(n);
      if (list) list.push(s.id);
      else dependents.set(n, [s.id]);
    }
  }
  const queue = w.steps.filter((s) => s.needs.length === 0).map((s) => s.id);
  for (const id of queue) level.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const d of dependents.get(id) ?? []) {
      level.set(d, Math.max(level.get(d) ?? 0, level.get(id)! + 1));
      indeg.set(d, indeg.get(d)! - 1);
      if (indeg.get(d) === 0) queue.push(d);
    }
  }
  const levels: string[][] = [];
  for (const s of w.steps) {
    const l = level.get(s.id) ?? 0;
    (levels[l] ??= []).push(s.id);
  }
  const steps = w.steps.map((s) => ({
    id: s.id,
    ...(s.name ? { name: s.name } : {}),
    kind: s.kind,
    needs: s.needs,
    ...(s.stage ? { stage: s.stage } : {}),
    level: level.get(s.id) ?? 0,
    instances: matrixInstances(byId.get(s.id)!),
  }));
  return { workflow: w.name, ...(w.definition.concurrency ? { concurrency: w.definition.concurrency } : {}), steps, levels };
}

/** The plan as text, for the CLI and the editor's "Show Execution Plan". */
export function formatPlan(plan: Plan): string {
  const lines = [`Workflow: ${plan.workflow}`, `${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'} in ${plan.levels.length} level${plan.levels.length === 1 ? '' : 's'}${plan.concurrency ? `, at most ${plan.concurrency} at once` : ''}`, ''];
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  plan.levels.forEach((ids, i) => {
    lines.push(`Level ${i + 1}${ids.length > 1 ? ` (${ids.length} in parallel)` : ''}:`);
    for (const id of ids) {
      const s = byId.get(id)!;
      const needs = s.needs.length ? `  ← needs ${s.needs.join(', ')}` : '';
      lines.push(`  ${s.id} [${s.kind}]${s.name ? ` ${s.name}` : ''}${needs}`);
      for (const inst of s.instances) lines.push(`    · ${inst}`);
    }
  });
  return lines.join('\n');
}
