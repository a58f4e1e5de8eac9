/**
 * The session state as a pure function of its events: state.json is a snapshot of this, and can
 * always be rebuilt from log.jsonl alone (sessions.md).
 */
import type { CompiledWorkflow } from '../workflow/plan';
import { mergeFindings } from './findings/merge';
import { addSpend, noSpend, spendOf } from './spend';
import { isAtRest, isStepDone, text, type RawFinding, type ReplayInfo, type SessionEvent, type SessionState, type SessionStatus, type StepState, type StepStatus } from './types';

export interface StartedData {
  workflow: { name: string; file: string; hash: string; compiled: CompiledWorkflow };
  inputs: Record<string, string | number | boolean>;
  /** Step instances in order, with the workflow step each belongs to. */
  instances: { id: string; stepId: string }[];
  /** A replay session: what it replays. */
  replay?: ReplayInfo;
  /** HEAD's commit at start, when the workflow uses worktrees. */
  base?: string;
}

function newStep(id: string, stepId: string): StepState {
  return { id, stepId, status: 'pending', attempt: 0, outputs: {}, findings: 0 };
}

export function initialState(e: SessionEvent): SessionState {
  const d = e.data as unknown as StartedData;
  const steps: Record<string, StepState> = {};
  for (const i of d.instances) steps[i.id] = newStep(i.id, i.stepId);
  return {
    id: e.session,
    workflow: d.workflow,
    inputs: d.inputs,
    ...(d.base ? { base: d.base } : {}),
    status: 'running',
    startedAt: e.time,
    updatedAt: e.time,
    steps,
    order: d.instances.map((i) => i.id),
    findings: [],
    rawFindings: [],
    seq: e.seq,
    controlApplied: 0,
    ...(d.replay ? { replay: d.replay } : {}),
  };
}

/** Applies one event (mutating and returning state). Unknown steps are ignored, never a crash. */
export function applyEvent(state: SessionState, e: SessionEvent): SessionState {
  if (e.seq <= state.seq && e.type !== 'session.started') return state; // already applied
  state.seq = e.seq;
  state.updatedAt = e.time;
  const data = e.data ?? {};
  if (typeof data.control === 'number') state.controlApplied = Math.max(state.controlApplied, data.control);
  const step = e.step ? state.steps[e.step] : undefined;
  const before = step?.status;
  switch (e.type) {
    case 'session.started':
      break;
    case 'step.started':
      if (step) {
        step.status = 'running';
        step.attempt = e.attempt ?? step.attempt + 1;
        step.startedAt = e.time;
        step.lastHeardAt = e.time;
        step.stuck = false;
        delete step.finishedAt;
        delete step.reason;
        delete step.exitCode;
      }
      break;
    case 'step.output':
    case 'step.heartbeat':
      if (step) {
        step.lastHeardAt = e.time;
        step.stuck = false;
      }
      break;
    case 'step.finding':
      if (step && data.finding) {
        state.rawFindings.push(data.finding as RawFinding);
        step.findings++;
      }
      break;
    case 'step.finished':
      if (step) {
        step.status = data.status as StepStatus;
        step.finishedAt = e.time;
        step.stuck = false;
        if (data.exitCode !== undefined) step.exitCode = data.exitCode as number | null;
        if (typeof data.reason === 'string') step.reason = data.reason;
        else delete step.reason;
        if (data.outputs) step.outputs = data.outputs as Record<string, string>;
        if (data.agent) step.agent = data.agent as StepState['agent'];
        addSpent(state, step, data.agent);
      }
      break;
    case 'step.retrying':
      if (step) {
        addSpent(state, step, data.agent);
        step.status = 'pending';
        step.reason = typeof data.reason === 'string' ? data.reason : 'retrying';
      }
      break;
    case 'step.stuck':
      if (step) {
        step.stuck = true;
        if (typeof data.lastHeardAt === 'string') step.lastHeardAt = data.lastHeardAt;
      }
      break;
    case 'approval.requested':
      if (step) {
        step.status = 'waiting';
        step.approval = { question: text(data.question) };
        step.lastHeardAt = e.time;
      }
      break;
    case 'approval.answered':
      if (step && step.approval) {
        step.approval = { ...step.approval, answer: data.answer as 'approved' | 'rejected', at: e.time, ...(typeof data.by === 'string' ? { by: data.by } : {}), ...(typeof data.reason === 'string' ? { reason: data.reason } : {}) };
      }
      break;
    case 'session.paused':
      state.status = 'paused';
      if (typeof data.reason === 'string') state.reason = data.reason;
      break;
    case 'session.resumed': {
      state.status = 'running';
      delete state.finishedAt;
      delete state.reason;
      if (data.workflow) state.workflow = data.workflow as SessionState['workflow'];
      if (Array.isArray(data.instances)) {
        // --reload: the step list may have gained or lost instances.
        const steps: Record<string, StepState> = {};
        for (const i of data.instances as { id: string; stepId: string }[]) steps[i.id] = state.steps[i.id] ?? newStep(i.id, i.stepId);
        state.steps = steps;
        state.order = (data.instances as { id: string }[]).map((i) => i.id);
      }
      for (const id of (data.reset as string[] | undefined) ?? []) {
        const s = state.steps[id];
        if (!s) continue;
        const attempt = s.attempt;
        state.steps[id] = { ...newStep(id, s.stepId), attempt };
        state.rawFindings = state.rawFindings.filter((f) => f.step !== id);
      }
      break;
    }
    case 'session.finished':
      if (data.decisions) state.decisions = data.decisions as SessionState['decisions'];
      state.status = data.status as SessionStatus;
      state.finishedAt = e.time;
      if (typeof data.reason === 'string') state.reason = data.reason;
      for (const s of Object.values(state.steps)) s.stuck = false;
      break;
  }
  if (e.type === 'session.resumed') counts.delete(state); // steps were replaced: count again
  else if (step) track(state, before, step.status);
  if (!isAtRest(state.status)) state.status = liveStatus(state);
  return state;
}

