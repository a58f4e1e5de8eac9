/**
 * The DAG picture of a workflow ("Show Execution Plan") or of a session ("Show Graph"): nodes with
 * their status, as plain data for the graph webview (media/graph.js), laid out by graphLayout.ts.
 */
import { layoutGraph } from './graphLayout';
import type { CompiledWorkflow, Plan, StepKind } from './plan';

export { layoutGraph, nodeWidth, NODE_HEIGHT } from './graphLayout';

/** Same values as the engine's StepStatus (engine/types.ts); workflow/ does not import engine/. */
export const GRAPH_STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'timed_out', 'waiting'] as const;
export type GraphStepStatus = (typeof GRAPH_STEP_STATUSES)[number];
/** 'planned' for a workflow file's plan (nothing ran); a step status for a session. */
export const GRAPH_STATUSES = ['planned', ...GRAPH_STEP_STATUSES] as const;
export type GraphStatus = (typeof GRAPH_STATUSES)[number];

export interface GraphNode {
  /** Step instance id (a matrix instance is `id[k=v,...]`). */
  id: string;
  /** The workflow step it belongs to (differs from id for matrix instances). */
  stepId: string;
  label: string;
  kind: StepKind;
  stage?: string;
  level: number;
  status: GraphStatus;
  /** Attempts started so far (sessions only, when started). */
  attempt?: number;
  stuck?: boolean;
  /** finishedAt - startedAt, when both are known. */
  durationMs?: number;
  /** Top-left corner and size, in SVG user units. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphPoint {
  x: number;
  y: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Polyline from the right side of `from` to the left side of `to` (at least two points). */
  points: GraphPoint[];
}

export interface GraphDto {
  title: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

/** A node before layout. */
export type GraphNodeInput = Omit<GraphNode, 'level' | 'x' | 'y' | 'width' | 'height'>;

export interface GraphEdgeInput {
  from: string;
  to: string;
}

export interface LayoutOptions {
  /** Barycenter iterations (each one down and one up sweep). 0 keeps the input order. Default 4. */
  sweeps?: number;
}

/** What graphOfSession needs of a step instance's state (engine StepState fits). */
export interface GraphStepState {
  stepId: string;
  status: GraphStepStatus;
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  stuck?: boolean;
}

/** host/extension → webview. */
export interface GraphMessage {
  type: 'graph';
  graph: GraphDto;
}
/** webview → extension: `ready` once its script runs; `openStep` when a node is clicked or Enter is pressed on it. */
export type GraphWebviewMessage = { type: 'ready' } | { type: 'openStep'; step: string; stepId: string };

function instanceLabel(name: string | undefined, stepId: string, instance: string): string {
  if (!name) return instance;
  return instance.startsWith(stepId) ? name + instance.slice(stepId.length) : name;
}

/** The plan of a workflow file: every node 'planned', one node per matrix instance. */
export function graphOfPlan(plan: Plan, title: string = plan.workflow, options?: LayoutOptions): GraphDto {
  const instancesOf = new Map(plan.steps.map((s) => [s.id, s.instances.length ? s.instances : [s.id]]));
  const nodes: GraphNodeInput[] = [];
  const edges: GraphEdgeInput[] = [];
  for (const s of plan.steps) {
    for (const inst of instancesOf.get(s.id)!) {
      nodes.push({ id: inst, stepId: s.id, label: instanceLabel(s.name, s.id, inst), kind: s.kind, ...(s.stage ? { stage: s.stage } : {}), status: 'planned' });
      for (const need of s.needs) for (const from of instancesOf.get(need) ?? []) edges.push({ from, to: inst });
    }
  }
  return layoutGraph(title, nodes, edges, options);
}

function duration(startedAt: string | undefined, finishedAt: string | undefined): number | undefined {
  if (!startedAt || !finishedAt) return undefined;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/**
 * A session: one node per step instance in `order`, coloured by its status. An instance of step S
 * needs every instance of each step in S.needs.
 */
export function graphOfSession(
  compiled: CompiledWorkflow,
  order: string[],
  steps: Record<string, GraphStepState>,
  title: string,
  options?: LayoutOptions,
): GraphDto {
  const defs = new Map(compiled.steps.map((s) => [s.id, s]));
  const stepIdOf = (id: string) => steps[id]?.stepId ?? (defs.has(id) ? id : id.replace(/\[.*$/s, ''));
  const instancesOf = new Map<string, string[]>();
  for (const id of order) {
    const sid = stepIdOf(id);
    const list = instancesOf.get(sid);
    if (list) list.push(id);
    else instancesOf.set(sid, [id]);
  }
  const nodes: GraphNodeInput[] = [];
  const edges: GraphEdgeInput[] = [];
  for (const id of order) {
    const st = steps[id] as GraphStepState | undefined;
    const sid = stepIdOf(id);
    const def = defs.get(sid);
    const durationMs = duration(st?.startedAt, st?.finishedAt);
    nodes.push({
      id,
      stepId: sid,
      label: instanceLabel(def?.name, sid, id),
      kind: def?.kind ?? 'run',
      ...(def?.stage ? { stage: def.stage } : {}),
      status: st?.status ?? 'pending',
      ...(st && st.attempt > 0 ? { attempt: st.attempt } : {}),
      ...(st?.stuck ? { stuck: true } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
    });
    for (const need of def?.needs ?? []) for (const from of instancesOf.get(need) ?? []) edges.push({ from, to: id });
  }
  return layoutGraph(title, nodes, edges, options);
}

/** Lays the graph out left to right (see the file comment). Unknown endpoints, self-loops and duplicate ids/edges are dropped. */
