/**
 * A step's `retry:` (or the workflow's `defaults.retry`): how many attempts, and the delay before
 * the next one: `backoff` × `factor`^(attempt − 1), at most `max_backoff` (workflow-format.md).
 */
import { parseDuration } from '../workflow/durations';
import type { CompiledStep } from '../workflow/plan';
import type { StepOutcome } from './steps/executeStep';

export type RetryPolicy = NonNullable<CompiledStep['retry']>;

export function maxAttempts(policy: RetryPolicy | undefined): number {
  return Math.max(1, policy?.max_attempts ?? 1);
}

/** The delay (ms) before the attempt after `attempt` (1-based). */
export function retryDelay(policy: RetryPolicy | undefined, attempt: number): number {
  const base = parseDuration(policy?.backoff) ?? 1000;
  const factor = policy?.factor ?? 2;
  const cap = parseDuration(policy?.max_backoff) ?? Number.POSITIVE_INFINITY;
  return Math.min(base * Math.pow(factor, attempt - 1), cap);
}

/** What follows an attempt: another one (at once on request, else after the policy's delay), or the step's end with its event data. */
export type AttemptEnd =
  | { readonly kind: 'retry'; readonly now: boolean; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'finish'; readonly status: StepOutcome['status'] | 'cancelled'; readonly data: Record<string, unknown> };

/**
 * Decides after an attempt ends. `retryNow`: a retry was asked for while it ran (it counts as an
 * attempt); `cancelled`: the session is being cancelled (what did not succeed ends cancelled);
 * `pausing`: a pause was asked for (no further attempt starts).
 */
export function attemptEnd(outcome: StepOutcome, o: { attempt: number; policy: RetryPolicy | undefined; retryNow: boolean; cancelled: boolean; pausing: boolean }): AttemptEnd {
  const status = o.cancelled && outcome.status !== 'succeeded' ? 'cancelled' : outcome.status;
  if (o.retryNow && !o.cancelled) return { kind: 'retry', now: true, delayMs: 0, reason: 'retried on request' };
  const max = maxAttempts(o.policy);
  const retryable = (status === 'failed' || status === 'timed_out') && !o.cancelled && outcome.retryable !== false;
  if (retryable && o.attempt < max && !o.pausing) {
    const delay = retryDelay(o.policy, o.attempt);
    return { kind: 'retry', now: false, delayMs: delay, reason: `attempt ${o.attempt} of ${max} ${status}${outcome.reason ? `: ${outcome.reason}` : ''}; retrying in ${Math.round(delay)} ms` };
  }
  const reason = outcome.reason ?? (o.retryNow ? 'retried on request' : undefined);
  const data = {
    status,
    ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
    ...(reason ? { reason } : {}),
    outputs: outcome.outputs,
    ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}),
    ...(outcome.agent ? { agent: outcome.agent } : {}),
  };
  return { kind: 'finish', status, data };
}
