/**
 * What a session's steps came to, in words, for every place that shows it: the editor's Sessions
 * row and status bar, and `orchestrator list` / `run`. One function, so they all say the same:
 * `1/3 done · 1 failed · 1 cancelled`. Plain data only (the client bundles this module).
 */
import type { StepStatus } from '../engine/types';

/** How many steps (instances) have each status. */
export type StepCounts = Record<StepStatus, number>;

/** The order the non-done statuses are listed in, and their words. */
const LISTED: readonly [StepStatus, string][] = [
  ['failed', 'failed'],
  ['timed_out', 'timed out'],
  ['cancelled', 'cancelled'],
  ['skipped', 'skipped'],
  ['running', 'running'],
  ['waiting', 'waiting'],
  ['pending', 'pending'],
];

export function emptyCounts(): StepCounts {
  return { pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0, timed_out: 0, waiting: 0 };
}

export function countSteps(steps: Iterable<{ status: StepStatus }>): StepCounts {
  const c = emptyCounts();
  for (const s of steps) c[s.status] = (c[s.status] ?? 0) + 1;
  return c;
}

/** The sum of several sessions' counts (the status bar's total over live sessions). */
export function addCounts(all: readonly StepCounts[]): StepCounts {
  const c = emptyCounts();
  for (const x of all) for (const k of Object.keys(c) as StepStatus[]) c[k] += x[k] ?? 0;
  return c;
}

/**
 * `1/3 done · 1 failed · 1 cancelled`: the steps that succeeded out of all, then every other
 * outcome that occurred. Pending steps are named only when nothing runs any more (`atRest`): in a
 * live session they are simply the ones still to come; a step still `running` in a session at rest
 * is `interrupted` (its runner stopped). `steps: true` says `1/3 steps done`.
 */
export function stepsText(counts: StepCounts, total: number, opts: { atRest?: boolean; steps?: boolean } = {}): string {
  const parts = [`${counts.succeeded ?? 0}/${total} ${opts.steps ? 'steps ' : ''}done`];
  for (const [status, word] of LISTED) {
    const n = counts[status] ?? 0;
    if (!n || (status === 'pending' && !opts.atRest)) continue;
    // A step still `running` in a session at rest is one whose runner stopped under it.
    parts.push(`${n} ${status === 'running' && opts.atRest ? 'interrupted' : word}`);
  }
  return parts.join(' · ');
}

/** A session's status as shown: `pausing` while a pause waits for running steps, `timed out`... */
export function statusText(s: { status: string; pausing?: boolean; damaged?: readonly unknown[] }): string {
  const text = s.pausing && s.status === 'running' ? 'pausing' : s.status.replace('_', ' ');
  return s.damaged?.length ? `${text} (damaged log)` : text;
}
