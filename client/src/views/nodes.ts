/**
 * The three views' data as plain objects (no VS Code types): what each row says, its icon, and
 * the `contextValue` tokens that decide which actions its menu offers. Rendering to TreeItems
 * happens in one place (render.ts); this module is tested without an editor.
 */
import { hasOwnBranch, spendText, statusText, stepsText, type Finding, type SessionDetail, type SessionSummary, type StepState, type StuckItem } from '../protocol';

export interface Icon {
  /** A codicon id (`pass`, `sync~spin`...). */
  id: string;
  /** A theme colour id (`testing.iconPassed`...). */
  color?: string;
}

interface Row {
  /** Stable id (VS Code keeps expansion and selection by it). */
  key: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon?: Icon;
  contextValue?: string;
  collapsible?: 'collapsed' | 'expanded';
}

export interface SessionRow extends Row {
  kind: 'session';
  session: SessionSummary;
}
export interface StepRow extends Row {
  kind: 'step';
  sessionId: string;
  step: StepState;
}
export interface MessageRow extends Row {
  kind: 'message';
}
export interface SeverityRow extends Row {
  kind: 'severity';
  severity: string;
  findings: Finding[];
}
export interface FileRow extends Row {
  kind: 'file';
  file?: string;
  findings: Finding[];
}
export interface FindingRow extends Row {
  kind: 'finding';
  sessionId: string;
  finding: Finding;
}
export interface StuckRow extends Row {
  kind: 'stuck';
  item: StuckItem;
}
/** A file a worktree step (or git/merge) changed; a click opens the diff base ↔ commit. */
export interface ChangeRow extends Row {
  kind: 'change';
  sessionId: string;
  stepId: string;
  /** Relative to the top of the git repository. */
  path: string;
  base: string;
  commit: string;
}
export type TreeRow = SessionRow | StepRow | MessageRow | SeverityRow | FileRow | FindingRow | StuckRow | ChangeRow;

const LIVE = new Set(['running', 'waiting']);

