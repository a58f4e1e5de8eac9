/** Keyboard-friendly quick picks for sessions and steps, and what a command's argument names. */
import * as vscode from 'vscode';
import type { SessionModel } from './model';
import type { SessionSummary, StepState } from './protocol';
import { formatDuration, statusIcon } from './views/nodes';
import type { TreeRow } from './views/nodes';

export interface Target {
  session?: string;
  step?: string;
}

/** What a command was invoked on: a tree row, a session id, `{ id, step }`, or nothing. */
export function targetOf(arg: unknown): Target {
  if (typeof arg === 'string') return { session: arg };
  if (!arg || typeof arg !== 'object') return {};
  const row = arg as TreeRow;
  switch (row.kind) {
    case 'session':
      return { session: row.session.id };
    case 'step':
      return { session: row.sessionId, step: row.step.id };
    case 'stuck':
      return { session: row.item.session, step: row.item.step };
    case 'finding':
      return { session: row.sessionId, step: row.finding.step };
    default:
      break;
  }
  const o = arg as { id?: unknown; step?: unknown };
  return { ...(typeof o.id === 'string' ? { session: o.id } : {}), ...(typeof o.step === 'string' ? { step: o.step } : {}) };
}

function ago(s: SessionSummary): string {
  const ms = Date.now() - Date.parse(s.startedAt);
  return Number.isFinite(ms) ? `${formatDuration(ms)} ago` : '';
}

export async function pickSession(model: SessionModel, title: string, filter: (s: SessionSummary) => boolean = () => true): Promise<string | undefined> {
  const list = model.sessions().filter(filter);
  if (!list.length) {
    void vscode.window.showInformationMessage(`Orchestrator: no session to pick for "${title}".`);
    return undefined;
  }
  const items = list.map((s) => ({ label: `$(${statusIcon(s.status).id.replace('~spin', '')}) ${s.workflow}`, description: `${s.id} · ${s.status} · ${s.done}/${s.total}`, detail: `started ${ago(s)}${s.reason ? ` — ${s.reason}` : ''}`, id: s.id }));
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'Type to filter sessions by workflow, id or status', matchOnDescription: true, matchOnDetail: true });
  return pick?.id;
}

export async function pickStep(model: SessionModel, session: string, title: string, filter: (s: StepState) => boolean = () => true): Promise<string | undefined> {
  const d = await model.detail(session);
  const steps = d.order.map((id) => d.steps[id]).filter((s): s is StepState => !!s && filter(s));
  if (!steps.length) {
    void vscode.window.showInformationMessage(`Orchestrator: session ${session} has no step to pick for "${title}".`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    steps.map((s) => ({ label: `$(${statusIcon(s.status).id.replace('~spin', '')}) ${s.id}`, description: `${s.status}${s.attempt > 1 ? ` · attempt ${s.attempt}` : ''}${s.stuck ? ' · stuck' : ''}`, id: s.id })),
    { title, placeHolder: 'Type to filter steps', matchOnDescription: true },
  );
  return pick?.id;
}
