/**
 * The custom messages between the extension (client) and the orchestrator host, in one place,
 * typed at both ends. Both sides import these constants; no call site uses a bare method string.
 * Each message says which way it flows. Positions in these messages are LSP's (0-based line and
 * UTF-16 character). Documented in docs/protocol.md (a test keeps the two in sync).
 */
import type { DefinitionCheck } from '../engine/definition';
import type { Finding, SessionState, StepState } from '../engine/types';
import type { StuckItem } from '../engine/stuck';
import type { SessionSummary } from '../store/sessionWatcher';
import type { GraphDto } from '../workflow/graph';
import { APPLY_MODES, type ApplyMode } from '../engine/workspace/applyModes';
import type { Discarded, FileAtCommit } from '../engine/workspace/inspect';
import type { CheckResult, DoctorReport, FixOutcome } from '../doctor/types';
import { InitRequest, ListSecretsRequest, SetSecretRequest, TestSecretRequest } from './setup';
import { PruneSessionsRequest } from './prune';

/**
 * A request's method name with its parameter and result types. Deliberately not vscode-jsonrpc's
 * RequestType class: the client and the host bundle different vscode-jsonrpc majors, and a
 * plain descriptor is typed at both ends without tying them to one version.
 */
export interface RequestDescriptor<P, R> {
  readonly method: string;
  /** Phantom field carrying the types; never set. */
  readonly __types?: { params: P; result: R };
}
export interface NotificationDescriptor<P> {
  readonly method: string;
  readonly __types?: { params: P };
}
export function request<P, R>(method: string): RequestDescriptor<P, R> {
  return { method };
}
export function notification<P>(method: string): NotificationDescriptor<P> {
  return { method };
}
export type ParamsOf<T> = T extends RequestDescriptor<infer P, unknown> ? P : T extends NotificationDescriptor<infer P> ? P : never;
export type ResultOf<T> = T extends RequestDescriptor<unknown, infer R> ? R : never;

export interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface WorkflowProblem {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  range: Range;
}

export interface ValidateParams {
  /** A file: URI. The open document's text is used when the editor has it open, else the file on disk. */
  uri: string;
}
export interface ValidateResult {
  uri: string;
  problems: WorkflowProblem[];
}

export interface PlanParams {
  uri: string;
}
export interface PlanStepDto {
  id: string;
  name?: string;
  kind: 'run' | 'agent' | 'uses' | 'approval';
  needs: string[];
  stage?: string;
  level: number;
  instances: string[];
}
export interface InputDeclaration {
  description?: string;
  default?: string | number | boolean | null;
  required?: boolean;
  type?: 'string' | 'number' | 'boolean';
  enum?: (string | number | boolean | null)[];
}
export type PlanResult =
  | { ok: true; workflow: string; concurrency?: number; steps: PlanStepDto[]; levels: string[][]; text: string; inputs: Record<string, InputDeclaration>; graph: GraphDto }
  | { ok: false; problems: WorkflowProblem[] };

/** client → host: validate one workflow file now (open or on disk) and return its problems. */
export const ValidateRequest = request<ValidateParams, ValidateResult>('orchestrator/validate');

/** client → host: the execution plan of a workflow (levels, what runs in parallel), or its problems. */
export const PlanRequest = request<PlanParams, PlanResult>('orchestrator/plan');

// ---- sessions ---------------------------------------------------------------------------------
// The types below are plain data shared with the engine (server/src/engine/types.ts).
export type { DefinitionCheck, Finding, GraphDto, SessionState, SessionSummary, StepState, StuckItem };
/** What a session's steps came to, in words (shared by the editor and the CLI). */
export { addCounts, countSteps, emptyCounts, statusText, stepsText, type StepCounts } from './summary';
export { spendText, type Spend } from '../engine/spend';
export { formatSize, parseSize } from '../config/sizes';

/** A session as the editor shows it: the state without the compiled workflow and raw findings. */
export type SessionDetail = Omit<SessionState, 'workflow' | 'rawFindings'> & {
  workflow: { name: string; file: string; hash: string };
  owner?: { pid: number; host: string };
};

