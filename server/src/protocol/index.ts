/**
 * The custom messages between the extension (client) and the orchestrator host, in one place,
 * typed at both ends. Both sides import these constants; no call site uses a bare method string.
 * Each message says which way it flows. Positions in these messages are LSP's (0-based line and
 * UTF-16 character). Documented in docs/protocol.md (a test keeps the two in sync).
 */

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
export type PlanResult =
  | { ok: true; workflow: string; concurrency?: number; steps: PlanStepDto[]; levels: string[][]; text: string }
  | { ok: false; problems: WorkflowProblem[] };

/** client → host: validate one workflow file now (open or on disk) and return its problems. */
export const ValidateRequest = request<ValidateParams, ValidateResult>('orchestrator/validate');

/** client → host: the execution plan of a workflow (levels, what runs in parallel), or its problems. */
export const PlanRequest = request<PlanParams, PlanResult>('orchestrator/plan');

/** Every request and notification, for the documentation test. */
export const ALL_MESSAGES = { ValidateRequest, PlanRequest } as const;

/** The command the "Run workflow" code lens invokes (registered by the extension). */
export const RUN_WORKFLOW_COMMAND = 'orchestrator.runWorkflow';
export const SHOW_PLAN_COMMAND = 'orchestrator.showPlan';
