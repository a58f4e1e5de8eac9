/** Stuck steps and stale approvals across the sessions of a repository (sessions.md, "Stuck"). */
import { listSessions } from '../store/sessionStore';
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

export function stuckInSession(s: SessionState, now = Date.now()): StuckItem[] {
  if (s.status !== 'running' && s.status !== 'waiting') return [];
  const wf = s.workflow.compiled;
  const out: StuckItem[] = [];
  const fallback = envDefaultsLenient().stuckAfterMs ?? 300_000;
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
  return listSessions(repoRoot).sessions.flatMap((l) => stuckInSession(l.state, now));
}
