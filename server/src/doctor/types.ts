/**
 * `orchestrator doctor` (docs/doctor.md): what a check says and what a fix does. Plain data, so
 * the same report goes to the CLI (`--json`), the host and the editor's Doctor panel.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckFix {
  /** What to do, in words (a command to run when there is one). */
  description: string;
  /** The id of a fix doctor can apply itself (`orchestrator doctor --fix ID`, or the panel's button). */
  action?: string;
}

export interface CheckResult {
  /** Unique within a report: `<check>` or `<check>:<subject>` (a session id, a file, a provider). */
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: CheckFix;
}

export interface DoctorReport {
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  /** True when no check fails (the CLI then exits 0). */
  ok: boolean;
}

/** What applying one fix came to. */
export interface FixOutcome {
  action: string;
  ok: boolean;
  /** What was done, or why nothing was (one line). */
  message: string;
}

export interface DoctorOptions {
  readonly repoRoot: string;
  readonly homeDir: string;
  /** Where secrets come from (`ORCHESTRATOR_SECRET_*`); only names are read, never values. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Ask each provider's tool its `--version` (runs a program the repository's config may name:
   * the host turns it off in an untrusted workspace).
   */
  readonly probeTools: boolean;
  /** The CLI script a resume fix starts a detached runner with; without it, resume is only said. */
  readonly cli?: string;
}

/** A failure of a fix that the user can act on: its message says what to do. */
export class FixError extends Error {
  override readonly name = 'FixError';
}

export function result(id: string, title: string, status: CheckStatus, detail: string, fix?: CheckFix): CheckResult {
  return { id, title, status, detail, ...(fix ? { fix } : {}) };
}

/** `1 session`, `2 sessions`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
