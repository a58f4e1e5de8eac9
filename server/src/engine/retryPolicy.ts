/**
 * A step's `retry:` (or the workflow's `defaults.retry`): how many attempts, and the delay before
 * the next one: `backoff` × `factor`^(attempt − 1), at most `max_backoff` (workflow-format.md).
 */
import { parseDuration } from '../workflow/durations';
import type { CompiledStep } from '../workflow/plan';

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
