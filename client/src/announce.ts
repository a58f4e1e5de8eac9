/**
 * What the editor says about sessions, and where: the status bar item's text, and for each
 * session that ends whether it is a toast (it needs the user: a failure, an interruption) or a
 * status bar message (it does not: a success, a cancel). Plain data, no VS Code types (status.ts
 * shows it), so it is tested without an editor.
 *
 * Toasts and repeats: VS Code cannot close a toast from an extension, and it treats a new toast
 * identical to an open one (same text and buttons) as the same notification: a session that fails
 * again the same way would raise nothing new. So a session's end toast says when it ended and,
 * from the second time on, how many times it ended so (`failed again (2nd time) at 10:32:05`):
 * each is visibly new, and the old one's buttons still act on the session as it is then.
 */
import { addCounts, statusText, stepsText, type SessionSummary } from './protocol';

const LIVE = (s: SessionSummary): boolean => s.status === 'running' || s.status === 'waiting';

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** Something needs the user (an approval, a stuck step): the warning background. */
  warning: boolean;
  accessibility: string;
}

/** The status bar item while sessions are live (undefined: hide it). */
export function statusBarView(sessions: readonly SessionSummary[], stuck: number): StatusBarView | undefined {
  const live = sessions.filter(LIVE);
  if (!live.length) return undefined;
  const waiting = live.filter((s) => s.status === 'waiting').length;
  const pausing = live.filter((s) => statusText(s) === 'pausing').length;
  const steps = stepsText(addCounts(live.map((s) => s.counts)), live.reduce((n, s) => n + s.total, 0));
  const who = live.length === 1 ? `${live[0].workflow}${pausing ? ' pausing' : ''}` : `${live.length} sessions${pausing ? ` (${pausing} pausing)` : ''}`;
  const icon = pausing === live.length ? '$(debug-pause)' : '$(sync~spin)';
  return {
    text: `${icon} ${who} · ${steps}${waiting ? ` $(bell) ${waiting}` : ''}${stuck ? ` $(warning) ${stuck}` : ''}`,
    tooltip: live.map((s) => `**${s.workflow}** \`${s.id}\` — ${statusText(s)}, ${stepsText(s.counts, s.total)}`).join('\n\n') + '\n\nClick to show the Sessions view.',
    warning: !!(stuck || waiting),
    accessibility: `Orchestrator: ${live.length} session(s) live${pausing ? `, ${pausing} pausing` : ''}, ${waiting} waiting for approval, ${stuck} stuck; steps ${steps}`,
  };
}

/**
 * Whether a change of a session's summary is a new end (or another transition) to announce. The
 * status alone is not enough: a resume that fails fast may reach this window only as failed →
 * failed (the host folds the running in between into one change), so a new `finishedAt` of a
 * session at rest counts as a new end too.
 */
export function isNewEnd(previous: SessionSummary, now: SessionSummary): boolean {
  if (previous.status !== now.status) return true;
  return !LIVE(now) && now.finishedAt !== undefined && now.finishedAt !== previous.finishedAt;
}

export type EndButton = 'Show Findings' | 'Show Graph' | 'Resume';

export type EndAnnouncement =
  | { where: 'toast'; severity: 'error' | 'warning'; message: string; buttons: EndButton[] }
  | { where: 'statusBar'; message: string };

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * How to announce a session that reached `s.status` (at rest). `nth`: how many times this window
 * has seen this session end so (1 the first time); `time`: when, as the user reads times.
 */
export function endAnnouncement(s: SessionSummary, nth: number, time: string): EndAnnouncement | undefined {
  const name = `${s.workflow} (${s.id})`;
  const steps = stepsText(s.counts, s.total, { atRest: true });
  const again = nth > 1 ? ` again (${ordinal(nth)} time)` : '';
  const reason = s.reason ? `: ${s.reason}` : '';
  switch (s.status) {
    case 'succeeded':
      return { where: 'statusBar', message: `$(pass) Orchestrator: ${name} succeeded — ${steps}${s.findings ? `, ${s.findings} finding(s)` : ''}` };
    case 'cancelled':
      return { where: 'statusBar', message: `$(circle-slash) Orchestrator: ${name} cancelled — ${steps}` };
    case 'paused':
      return { where: 'statusBar', message: `$(debug-pause) Orchestrator: ${name} paused — ${steps}` };
    case 'failed':
    case 'timed_out':
      return { where: 'toast', severity: 'error', message: `Orchestrator: ${name} ${s.status === 'failed' ? 'failed' : 'timed out'}${again} at ${time} — ${steps}${reason}.`, buttons: ['Show Graph', 'Resume'] };
    case 'interrupted':
      return { where: 'toast', severity: 'warning', message: `Orchestrator: ${name} was interrupted (its runner stopped)${again} at ${time} — ${steps}${reason}.`, buttons: ['Resume'] };
    default:
      return undefined;
  }
}