export interface SessionRef {
  id: string;
}
export interface StepRef {
  id: string;
  step: string;
}

/** client → host: every session of the workspace, newest first (also those started from the CLI). */
export const ListSessionsRequest = request<Record<string, never>, SessionSummary[]>('orchestrator/sessions/list');
/** client → host: one session in full. */
export const GetSessionRequest = request<SessionRef, SessionDetail>('orchestrator/sessions/get');
/** client → host: start a session of a workflow file in a detached runner (it survives window reloads). */
export const StartSessionRequest = request<{ uri: string; inputs: Record<string, string> }, SessionRef>('orchestrator/sessions/start');
/**
 * How a resume treats a workflow file that changed since the session started: `reload` takes the
 * file as it is now (same step ids needed), `stored` keeps the session's definition. Without
 * either, a resume of a changed file is refused with a message saying so (ask first with
 * CheckDefinitionRequest).
 */
export interface DefinitionFlags {
  reload?: boolean;
  stored?: boolean;
}
/** client → host: has the session's workflow file changed since it started? (asked before a resume) */
export const CheckDefinitionRequest = request<SessionRef, DefinitionCheck>('orchestrator/sessions/checkDefinition');
/** client → host: resume a session at rest (optionally from a step; `reload`/`stored`: see DefinitionFlags). */
export const ResumeSessionRequest = request<{ id: string; from?: string } & DefinitionFlags, SessionRef>('orchestrator/sessions/resume');
/** client → host: let running steps finish and start nothing new. */
export const PauseSessionRequest = request<SessionRef, SessionSummary>('orchestrator/sessions/pause');
/** client → host: terminate running steps and stop the session. */
export const CancelSessionRequest = request<SessionRef, SessionSummary>('orchestrator/sessions/cancel');
/** client → host: run a step again (kill the running attempt; or resume the session from it). */
export const RetryStepRequest = request<StepRef & DefinitionFlags, SessionRef>('orchestrator/sessions/retryStep');
/** client → host: answer an approval. */
export const ApproveStepRequest = request<StepRef & { reason?: string }, SessionSummary>('orchestrator/sessions/approve');
export const RejectStepRequest = request<StepRef & { reason?: string }, SessionSummary>('orchestrator/sessions/reject');
/** client → host: a session's merged findings. */
export const FindingsRequest = request<SessionRef, Finding[]>('orchestrator/sessions/findings');
/** client → host: stuck steps and stale approvals across sessions. */
export const StuckRequest = request<Record<string, never>, StuckItem[]>('orchestrator/sessions/stuck');

/** client → host: a session's DAG, laid out, coloured by step status (for the graph webview). */
export const SessionGraphRequest = request<SessionRef, GraphDto>('orchestrator/sessions/graph');

export interface LogRef {
  id: string;
  step: string;
  /** An attempt (1-based); default the step's latest. */
  attempt?: number;
}
export interface LogText {
  id: string;
  step: string;
  /** The attempt this text belongs to (0 when the step has not started). */
  attempt: number;
  text: string;
  /** Set when only the tail of a long log is included (this many bytes left out at the start). */
  skippedBytes?: number;
}
/** client → host: a step's output so far, and from now on `logAppended` notifications until `unfollowLog`. */
export const FollowLogRequest = request<LogRef, LogText>('orchestrator/sessions/followLog');
export const UnfollowLogRequest = request<LogRef, null>('orchestrator/sessions/unfollowLog');

/** client → host: remove a session at rest from disk (refused while a runner owns it). */
export const DeleteSessionRequest = request<SessionRef, null>('orchestrator/sessions/delete');
/** client → host: write a session (state, log, step logs) to one portable JSON file. */
export const ExportSessionRequest = request<SessionRef & { file: string }, { file: string; bytes: number }>('orchestrator/sessions/export');
/** client → host: bring a snapshot file in as a session of this workspace. */
export const ImportSessionRequest = request<{ file: string }, SessionRef>('orchestrator/sessions/import');
/** client → host: prune sessions at rest (protocol/prune.ts). */
export * from './prune';