/** How long, in words: 850ms, 12s, 3m 05s, 1h 02m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 9950) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 59_500) return `${Math.round(ms / 1000)}s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** "just now", "45s ago", "4m ago", "2h ago". */
export function formatAgo(ms: number): string {
  if (!Number.isFinite(ms) || ms < 5000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h ago`;
  return `${Math.floor(ms / 86_400_000)}d ago`;
}

const STATUS_ICONS: Record<string, Icon> = {
  running: { id: 'sync~spin', color: 'charts.blue' },
  waiting: { id: 'question', color: 'charts.yellow' },
  paused: { id: 'debug-pause', color: 'charts.yellow' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
  timed_out: { id: 'watch', color: 'testing.iconFailed' },
  interrupted: { id: 'debug-disconnect', color: 'charts.orange' },
  pending: { id: 'circle-outline', color: 'testing.iconQueued' },
  skipped: { id: 'debug-step-over', color: 'disabledForeground' },
};

export function statusIcon(status: string): Icon {
  return STATUS_ICONS[status] ?? { id: 'circle-outline' };
}

function elapsed(from: string | undefined, to: string | undefined, now: number): number | undefined {
  if (!from) return undefined;
  const end = to ? Date.parse(to) : now;
  const ms = end - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** Tokens a menu's `when` clause matches with `viewItem =~ /\btoken\b/`. */
export function sessionTokens(s: SessionSummary): string[] {
  const t = ['session', `status-${s.status}`];
  const live = LIVE.has(s.status);
  if (live) t.push('live', 'cancellable');
  // A pause on its way: Pause again would do nothing.
  if (s.status === 'running' && s.pausing) t.push('pausing');
  else if (s.status === 'running') t.push('pausable');
  if (s.status === 'paused') t.push('cancellable');
  if (!live && s.status !== 'succeeded') t.push('resumable');
  if (!live) t.push('resumableFrom', 'deletable');
  if (s.findings > 0) t.push('hasFindings');
  // Apply the session's result / Discard its branches: only at rest (a runner may still be making them).
  if (!live && s.git?.appliable.length) t.push('appliable');
  if (!live && s.git?.branches.length) t.push('discardable');
  return t;
}

/** `1/3 done · 1 failed · 1 cancelled` (protocol/summary.ts: the CLI's `list` says the same). */
export function sessionSteps(s: SessionSummary): string {
  return stepsText(s.counts, s.total, { atRest: !LIVE.has(s.status) });
}

export function sessionRow(s: SessionSummary, now = Date.now()): SessionRow {
  const ms = elapsed(s.startedAt, LIVE.has(s.status) ? undefined : (s.finishedAt ?? s.updatedAt), now);
  const status = statusText(s);
  const parts = [status, sessionSteps(s)];
  if (ms !== undefined) parts.push(formatDuration(ms));
  if (s.stuck) parts.push(`${s.stuck} stuck`);
  if (s.findings) parts.push(`${s.findings} finding${s.findings === 1 ? '' : 's'}`);
  const pausing = s.status === 'running' && !!s.pausing;
  // A replay says so in its label (as `orchestrator list` does): its agent answers are recorded ones.
  const replay = s.replayOf ? `\nreplay of session ${s.replayOf}: agent answers come from its recording, not from a provider` : '';
  return {
    kind: 'session',
    key: `session:${s.id}`,
    label: s.replayOf ? `${s.workflow} (replay of ${s.replayOf})` : s.workflow,
    description: `${parts.join(' · ')} · ${s.id}`,
    tooltip: `${s.workflow} (${s.file})${replay}\nsession ${s.id}: ${status}${pausing ? ' (running steps finish, nothing new starts)' : ''}${s.reason ? ` — ${s.reason}` : ''}\nstarted ${s.startedAt}${s.finishedAt ? `, finished ${s.finishedAt}` : ''}\nsteps: ${sessionSteps(s)}${s.git ? `\nbranches: ${s.git.branches.join(', ')}${s.git.result ? ` (the result: ${s.git.result})` : ''}` : ''}${s.spent ? `\nspent: ${spendText(s.spent)}` : ''}${s.damaged?.length ? `\nlog.jsonl is damaged: ${s.damaged.map((d) => `line ${d.line} lost ${d.lost}`).join('; ')}` : ''}`,
    icon: s.stuck && LIVE.has(s.status) ? { id: 'warning', color: 'charts.yellow' } : pausing ? PAUSING_ICON : statusIcon(s.status),
    contextValue: sessionTokens(s).join(' '),
    collapsible: 'collapsed',
    session: s,
  };
}

const PAUSING_ICON: Icon = { id: 'debug-pause', color: 'charts.blue' };

/**
 * Rows whose text runs with the clock: a live session's duration, a running (or waiting) step's.
 * The Sessions view redraws only these, once a second, and only while one exists.
 */
export function isTicking(row: TreeRow): boolean {
  if (row.kind === 'session') return LIVE.has(row.session.status);
  if (row.kind === 'step') return (row.step.status === 'running' || row.step.status === 'waiting') && !!row.step.startedAt;
  return false;
}

/**
 * One tick: recomputes each ticking row (`recompute` builds it afresh for `now`) and updates it in
 * place when its text changed. Returns the rows that changed (to refresh just those).
 */
export function tickRows<T extends TreeRow>(rows: Iterable<T>, recompute: (row: T) => T | undefined): T[] {
  const changed: T[] = [];
  for (const r of rows) {
    if (!isTicking(r)) continue;
    const fresh = recompute(r);
    if (!fresh || (fresh.description === r.description && fresh.tooltip === r.tooltip)) continue;
    Object.assign(r, fresh);
    changed.push(r);
  }
  return changed;
}

/** A step's own git work (a worktree step or a git/merge): its commit, base, branch and changed files. */
export function stepChanges(st: StepState): { commit: string; base: string; branch: string; files: string[] } | undefined {
  const { commit, base, branch, changed_files: files } = st.outputs;
  if (!commit || !base || !branch || files === undefined) return undefined;
  return { commit, base, branch, files: files.split('\n').filter((f) => f !== '') };
}

export function changeRows(sessionId: string, st: StepState): ChangeRow[] {
  const c = stepChanges(st);
  if (!c) return [];
  return c.files.map((file) => {
    const slash = file.lastIndexOf('/');
    return {
      kind: 'change',
      key: `change:${sessionId}:${st.id}:${file}`,
      label: file.slice(slash + 1),
      ...(slash > 0 ? { description: file.slice(0, slash) } : {}),
      tooltip: `${file}\n${st.id}: ${c.base.slice(0, 12)} ↔ ${c.commit.slice(0, 12)} (branch ${c.branch})`,
      icon: { id: 'file' },
      contextValue: 'change',
      sessionId,
      stepId: st.id,
      path: file,
      base: c.base,
      commit: c.commit,
    };
  });
}

/**
 * `branches`: the steps whose branch is still there, from the session's summary (the host leaves
 * out what was discarded or deleted: host/branchPresence.ts); without it, the step's outputs decide.
 */
export function stepTokens(st: StepState, session: SessionSummary | SessionDetail, branches?: readonly string[]): string[] {
  const t = ['step', `status-${st.status}`];
  const changes = stepChanges(st);
  const live = LIVE.has(session.status);
  const own = branches ? branches.includes(st.id) : !!changes || hasOwnBranch(session.id, st);
  // Apply: a finished step's change (the engine refuses what does not fit). Discard: only at rest,
  // also a failed git/merge's branch (its conflicted worktree is kept, and has no commit).
  if (changes && changes.files.length && st.status === 'succeeded' && own) t.push('appliable');
  if (own && !live) t.push('discardable');
  if (st.attempt > 0) t.push('hasLog');
  if (st.status === 'waiting' && st.approval && !st.approval.answer && live) t.push('approvable');
  // Live: kill the attempt and run it again. At rest, "Resume From Step" does the same job.
  if (live && st.status === 'running') t.push('retryable');
  if (!live) t.push('resumableFrom');
  if (st.stuck) t.push('stuck');
  return t;
}

export function stepRow(sessionId: string, st: StepState, session: SessionSummary | SessionDetail, now = Date.now(), branches?: readonly string[]): StepRow {
  const parts: string[] = [st.status.replace('_', ' ')];
  if (st.attempt > 1) parts.push(`attempt ${st.attempt}`);
  const ms = elapsed(st.startedAt, st.status === 'running' || st.status === 'waiting' ? undefined : st.finishedAt, now);
  if (ms !== undefined && st.status !== 'pending') parts.push(formatDuration(ms));
  if (st.findings) parts.push(`${st.findings} finding${st.findings === 1 ? '' : 's'}`);
  if (st.stuck) parts.push('⚠ stuck');
  const tip = [`${st.id}: ${st.status}`];
  if (st.reason) tip.push(st.reason);
  if (st.approval) tip.push(`asks: ${st.approval.question}${st.approval.answer ? ` → ${st.approval.answer}${st.approval.reason ? ` (${st.approval.reason})` : ''}` : ''}`);
  if (st.agent) tip.push(`agent: ${st.agent.provider}${st.agent.model ? ` / ${st.agent.model}` : ''}`);
  if (st.spent) tip.push(`spent: ${spendText(st.spent)}${st.spent.calls > 1 ? ` (${st.spent.calls} attempts)` : ''}${st.agent?.cost ? `; cost from ${st.agent.cost.from === 'prices' ? 'prices:' : 'the tool'}` : ''}${st.agent?.estimated ? '; counted as it streamed (the call was stopped)' : ''}`);
  if (st.exitCode !== undefined && st.exitCode !== null) tip.push(`exit code ${st.exitCode}`);
  return {
    kind: 'step',
    key: `step:${sessionId}:${st.id}`,
    label: st.id,
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    icon: st.stuck ? { id: 'warning', color: 'charts.yellow' } : statusIcon(st.status),
    contextValue: stepTokens(st, session, branches).join(' '),
    ...(stepChanges(st)?.files.length ? { collapsible: 'collapsed' as const } : {}),
    sessionId,
    step: st,
  };
}

export function stepRows(d: SessionDetail, now = Date.now(), branches?: readonly string[]): StepRow[] {
  return d.order.map((id) => d.steps[id]).filter((s): s is StepState => !!s).map((s) => stepRow(d.id, s, d, now, branches));
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];
const SEVERITY_ICONS: Record<string, Icon> = {
  critical: { id: 'error', color: 'errorForeground' },
  high: { id: 'error', color: 'list.errorForeground' },
  medium: { id: 'warning', color: 'list.warningForeground' },
  low: { id: 'info', color: 'charts.blue' },
  info: { id: 'info', color: 'disabledForeground' },
};

/** Findings by severity (most severe first), then by file. */
export function severityRows(sessionId: string, findings: Finding[]): SeverityRow[] {
  const by = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.status === 'dismissed') continue;
    const list = by.get(f.severity) ?? [];
    list.push(f);
    by.set(f.severity, list);
  }
  const dismissed = findings.filter((f) => f.status === 'dismissed');
  const rows: SeverityRow[] = SEVERITY_ORDER.filter((s) => by.has(s)).map((s) => ({
    kind: 'severity',
    key: `sev:${sessionId}:${s}`,
    label: s,
    description: String(by.get(s)!.length),
    icon: SEVERITY_ICONS[s],
    collapsible: 'expanded',
    severity: s,
    findings: by.get(s)!,
  }));
  if (dismissed.length) rows.push({ kind: 'severity', key: `sev:${sessionId}:dismissed`, label: 'dismissed', description: String(dismissed.length), icon: { id: 'circle-slash', color: 'disabledForeground' }, collapsible: 'collapsed', severity: 'dismissed', findings: dismissed });
  return rows;
}

export function fileRows(sessionId: string, sev: SeverityRow): FileRow[] {
  const by = new Map<string, Finding[]>();
  for (const f of sev.findings) {
    const k = (f.file ?? '').replace(/^(\.\/)+/, '');
    by.set(k, [...(by.get(k) ?? []), f]);
  }
  return [...by.keys()]
    .sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map((file) => ({
      kind: 'file',
      key: `file:${sessionId}:${sev.severity}:${file}`,
      label: file || '(no file)',
      description: String(by.get(file)!.length),
      icon: { id: file ? 'file' : 'circle-large-outline' },
      collapsible: 'expanded',
      ...(file ? { file } : {}),
      findings: by.get(file)!,
    }));
}

export function findingRow(sessionId: string, f: Finding): FindingRow {
  const merged = f.sources.length > 1;
  const disputed = !!f.conflict || !!f.decision;
  const marks = [merged ? `merged ×${f.sources.length}` : '', disputed ? 'disputed' : ''].filter(Boolean);
  const where = [f.line ? `line ${f.line}` : '', f.rule ?? '', f.step].filter(Boolean);
  const tip = [`${f.severity}: ${f.message}`, `${f.file ?? '(no file)'}${f.line ? `:${f.line}` : ''}${f.rule ? ` [${f.rule}]` : ''}`, ...f.sources.map((s) => `• ${s.step} (${s.source}): ${s.severity}${s.verdict ? `, says ${s.verdict}` : ''} — ${s.message}`)];
  if (f.conflict) tip.push(`severities disagree (${f.conflict.severities.join(', ')}): ${f.conflict.resolution}`);
  if (f.decision) tip.push(`decision (${f.decision.policy}${f.decision.by ? ` by ${f.decision.by}` : ''}): ${f.decision.status}, ${f.decision.severity} — ${f.decision.reason}`);
  return {
    kind: 'finding',
    key: `finding:${sessionId}:${f.id}`,
    label: f.message.split('\n')[0],
    description: [...marks, ...where].join(' · '),
    tooltip: tip.join('\n'),
    icon: disputed ? { id: 'comment-discussion', color: 'charts.yellow' } : merged ? { id: 'merge' } : (SEVERITY_ICONS[f.severity] ?? { id: 'info' }),
    contextValue: ['finding', merged ? 'merged' : '', disputed ? 'disputed' : '', f.file ? 'located' : ''].filter(Boolean).join(' '),
    sessionId,
    finding: f,
  };
}

export function stuckRow(item: StuckItem, now = Date.now()): StuckRow {
  const since = Math.max(item.silentMs, now - Date.parse(item.lastHeardAt));
  const ago = formatAgo(Number.isFinite(since) ? since : item.silentMs);
  const approval = item.kind === 'approval';
  return {
    kind: 'stuck',
    key: `stuck:${item.session}:${item.step}`,
    label: item.step,
    description: `${item.workflow} · ${approval ? `waiting for approval, asked ${ago}` : `last heard ${ago}`}`,
    tooltip: `${item.workflow}, session ${item.session}: ${approval ? 'an approval nobody has answered' : 'a step that has printed nothing'} since ${item.lastHeardAt}`,
    icon: approval ? { id: 'bell-dot', color: 'charts.yellow' } : { id: 'warning', color: 'charts.yellow' },
    contextValue: ['stuck', approval ? 'approvable' : 'silent', 'cancellable', approval ? '' : 'retryable', 'hasLog'].filter(Boolean).join(' '),
    item,
  };
}
