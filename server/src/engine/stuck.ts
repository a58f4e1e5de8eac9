/** Stuck steps and stale approvals across the sessions of a repository (sessions.md, "Stuck"). */
import { listSessions } from '../store/sessionStore';
import { loadEffectiveConfig } from '../config/load';
import { parseDuration } from '../workflow/durations';
import { envDefaultsLenient } from './settings';
import { stuckAfterMs } from './silence';
import type { SessionState } from './types';

export interface StuckItem {
  session: string;
  workflow: string;
  step: string;
  kind: 'silent' | 'approval';
  lastHeardAt: string;
  silentMs: number;
}

/** `stuck_after` for steps that set none: the effective configuration's (a bad value is left out). */
export function defaultStuckAfterMs(repoRoot: string, env: NodeJS.ProcessEnv = process.env): number {
  const ms = parseDuration(loadEffectiveConfig({ repoRoot, env }).config.stuck_after);
  return ms !== undefined && ms > 0 ? ms : 300_000;
}

export function stuckInSession(s: SessionState, now = Date.now(), fallback = envDefaultsLenient().stuckAfterMs ?? 300_000): StuckItem[] {
  if (s.status !== 'running' && s.status !== 'waiting') return [];
  const wf = s.workflow.compiled;
  const out: StuckItem[] = [];
  for (const id of s.order) {
    const st = s.steps[id];
    const after = stuckAfterMs(wf, wf.steps.find((d) => d.id === st.stepId), fallback);
    const heard = st.lastHeardAt ?? st.startedAt;
    if (!heard) continue;
    const silentMs = Math.max(0, now - Date.parse(heard));
    // The runner flags a step once it was silent for `after` by its own (monotonic) clock; the wall
    // clock read here can be a millisecond behind that, so a flagged step is never shown younger.
    if (st.status === 'running' && st.stuck) out.push({ session: s.id, workflow: s.workflow.name, step: id, kind: 'silent', lastHeardAt: heard, silentMs: Math.max(silentMs, after) });
    else if (st.status === 'waiting' && (st.stuck || silentMs >= after)) out.push({ session: s.id, workflow: s.workflow.name, step: id, kind: 'approval', lastHeardAt: heard, silentMs });
  }
  return out;
}

export function stuckSteps(repoRoot: string, now = Date.now()): StuckItem[] {
  const fallback = defaultStuckAfterMs(repoRoot);
  return listSessions(repoRoot).sessions.flatMap((l) => stuckInSession(l.state, now, fallback));
}
