import type { CompiledWorkflow } from '../workflow/plan';
import type { Spend } from './spend';

/**
 * The engine's data: statuses, events, findings and the session snapshot. Plain data only, so it
 * can be persisted, sent over the protocol and rebuilt from the event log (sessions.md).
 */

export const SESSION_STATUSES = ['running', 'paused', 'waiting', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'timed_out', 'waiting'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Statuses at rest: no runner is needed (all but running and waiting). */
export function isAtRest(s: SessionStatus): boolean {
  return s !== 'running' && s !== 'waiting';
}
/** Every status but succeeded can be resumed. */
export function isResumable(s: SessionStatus): boolean {
  return isAtRest(s) && s !== 'succeeded';
}
export function isStepDone(s: StepStatus): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'skipped' || s === 'cancelled' || s === 'timed_out';
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type FindingSeverity = (typeof SEVERITIES)[number];

/** One finding as reported by one step (before merging). */
export interface RawFinding {
  severity: FindingSeverity;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  end_line?: number;
  rule?: string;
  /** The step (instance id) that reported it. */
  step: string;
  /** The reporter's verdict on a known problem: it is fixed, or it is a false positive. */
  verdict?: Verdict;
  /** How it was reported: 'annotation' (::finding line), 'jsonl' ($ORCHESTRATOR_FINDINGS), 'sarif' (a SARIF file; the tool's name after a colon, e.g. 'sarif:ESLint'), 'agent'. */
  source: string;
}

export const VERDICTS = ['fixed', 'false-positive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** How disputed findings are settled (workflow `negotiate:`). */
export type NegotiationPolicy = 'highest-severity' | 'majority' | { agent: string };

/** The settlement of a disputed finding. */
export interface Decision {
  policy: 'highest-severity' | 'majority' | 'agent';
  severity: FindingSeverity;
  status: 'open' | 'dismissed';
  reason: string;
  /** The arbiter agent, for the agent policy. */
  by?: string;
}

/** A finding after merging identical (file, line, rule) findings across steps. */
export interface Finding extends RawFinding {
  /** Stable id: a hash of (file, line, rule) for located findings, else of (step, message). */
  id: string;
  /** Every report merged into this one (the first is the finding itself). */
  sources: { step: string; source: string; severity: FindingSeverity; message: string; verdict?: Verdict }[];
  /** Set when the merged reports disagree on severity (how it was resolved is in `resolution`). */
  conflict?: { severities: FindingSeverity[]; resolution: string };
  /** `dismissed` when the negotiation decided the problem is fixed or not real. Default open. */
  status?: 'open' | 'dismissed';
  /** Set for disputed findings (severities differ, or some reporter says fixed / false positive). */
  decision?: Decision;
}

export interface StepState {
  /** Instance id (a matrix instance is `id[k=v,...]`). */
  id: string;
  /** The workflow step id (differs from id for matrix instances). */
  stepId: string;
  status: StepStatus;
  /** Attempts started so far (1-based once started). */
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  /** Exit code of the last attempt, when a process ran. */
  exitCode?: number | null;
  /** Why the step failed/was skipped/cancelled, in words. */
  reason?: string;
  outputs: Record<string, string>;
  /** Number of findings this step reported. */
  findings: number;
  /** ISO time it was last heard from (output or heartbeat) while running. */
  lastHeardAt?: string;
  stuck?: boolean;
  /** Agent steps: the provider and model that answered, token usage and cost when reported, turns and tool calls (CLI agents), duration. */
  agent?: {
    provider: string;
    model?: string;
    usage?: { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number; costUsd?: number; cacheReadInInput?: boolean };
    turns?: number;
    toolCalls?: number;
    durationMs: number;
    /** The workflow's agent (budgets per agent). */
    agent?: string;
    /** What the call cost: from `prices:` when the model has one, else the tool's own figure. */
    cost?: { usd: number; from: 'prices' | 'tool' };
    /** The usage is our count as it streamed (the call was stopped before the provider's own). */
    estimated?: boolean;
  };
  /** Agent steps: what all attempts spent (spend.ts). */
  spent?: Spend;
  /** Approval steps: the question, and the answer once given. */
  approval?: { question: string; answer?: 'approved' | 'rejected'; by?: string; reason?: string; at?: string };
}

export interface SessionState {
  id: string;
  /** The workflow as compiled when the session started (or was reloaded), with its file's hash. */
  workflow: { name: string; file: string; hash: string; compiled: CompiledWorkflow };
  inputs: Record<string, string | number | boolean>;
  /** HEAD's commit when the session started, recorded when the workflow uses worktrees (workspace/). */
  base?: string;
  status: SessionStatus;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Why the session ended as it did, in words. */
  reason?: string;
  steps: Record<string, StepState>;
  /** Order of step instances as compiled (for display). */
  order: string[];
  /** Merged findings (see merge.ts), recomputed from rawFindings. */
  findings: Finding[];
  rawFindings: RawFinding[];
  /** The last event applied. */
  seq: number;
  /** Control commands (control.jsonl) already applied, by count. */
  controlApplied: number;
  /** What agent calls spent, in all and per agent (spend.ts); kept across resumes. */
  spent?: { total: Spend; agents: Record<string, Spend> };
  /** An arbiter agent's decisions on disputed findings, by finding id (negotiate: { agent }). */
  decisions?: Record<string, Decision>;
  /** Lines of log.jsonl that could not be read (store/logDamage.ts); absent when the log is whole. */
  damaged?: LogDamage[];
  /** A replay (`orchestrator replay`): agent calls are answered from another session's transcripts. */
  replay?: ReplayInfo;
}

/** What a replay session replays (recorded in its session.started event, so resume keeps replaying). */
export interface ReplayInfo {
  /** The id of the recorded session. */
  of: string;
  /** Its folder, relative to the repository root (`.orchestrator/sessions/<id>`, or a shipped recording). */
  from: string;
  /** Calls the recording cannot answer (a prompt that differs) go to the real provider. */
  live?: boolean;
}

/** A line of log.jsonl that holds no readable event (not a torn last line, which is ignored). */
export interface LogDamage {
  /** 1-based line number in log.jsonl. */
  line: number;
  /** What was lost, in words: "event 7: step.finished of step a". */
  lost: string;
  /** The lost event's seq, type and step, as far as they can be told. */
  seq?: number;
  type?: string;
  step?: string;
}

export const EVENT_TYPES = [
  'session.started',
  'step.started',
  'step.output',
  'step.heartbeat',
  'step.finding',
  'step.finished',
  'step.retrying',
  'step.stuck',
  'approval.requested',
  'approval.answered',
  'session.paused',
  'session.resumed',
  'session.finished',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One line of log.jsonl. */
export interface SessionEvent {
  /** The first event only: the log's state format and the release that wrote it (store/formatVersion.ts). */
  v?: number;
  by?: string;
  seq: number;
  time: string;
  type: EventType;
  session: string;
  step?: string;
  attempt?: number;
  data?: Record<string, unknown>;
}

/** Event data values as text (strings as they are, anything else as JSON). */
export function text(v: unknown, fallback = ''): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