/** An attempt's agent record adds to the step's, its agent's and the session's spend. */
function addSpent(state: SessionState, step: StepState, agent: unknown): void {
  if (!agent || typeof agent !== 'object') return;
  const a = agent as NonNullable<StepState['agent']>;
  const s = spendOf(a);
  step.spent = addSpend(step.spent, s);
  const spent = (state.spent ??= { total: noSpend(), agents: {} });
  spent.total = addSpend(spent.total, s);
  if (a.agent) spent.agents[a.agent] = addSpend(spent.agents[a.agent], s);
}

/**
 * How many steps run and wait, per state object, kept up to date by applyEvent (so deriving
 * the live status is O(1) per event, not a scan of every step).
 */
const counts = new WeakMap<SessionState, { running: number; waiting: number }>();

function countsOf(state: SessionState): { running: number; waiting: number } {
  let c = counts.get(state);
  if (!c) {
    c = { running: 0, waiting: 0 };
    for (const s of Object.values(state.steps)) {
      if (s.status === 'running') c.running++;
      else if (s.status === 'waiting') c.waiting++;
    }
    counts.set(state, c);
  }
  return c;
}

function track(state: SessionState, before: StepStatus | undefined, after: StepStatus | undefined): void {
  const c = counts.get(state);
  if (!c || before === after) return;
  if (before === 'running') c.running--;
  else if (before === 'waiting') c.waiting--;
  if (after === 'running') c.running++;
  else if (after === 'waiting') c.waiting++;
}

/** A live session is `waiting` while an approval is open and nothing runs. */
function liveStatus(state: SessionState): SessionStatus {
  const c = countsOf(state);
  return c.running > 0 ? 'running' : c.waiting > 0 ? 'waiting' : 'running';
}

/** Recomputes the merged findings from the raw ones. */
export function finalize(state: SessionState): SessionState {
  state.findings = mergeFindings(state.rawFindings, state.workflow.compiled.definition.negotiate ?? 'highest-severity', state.decisions ?? {});
  return state;
}

/** The state from a full list of events (the first must be session.started). */
export function rebuild(events: SessionEvent[]): SessionState | undefined {
  const start = events.findIndex((e) => e.type === 'session.started');
  if (start === -1) return undefined;
  let state = initialState(events[start]);
  for (const e of events.slice(start + 1)) state = applyEvent(state, e);
  return finalize(state);
}

export function progress(state: SessionState): { done: number; total: number } {
  let done = 0;
  for (const s of Object.values(state.steps)) if (isStepDone(s.status)) done++;
  return { done, total: state.order.length };
}
