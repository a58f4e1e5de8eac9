/**
 * The step graph of a workflow, on the tree: the `steps` form as written, and the `pipeline`
 * form compiled to steps exactly as workflow-format.md says (each stage needs the whole previous
 * stage unless it states `needs`; a `parallel` stage becomes one step per item; a stage without
 * it becomes one step whose id is the stage name). Tolerant of invalid input: it takes what it
 * can, so the semantic checks run on a file with schema errors too.
 *
 * Decisions where the spec is silent (docs/workflow-language.md):
 * - `needs` of a stage may name a step id or a stage; a stage name stands for all of its steps.
 * - An item of a `parallel` stage uses its own `needs`, else the stage's `needs`, else the
 *   whole previous stage.
 */
import { get, pairOf, type PathSegment, type YMap, type YNode, type YScalar } from './yamlTree';

export interface NeedRef {
  readonly id: string;
  /** The node naming the need; for an implicit pipeline need, the stage name that implies it. */
  readonly node: YScalar;
  readonly implicit: boolean;
}

export interface StepSource {
  readonly id: string | undefined;
  /** The id value (`id:` of a step or item, `stage:` of a single-step stage). */
  readonly idNode: YScalar | undefined;
  /** The map that holds the step's keys. */
  readonly node: YMap;
  readonly path: readonly PathSegment[];
  readonly needs: readonly NeedRef[];
  /** Stage name for pipeline steps. */
  readonly stage?: string;
}

export interface StageSource {
  readonly name: string | undefined;
  readonly nameNode: YScalar | undefined;
  readonly node: YMap;
  readonly steps: readonly StepSource[];
  readonly parallel: boolean;
}

export interface StepGraph {
  readonly form: 'steps' | 'pipeline' | 'none';
  readonly steps: readonly StepSource[];
  readonly stages: readonly StageSource[];
}

function str(n: YNode | null | undefined): YScalar | undefined {
  return n && n.kind === 'scalar' && typeof n.value === 'string' ? n : undefined;
}

/** `needs: a` or `needs: [a, b]` as scalars naming steps. */
export function needNodes(step: YMap): YScalar[] {
  const v = get(step, 'needs');
  if (!v) return [];
  if (v.kind === 'scalar') return str(v) ? [v] : [];
  if (v.kind === 'seq') return v.items.map(str).filter((x): x is YScalar => !!x);
  return [];
}

export function buildGraph(root: YNode | null): StepGraph {
  if (!root || root.kind !== 'map') return { form: 'none', steps: [], stages: [] };
  const stepsNode = get(root, 'steps');
  if (stepsNode && stepsNode.kind === 'seq') {
    const steps: StepSource[] = [];
    stepsNode.items.forEach((item, i) => {
      if (!item || item.kind !== 'map') return;
      const idNode = str(get(item, 'id'));
      steps.push({ id: idNode?.value as string | undefined, idNode, node: item, path: ['steps', i], needs: needNodes(item).map((n) => ({ id: n.value as string, node: n, implicit: false })) });
    });
    return { form: 'steps', steps, stages: [] };
  }
  const pipeline = get(root, 'pipeline');
  if (pipeline && pipeline.kind === 'seq' && !pairOf(root, 'steps')) return compilePipeline(pipeline.items);
  return { form: 'none', steps: [], stages: [] };
}

function compilePipeline(items: readonly (YNode | null)[]): StepGraph {
  // First pass: stage names and their step ids, so `needs` may name a later or earlier stage.
  interface Pending { node: YMap; index: number; nameNode: YScalar | undefined; items: { node: YMap; index: number }[] | null }
  const pending: Pending[] = [];
  items.forEach((item, index) => {
    if (!item || item.kind !== 'map') return;
    const par = get(item, 'parallel');
    const parItems = par && par.kind === 'seq' ? par.items.flatMap((p, j) => (p && p.kind === 'map' ? [{ node: p, index: j }] : [])) : null;
    pending.push({ node: item, index, nameNode: str(get(item, 'stage')), items: parItems });
  });
  const stageIds = new Map<string, string[]>();
  for (const p of pending) {
    if (!p.nameNode) continue;
    const ids = p.items ? p.items.map((it) => str(get(it.node, 'id'))?.value as string | undefined).filter((x): x is string => !!x) : [p.nameNode.value as string];
    if (!stageIds.has(p.nameNode.value as string)) stageIds.set(p.nameNode.value as string, ids);
  }
  const stepIds = new Set<string>();
  for (const ids of stageIds.values()) for (const id of ids) stepIds.add(id);
  const expand = (refs: YScalar[]): NeedRef[] =>
    refs.flatMap((n) => {
      const name = n.value as string;
      const group = !stepIds.has(name) ? stageIds.get(name) : undefined;
      return group ? group.map((id) => ({ id, node: n, implicit: false })) : [{ id: name, node: n, implicit: false }];
    });

  const stages: StageSource[] = [];
  const steps: StepSource[] = [];
  let previous: { ids: string[]; nameNode: YScalar | undefined } | undefined;
  for (const p of pending) {
    const stageName = p.nameNode?.value as string | undefined;
    const stageNeeds = pairOf(p.node, 'needs') ? expand(needNodes(p.node)) : undefined;
    const implicit = (): NeedRef[] =>
      previous && p.nameNode ? previous.ids.map((id) => ({ id, node: p.nameNode as YScalar, implicit: true })) : [];
    const stageSteps: StepSource[] = [];
    if (p.items) {
      for (const it of p.items) {
        const idNode = str(get(it.node, 'id'));
        const needs = pairOf(it.node, 'needs') ? expand(needNodes(it.node)) : stageNeeds ?? implicit();
        stageSteps.push({ id: idNode?.value as string | undefined, idNode, node: it.node, path: ['pipeline', p.index, 'parallel', it.index], needs, stage: stageName });
      }
    } else {
      stageSteps.push({ id: stageName, idNode: p.nameNode, node: p.node, path: ['pipeline', p.index], needs: stageNeeds ?? implicit(), stage: stageName });
    }
    for (const st of stageSteps) steps.push(st);
    stages.push({ name: stageName, nameNode: p.nameNode, node: p.node, steps: stageSteps, parallel: !!p.items });
    previous = { ids: stageSteps.map((s) => s.id).filter((x): x is string => !!x), nameNode: p.nameNode };
  }
  return { form: 'pipeline', steps, stages };
}