// ---- a session's git work (worktree steps, git/merge) -----------------------------------------
export type { Discarded, FileAtCommit };
export { APPLY_MODES, type ApplyMode };
export { hasOwnBranch, type SessionGit } from '../engine/workspace/sessionGit';

/** A file at one of the session's commits; `path` relative to the top of the git repository. */
export interface GitShowParams {
  id: string;
  commit: string;
  path: string;
}
export type ApplyResult = { ok: true; mode: ApplyMode; commit: string; branch?: string; changedFiles: string[] } | { ok: false; reason: string };

/** client → host: a file's text at the session's base or a step's commit (refused for other commits and paths outside the repository). */
export const GitShowRequest = request<GitShowParams, FileAtCommit>('orchestrator/git/show');
/** client → host: bring a step's commit into the user's repository, as `git/apply` does (a refusal is a result, not an error). */
export const GitApplyRequest = request<StepRef & { mode: ApplyMode }, ApplyResult>('orchestrator/git/apply');
/** client → host: delete a step's branch (and worktree); refused while the session's runner is live. */
export const GitDiscardRequest = request<StepRef, Discarded>('orchestrator/git/discard');

// ---- doctor (docs/doctor.md) ------------------------------------------------------------------
export type { CheckResult, DoctorReport, FixOutcome };
/** client → host: run every doctor check on the workspace's repository. */
export const DoctorRequest = request<Record<string, never>, DoctorReport>('orchestrator/doctor/run');
/** client → host: apply one fix by its action id, then check again (the outcome says what was done or why not). */
export const DoctorFixRequest = request<{ action: string }, { outcome: FixOutcome; report: DoctorReport }>('orchestrator/doctor/fix');

/** host → client: a session appeared or its summary changed. */
export const SessionChangedNotification = notification<SessionSummary>('orchestrator/sessionChanged');
/** host → client: steps of a live session changed (started, finished, retrying, waiting...). */
export const StepsChangedNotification = notification<{ id: string; steps: StepState[] }>('orchestrator/stepsChanged');
/** host → client: a step went silent for longer than its stuck_after (or an approval went stale). */
export const StepStuckNotification = notification<{ id: string; step: string; lastHeardAt: string }>('orchestrator/stepStuck');

/** host → client: more output of a followed step (`reset`: a new attempt began; replace the text). */
export const LogAppendedNotification = notification<LogText & { reset?: boolean }>('orchestrator/logAppended');
/** host → client: a session was deleted. */
export const SessionRemovedNotification = notification<SessionRef>('orchestrator/sessionRemoved');

// ---- setup: init and secrets (setup.ts) ---------------------------------------------------------
export * from './setup';

/** Every request and notification, for the documentation test. */
export const ALL_MESSAGES = {
  ValidateRequest,
  PlanRequest,
  ListSessionsRequest,
  GetSessionRequest,
  StartSessionRequest,
  CheckDefinitionRequest,
  ResumeSessionRequest,
  PauseSessionRequest,
  CancelSessionRequest,
  RetryStepRequest,
  ApproveStepRequest,
  RejectStepRequest,
  FindingsRequest,
  StuckRequest,
  SessionGraphRequest,
  FollowLogRequest,
  UnfollowLogRequest,
  DeleteSessionRequest,
  ExportSessionRequest,
  ImportSessionRequest,
  PruneSessionsRequest,
  GitShowRequest,
  GitApplyRequest,
  GitDiscardRequest,
  DoctorRequest,
  DoctorFixRequest,
  InitRequest,
  ListSecretsRequest,
  SetSecretRequest,
  TestSecretRequest,
  SessionChangedNotification,
  LogAppendedNotification,
  SessionRemovedNotification,
  StepsChangedNotification,
  StepStuckNotification,
} as const;

/** The command the "Run workflow" code lens invokes (registered by the extension). */
export const RUN_WORKFLOW_COMMAND = 'orchestrator.runWorkflow';
export const SHOW_PLAN_COMMAND = 'orchestrator.showPlan';
