/**
 * The tree views' plain data (client/src/views/nodes.ts): what each row of the Sessions, Findings
 * and Stuck views says, and — checked against the real package.json — which actions its menus
 * offer. No VS Code: nodes.ts imports only protocol types.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  changeRows,
  fileRows,
  findingRow,
  formatAgo,
  formatDuration,
  sessionRow,
  sessionTokens,
  severityRows,
  stepRow,
  stepRows,
  stepTokens,
  stuckRow,
} from '../../client/src/views/nodes';
import { emptyCounts, type SessionDetail, type StepCounts } from '../../client/src/protocol';
import type { StuckItem } from '../../server/src/engine/stuck';
import { SESSION_STATUSES, type Finding, type FindingSeverity, type SessionStatus, type StepState } from '../../server/src/engine/types';
import type { SessionSummary } from '../../server/src/store/sessionWatcher';

// ---- fixtures ------------------------------------------------------------------------------------

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
/** An ISO time `ms` milliseconds before NOW. */
const ago = (ms: number): string => new Date(NOW - ms).toISOString();

const SESSION_ID = '20260302-095655-k3fq';

function summary(over: Partial<SessionSummary> = {}): SessionSummary {
  return {
    id: SESSION_ID,
    workflow: 'Review',
    file: '.orchestrator/workflows/review.yaml',
    status: 'running',
    startedAt: ago(185_000),
    updatedAt: ago(2_000),
    done: 2,
    total: 5,
    counts: counts({ succeeded: 2, running: 1, pending: 2 }),
    findings: 0,
    stuck: 0,
    ...over,
  };
}

/** A session that ended with `status`, 3m 05s after it started. */
function ended(status: SessionStatus, over: Partial<SessionSummary> = {}): SessionSummary {
  // A paused session is not over: it has no finishedAt (its time runs to its last update).
  return summary({
    status,
    startedAt: ago(600_000),
    updatedAt: ago(600_000 - 185_000),
    ...(status === 'paused' ? {} : { finishedAt: ago(600_000 - 185_000) }),
    ...(status === 'succeeded' ? { done: 5 } : { reason: `session ${status}` }),
    counts: ENDED_COUNTS[status],
    ...over,
  });
}

function counts(over: Partial<StepCounts>): StepCounts {
  return { ...emptyCounts(), ...over };
}

/** What the steps of a session that ended so came to (5 steps), and how the row says it. */
const ENDED_COUNTS: Record<SessionStatus, StepCounts> = {
  running: counts({ succeeded: 2, running: 1, pending: 2 }),
  waiting: counts({ succeeded: 2, waiting: 1, pending: 2 }),
  succeeded: counts({ succeeded: 5 }),
  failed: counts({ succeeded: 1, failed: 1, cancelled: 3 }),
  cancelled: counts({ succeeded: 1, cancelled: 4 }),
  timed_out: counts({ succeeded: 2, timed_out: 1, cancelled: 2 }),
  interrupted: counts({ succeeded: 2, running: 1, pending: 2 }),
  paused: counts({ succeeded: 2, pending: 3 }),
};
const ENDED_TEXT: Record<SessionStatus, string> = {
  running: '2/5 done · 1 running',
  waiting: '2/5 done · 1 waiting',
  succeeded: '5/5 done',
  failed: '1/5 done · 1 failed · 3 cancelled',
  cancelled: '1/5 done · 4 cancelled',
  timed_out: '2/5 done · 1 timed out · 2 cancelled',
  interrupted: '2/5 done · 1 interrupted · 2 pending',
  paused: '2/5 done · 3 pending',
};

function step(id: string, over: Partial<StepState> = {}): StepState {
  return { id, stepId: id.replace(/\[.*$/, ''), status: 'pending', attempt: 0, outputs: {}, findings: 0, ...over };
}

function detail(s: SessionSummary, steps: StepState[], order = steps.map((x) => x.id)): SessionDetail {
  return {
    id: s.id,
    workflow: { name: s.workflow, file: s.file, hash: 'a1b2c3d4e5f60718' },
    inputs: { target: '.' },
    status: s.status,
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    steps: Object.fromEntries(steps.map((x) => [x.id, x])),
    order,
    findings: [],
    seq: 42,
    controlApplied: 0,
  };
}

function finding(over: Partial<Finding> & { severity: FindingSeverity; message: string; step?: string }): Finding {
  const stepId = over.step ?? 'lint';
  const source = over.source ?? 'annotation';
  return {
    id: `${over.file ?? ''}:${over.line ?? ''}:${over.message}`.replace(/\W+/g, '').slice(0, 16),
    step: stepId,
    source,
    sources: [{ step: stepId, source, severity: over.severity, message: over.message }],
    ...over,
  };
}

function tokens(contextValue: string | undefined): string[] {
  return (contextValue ?? '').split(' ').filter(Boolean);
}

// ---- package.json menus ---------------------------------------------------------------------------

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[]; menus: Record<string, MenuEntry[]> };
};
const ITEM_MENU = pkg.contributes.menus['view/item/context'];

/** Evaluates the `when` clauses used by view/item/context: `view == X` and `viewItem =~ /re/flags`, joined by `&&`. */
function whenHolds(when: string | undefined, view: string, viewItem: string): boolean {
  if (!when) return true;
  return when.split('&&').every((raw) => {
    const clause = raw.trim();
    const v = /^view == (\S+)$/.exec(clause);
    if (v) return v[1] === view;
    const re = /^viewItem =~ \/(.+)\/([a-z]*)$/.exec(clause);
    if (re) return new RegExp(re[1], re[2]).test(viewItem);
    throw new Error(`the test cannot evaluate this when clause: ${clause}`);
  });
}

/** Commands (without the `orchestrator.` prefix) a row offers: in its context menu, or as inline buttons. */
function offered(view: string, contextValue: string | undefined, where: 'menu' | 'inline'): string[] {
  const hits = ITEM_MENU.filter((e) => (e.group ?? '').startsWith('inline') === (where === 'inline') && whenHolds(e.when, view, contextValue ?? ''));
  return [...new Set(hits.map((e) => e.command.replace(/^orchestrator\./, '')))].sort();
}

const SESSIONS = 'orchestrator.sessions';
const STUCK = 'orchestrator.stuck';
const set = (...commands: string[]): string[] => [...commands].sort();

// ---- tests -----------------------------------------------------------------------------------------

describe('formatDuration', () => {
  it('milliseconds, seconds (one decimal under 10 s), minutes and seconds, hours and minutes', () => {
    assert.equal(formatDuration(0), '0ms');
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(1_500), '1.5s');
    assert.equal(formatDuration(9_400), '9.4s');
    assert.equal(formatDuration(12_000), '12s');
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(60_000), '1m 00s');
    assert.equal(formatDuration(185_000), '3m 05s');
    assert.equal(formatDuration(3_599_000), '59m 59s');
    assert.equal(formatDuration(59_600), '1m 00s');
    assert.equal(formatDuration(9_960), '10s');
    assert.equal(formatDuration(999.6), '1.0s');
    assert.equal(formatDuration(3_600_000), '1h 00m');
    assert.equal(formatDuration(3_725_000), '1h 02m');
    assert.equal(formatDuration(26 * 3_600_000 + 7 * 60_000), '26h 07m');
  });

  it('nothing for a negative or non-finite duration', () => {
    assert.equal(formatDuration(-1), '');
    assert.equal(formatDuration(Number.NaN), '');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '');
  });
});

describe('formatAgo', () => {
  it('just now under 5 s, then seconds, minutes, hours and days (rounded down)', () => {
    assert.equal(formatAgo(0), 'just now');
    assert.equal(formatAgo(4_999), 'just now');
    assert.equal(formatAgo(-3_000), 'just now'); // a clock a little ahead
    assert.equal(formatAgo(5_000), '5s ago');
    assert.equal(formatAgo(45_900), '45s ago');
    assert.equal(formatAgo(60_000), '1m ago');
    assert.equal(formatAgo(4 * 60_000 + 59_000), '4m ago');
    assert.equal(formatAgo(2 * 3_600_000 + 10 * 60_000), '2h ago');
    assert.equal(formatAgo(3 * 86_400_000), '3d ago');
  });
});

describe('sessionRow', () => {
  it('a running session: spinning icon, id · status · done/total · time so far, live tokens', () => {
    const r = sessionRow(summary(), NOW);
    assert.equal(r.kind, 'session');
    assert.equal(r.key, `session:${SESSION_ID}`);
    assert.equal(r.label, 'Review');
    assert.equal(r.description, `running · 2/5 done · 1 running · 3m 05s · ${SESSION_ID}`);
    assert.deepEqual(r.icon, { id: 'sync~spin', color: 'charts.blue' });
    assert.equal(r.collapsible, 'collapsed');
    assert.match(r.tooltip!, /^Review \(\.orchestrator\/workflows\/review\.yaml\)\nsession 20260302-095655-k3fq: running\n/);
    assert.match(r.tooltip!, /\nsteps: 2\/5 done · 1 running$/);
    const t = tokens(r.contextValue);
    for (const k of ['session', 'status-running', 'live', 'pausable', 'cancellable']) assert.ok(t.includes(k), `running has ${k}: ${r.contextValue}`);
    for (const k of ['resumable', 'resumableFrom', 'deletable', 'hasFindings']) assert.ok(!t.includes(k), `running lacks ${k}: ${r.contextValue}`);
  });

  it('a running session with stuck steps and findings: a warning icon, both counts', () => {
    const r = sessionRow(summary({ stuck: 2, findings: 1 }), NOW);
    assert.equal(r.description, `running · 2/5 done · 1 running · 3m 05s · 2 stuck · 1 finding · ${SESSION_ID}`);
    assert.deepEqual(r.icon, { id: 'warning', color: 'charts.yellow' });
    assert.ok(tokens(r.contextValue).includes('hasFindings'));
    assert.equal(sessionRow(summary({ findings: 3 }), NOW).description, `running · 2/5 done · 1 running · 3m 05s · 3 findings · ${SESSION_ID}`);
  });

  it('a waiting session (an approval is open): live and cancellable, not pausable', () => {
    const r = sessionRow(summary({ status: 'waiting', counts: ENDED_COUNTS.waiting }), NOW);
    assert.deepEqual(r.icon, { id: 'question', color: 'charts.yellow' });
    assert.equal(r.description, `waiting · 2/5 done · 1 waiting · 3m 05s · ${SESSION_ID}`);
    const t = tokens(r.contextValue);
    for (const k of ['live', 'cancellable']) assert.ok(t.includes(k), k);
    for (const k of ['pausable', 'resumable', 'resumableFrom', 'deletable']) assert.ok(!t.includes(k), k);
  });

  const AT_REST: [SessionStatus, string, string | undefined][] = [
    ['failed', 'error', 'testing.iconFailed'],
    ['interrupted', 'debug-disconnect', 'charts.orange'],
    ['cancelled', 'circle-slash', 'disabledForeground'],
    ['timed_out', 'watch', 'testing.iconFailed'],
    ['paused', 'debug-pause', 'charts.yellow'],
  ];
  for (const [status, icon, color] of AT_REST) {
    it(`a ${status} session: its icon, the time it ran, resumable (also from a step) and deletable`, () => {
      const r = sessionRow(ended(status), NOW);
      assert.deepEqual(r.icon, { id: icon, color });
      assert.equal(r.description, `${status.replace('_', ' ')} · ${ENDED_TEXT[status]} · 3m 05s · ${SESSION_ID}`);
      assert.match(r.tooltip!, new RegExp(`: ${status.replace('_', ' ')} — session ${status}\\nstarted [^\\n]*${status === 'paused' ? '' : ', finished '}`));
      const t = tokens(r.contextValue);
      for (const k of ['session', `status-${status}`, 'resumable', 'resumableFrom', 'deletable']) assert.ok(t.includes(k), `${status} has ${k}: ${r.contextValue}`);
      for (const k of ['live', 'pausable', 'hasFindings']) assert.ok(!t.includes(k), `${status} lacks ${k}: ${r.contextValue}`);
      // Only a paused session (nothing runs, but it is not over) can still be cancelled.
      assert.equal(t.includes('cancellable'), status === 'paused', r.contextValue);
    });
  }

  it('a stuck count left on a session at rest does not turn its icon into a warning', () => {
    assert.deepEqual(sessionRow(ended('failed', { stuck: 1 }), NOW).icon, { id: 'error', color: 'testing.iconFailed' });
  });

  it('a succeeded session: not resumable, but it can run again from a step, and be deleted', () => {
    const r = sessionRow(ended('succeeded', { findings: 4 }), NOW);
    assert.deepEqual(r.icon, { id: 'pass', color: 'testing.iconPassed' });
    assert.equal(r.description, `succeeded · 5/5 done · 3m 05s · 4 findings · ${SESSION_ID}`);
    const t = tokens(r.contextValue);
    assert.ok(!t.includes('resumable'));
    for (const k of ['resumableFrom', 'deletable', 'hasFindings']) assert.ok(t.includes(k), k);
  });

  it('a session at rest without finishedAt is timed to its last update', () => {
    const s = summary({ status: 'interrupted', startedAt: ago(90_000), updatedAt: ago(60_000) });
    assert.equal(sessionRow(s, NOW).description, `interrupted · 2/5 done · 1 interrupted · 2 pending · 30s · ${SESSION_ID}`);
  });

  it('hasFindings only with findings, for every status', () => {
    for (const status of SESSION_STATUSES) {
      assert.ok(!sessionTokens(summary({ status, findings: 0 })).includes('hasFindings'), status);
      assert.ok(sessionTokens(summary({ status, findings: 2 })).includes('hasFindings'), status);
    }
  });
});

describe('stepRow and stepRows', () => {
  const running = summary();

  it('rows follow the session order, not the steps object', () => {
    const d = detail(running, [step('summary'), step('lint', { status: 'succeeded', attempt: 1 }), step('test[node=20]'), step('test[node=22]')], ['lint', 'test[node=20]', 'test[node=22]', 'summary', 'gone']);
    const rows = stepRows(d, NOW);
    assert.deepEqual(rows.map((r) => r.label), ['lint', 'test[node=20]', 'test[node=22]', 'summary']);
    assert.deepEqual(rows.map((r) => r.key), ['lint', 'test[node=20]', 'test[node=22]', 'summary'].map((id) => `step:${SESSION_ID}:${id}`));
    for (const r of rows) assert.equal(r.sessionId, SESSION_ID);
  });

  it('description: status, attempt when above 1, time, findings, the stuck marker', () => {
    assert.equal(stepRow(SESSION_ID, step('build', { status: 'running', attempt: 1, startedAt: ago(12_000) }), running, NOW).description, 'running · 12s');
    assert.equal(stepRow(SESSION_ID, step('build', { status: 'running', attempt: 3, startedAt: ago(12_000) }), running, NOW).description, 'running · attempt 3 · 12s');
    const done = step('lint', { status: 'succeeded', attempt: 1, startedAt: ago(5_000), finishedAt: ago(4_150), findings: 2, exitCode: 0 });
    assert.equal(stepRow(SESSION_ID, done, running, NOW).description, 'succeeded · 850ms · 2 findings');
    assert.equal(stepRow(SESSION_ID, step('later'), running, NOW).description, 'pending');
    const late = step('fmt', { status: 'timed_out', attempt: 2, startedAt: ago(700_000), finishedAt: ago(100_000), findings: 1 });
    assert.equal(stepRow(SESSION_ID, late, running, NOW).description, 'timed out · attempt 2 · 10m 00s · 1 finding');
  });

  it('a stuck step: warning icon and ⚠ stuck', () => {
    const r = stepRow(SESSION_ID, step('e2e', { status: 'running', attempt: 1, startedAt: ago(400_000), lastHeardAt: ago(240_000), stuck: true }), summary({ stuck: 1 }), NOW);
    assert.equal(r.description, 'running · 6m 40s · ⚠ stuck');
    assert.deepEqual(r.icon, { id: 'warning', color: 'charts.yellow' });
    assert.ok(tokens(r.contextValue).includes('stuck'));
  });

  it('icons by status', () => {
    assert.deepEqual(stepRow(SESSION_ID, step('a'), running, NOW).icon, { id: 'circle-outline', color: 'testing.iconQueued' });
    assert.deepEqual(stepRow(SESSION_ID, step('a', { status: 'skipped' }), running, NOW).icon, { id: 'debug-step-over', color: 'disabledForeground' });
    assert.deepEqual(stepRow(SESSION_ID, step('a', { status: 'failed', attempt: 1 }), running, NOW).icon, { id: 'error', color: 'testing.iconFailed' });
  });

  it('tooltip: status, reason, the approval question (and answer), agent, exit code', () => {
    const ask = step('ship', { status: 'waiting', attempt: 1, startedAt: ago(30_000), approval: { question: 'Deploy build 512 to production?' } });
    const r = stepRow(SESSION_ID, ask, summary({ status: 'waiting' }), NOW);
    assert.equal(r.tooltip, 'ship: waiting\nasks: Deploy build 512 to production?');
    assert.deepEqual(r.icon, { id: 'question', color: 'charts.yellow' });
    assert.equal(r.description, 'waiting · 30s');

    const answered = step('ship', { status: 'failed', attempt: 1, reason: 'rejected by editor', approval: { question: 'Deploy?', answer: 'rejected', by: 'editor', reason: 'tests are red' } });
    assert.equal(stepRow(SESSION_ID, answered, ended('failed'), NOW).tooltip, 'ship: failed\nrejected by editor\nasks: Deploy? → rejected (tests are red)');

    const agent = step('review', { status: 'failed', attempt: 2, exitCode: 3, reason: 'the agent gave up', agent: { provider: 'claude', model: 'sonnet', durationMs: 4_000 } });
    assert.equal(stepRow(SESSION_ID, agent, ended('failed'), NOW).tooltip, 'review: failed\nthe agent gave up\nagent: claude / sonnet\nexit code 3');
    const killed = step('hang', { status: 'cancelled', attempt: 1, exitCode: null });
    assert.equal(stepRow(SESSION_ID, killed, ended('cancelled'), NOW).tooltip, 'hang: cancelled');
  });

  it('tooltip: what an agent step spent (over its attempts), where the cost came from, a stopped call', () => {
    const spent = { tokens: 51_200, costUsd: 0.1536, turns: 3, timeMs: 9_000, calls: 2, uncosted: 0 };
    const over = step('impl', { status: 'failed', attempt: 2, reason: 'budget exceeded: 51,200 of 50,000 tokens', spent,
      agent: { provider: 'claude-code', model: 'claude-sonnet-4-5', durationMs: 5_000, agent: 'impl', cost: { usd: 0.09, from: 'prices' }, estimated: true } });
    assert.equal(
      stepRow(SESSION_ID, over, ended('failed'), NOW).tooltip,
      'impl: failed\nbudget exceeded: 51,200 of 50,000 tokens\nagent: claude-code / claude-sonnet-4-5\nspent: 51,200 tokens, $0.1536, 3 turns (2 attempts); cost from prices:; counted as it streamed (the call was stopped)',
    );
    const unpriced = step('ask', { status: 'succeeded', attempt: 1, spent: { tokens: 1_200, costUsd: 0, turns: 1, timeMs: 900, calls: 1, uncosted: 1 }, agent: { provider: 'local', durationMs: 900 } });
    assert.equal(stepRow(SESSION_ID, unpriced, ended('succeeded'), NOW).tooltip, 'ask: succeeded\nagent: local\nspent: 1,200 tokens, cost unknown, 1 turn');
  });

  it('session tooltip: what its agent calls spent in all', () => {
    const s = ended('succeeded', { spent: { tokens: 12_345, costUsd: 0.5, turns: 4, timeMs: 20_000, calls: 3, uncosted: 1 } });
    assert.match(sessionRow(s, NOW).tooltip ?? '', /\nspent: 12,345 tokens, \$0\.50 \+ unknown, 4 turns$/);
  });

  it('tokens: hasLog once an attempt started; approvable only while live and unanswered; retryable; resumableFrom at rest', () => {
    const waitingSession = summary({ status: 'waiting' });
    const ask = step('ship', { status: 'waiting', attempt: 1, approval: { question: 'Deploy?' } });
    assert.deepEqual(stepTokens(ask, waitingSession), ['step', 'status-waiting', 'hasLog', 'approvable']);
    assert.ok(!stepTokens({ ...ask, approval: { question: 'Deploy?', answer: 'approved' } }, waitingSession).includes('approvable'));
    // An approval left open in a session that was then interrupted: answered by resuming, not here.
    assert.deepEqual(stepTokens(ask, ended('interrupted')), ['step', 'status-waiting', 'hasLog', 'resumableFrom']);
    assert.deepEqual(stepTokens(step('build', { status: 'running', attempt: 2 }), running), ['step', 'status-running', 'hasLog', 'retryable']);
    assert.deepEqual(stepTokens(step('later'), running), ['step', 'status-pending']);
    assert.deepEqual(stepTokens(step('lint', { status: 'failed', attempt: 1 }), running), ['step', 'status-failed', 'hasLog']);
    assert.deepEqual(stepTokens(step('lint', { status: 'failed', attempt: 1 }), ended('failed')), ['step', 'status-failed', 'hasLog', 'resumableFrom']);
    assert.deepEqual(stepTokens(step('later'), ended('failed')), ['step', 'status-pending', 'resumableFrom']);
  });
});

describe('package.json menus match the rows', () => {
  it('every when clause of view/item/context can be evaluated, and every token it asks for is one a row can carry', () => {
    const rows = [
      ...SESSION_STATUSES.map((s) => sessionRow(summary({ status: s, findings: 1 }), NOW).contextValue),
      stepRow(SESSION_ID, step('ship', { status: 'waiting', attempt: 1, approval: { question: 'Deploy?' } }), summary({ status: 'waiting' }), NOW).contextValue,
      stepRow(SESSION_ID, step('b', { status: 'running', attempt: 1 }), summary(), NOW).contextValue,
      stepRow(SESSION_ID, step('b', { status: 'failed', attempt: 1 }), ended('failed'), NOW).contextValue,
      stepRow(SESSION_ID, worktreeStep(), ended('succeeded'), NOW).contextValue,
      sessionRow(ended('succeeded', { git: { branches: ['backend'], appliable: ['backend'], result: 'backend' } }), NOW).contextValue,
    ];
    const stuckRows = [
      stuckRow({ session: SESSION_ID, workflow: 'Review', step: 'e2e', kind: 'silent', lastHeardAt: ago(240_000), silentMs: 240_000 }, NOW).contextValue,
      stuckRow({ session: SESSION_ID, workflow: 'Review', step: 'ship', kind: 'approval', lastHeardAt: ago(240_000), silentMs: 240_000 }, NOW).contextValue,
    ];
    for (const e of ITEM_MENU) {
      const view = /view == (\S+)/.exec(e.when ?? '')?.[1];
      assert.ok(view === SESSIONS || view === STUCK, `unexpected view in ${e.when}`);
      const pool = view === STUCK ? stuckRows : rows;
      assert.ok(pool.some((cv) => whenHolds(e.when, view, cv ?? '')), `no row offers ${e.command} (${e.when}, group ${e.group})`);
    }
  });

  const SESSION_MENUS: [string, SessionSummary, string[], string[]][] = [
    ['running', summary(), set('pauseSession', 'cancelSession', 'openWorkflow', 'showGraph', 'exportSnapshot'), set('cancelSession', 'showGraph')],
    ['running with findings', summary({ findings: 2 }), set('pauseSession', 'cancelSession', 'openWorkflow', 'showFindings', 'showGraph', 'exportSnapshot'), set('cancelSession', 'showGraph')],
    ['waiting', summary({ status: 'waiting' }), set('cancelSession', 'openWorkflow', 'showGraph', 'exportSnapshot'), set('cancelSession', 'showGraph')],
    ['paused', ended('paused'), set('resumeSession', 'resumeFromStep', 'cancelSession', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['failed', ended('failed'), set('resumeSession', 'resumeFromStep', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['failed with findings', ended('failed', { findings: 3 }), set('resumeSession', 'resumeFromStep', 'openWorkflow', 'showFindings', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['interrupted', ended('interrupted'), set('resumeSession', 'resumeFromStep', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['cancelled', ended('cancelled'), set('resumeSession', 'resumeFromStep', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['timed_out', ended('timed_out'), set('resumeSession', 'resumeFromStep', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('resumeSession', 'showGraph')],
    ['succeeded', ended('succeeded'), set('resumeFromStep', 'openWorkflow', 'showGraph', 'exportSnapshot', 'deleteSession'), set('showGraph')],
  ];
  for (const [name, s, menu, inline] of SESSION_MENUS) {
    it(`a ${name} session offers ${menu.join(', ')}`, () => {
      const r = sessionRow(s, NOW);
      assert.deepEqual(offered(SESSIONS, r.contextValue, 'menu'), menu, r.contextValue);
      assert.deepEqual(offered(SESSIONS, r.contextValue, 'inline'), inline, r.contextValue);
    });
  }

  const approval = step('ship', { status: 'waiting', attempt: 1, startedAt: ago(30_000), approval: { question: 'Deploy build 512?' } });
  const STEP_MENUS: [string, StepState, SessionSummary, string[], string[]][] = [
    ['an approval waiting in a waiting session', approval, summary({ status: 'waiting' }), set('approveStep', 'rejectStep', 'openLog'), set('approveStep', 'openLog')],
    ['an approval already answered (the session has not moved on yet)', { ...approval, approval: { question: 'Deploy build 512?', answer: 'approved' } }, summary({ status: 'waiting' }), set('openLog'), set('openLog')],
    ['a running step', step('build', { status: 'running', attempt: 1 }), summary(), set('retryStep', 'openLog'), set('openLog')],
    ['a running step while another waits for approval', step('build', { status: 'running', attempt: 2 }), summary({ status: 'waiting' }), set('retryStep', 'openLog'), set('openLog')],
    // The row itself opens the log (a tab that fills once the step runs); the buttons wait for a log.
    ['a pending step of a running session', step('later'), summary(), set(), set()],
    ['a finished step of a running session', step('lint', { status: 'failed', attempt: 1 }), summary(), set('openLog'), set('openLog')],
    // At rest, Resume From Step re-runs a step (Retry Step is for a running attempt).
    ['a failed step of a failed session', step('lint', { status: 'failed', attempt: 1 }), ended('failed'), set('resumeFromStep', 'openLog'), set('openLog')],
    ['a succeeded step of a succeeded session', step('lint', { status: 'succeeded', attempt: 1 }), ended('succeeded'), set('resumeFromStep', 'openLog'), set('openLog')],
    ['a step that never ran, in a failed session', step('deploy'), ended('failed'), set('resumeFromStep'), set()],
    ['an approval left open in a paused session', approval, ended('paused'), set('resumeFromStep', 'openLog'), set('openLog')],
  ];
  for (const [name, st, s, menu, inline] of STEP_MENUS) {
    it(`${name} offers ${menu.length ? menu.join(', ') : 'nothing'} (inline: ${inline.join(', ')})`, () => {
      const r = stepRow(s.id, st, s, NOW);
      assert.deepEqual(offered(SESSIONS, r.contextValue, 'menu'), menu, r.contextValue);
      assert.deepEqual(offered(SESSIONS, r.contextValue, 'inline'), inline, r.contextValue);
    });
  }

  it('session and step rows never get each other\'s actions', () => {
    const sessionOnly = ['resumeSession', 'pauseSession', 'cancelSession', 'openWorkflow', 'showFindings', 'showGraph', 'exportSnapshot', 'deleteSession', 'applySession', 'discardSession'];
    const stepOnly = ['retryStep', 'approveStep', 'rejectStep', 'openLog', 'applyStep', 'discardStep'];
    for (const s of SESSION_STATUSES) {
      const sr = sessionRow(summary({ status: s, findings: 1, git: { branches: ['backend'], appliable: ['backend'] } }), NOW);
      for (const c of [...offered(SESSIONS, sr.contextValue, 'menu'), ...offered(SESSIONS, sr.contextValue, 'inline')]) assert.ok(!stepOnly.includes(c), `${s} session offers ${c}`);
      for (const [name, st] of STEP_MENUS.map(([n, x]) => [n, x] as const)) {
        const r = stepRow(SESSION_ID, st, summary({ status: s }), NOW);
        const wt = stepRow(SESSION_ID, worktreeStep(), summary({ status: s }), NOW);
        for (const c of offered(SESSIONS, wt.contextValue, 'menu')) assert.ok(!sessionOnly.includes(c), `a worktree step in a ${s} session offers ${c}`);
        for (const c of [...offered(SESSIONS, r.contextValue, 'menu'), ...offered(SESSIONS, r.contextValue, 'inline')]) assert.ok(!sessionOnly.includes(c), `${name} in a ${s} session offers ${c}`);
      }
    }
  });

  it('stuck rows: a silent step offers its log, retry and cancel; an approval offers answers, its log and cancel', () => {
    const silent = stuckRow({ session: SESSION_ID, workflow: 'Review', step: 'e2e', kind: 'silent', lastHeardAt: ago(240_000), silentMs: 240_000 }, NOW);
    assert.deepEqual(offered(STUCK, silent.contextValue, 'menu'), set('openLog', 'retryStep', 'cancelSession'));
    assert.deepEqual(offered(STUCK, silent.contextValue, 'inline'), set('retryStep', 'cancelSession'));
    const ask = stuckRow({ session: SESSION_ID, workflow: 'Review', step: 'ship', kind: 'approval', lastHeardAt: ago(240_000), silentMs: 240_000 }, NOW);
    assert.deepEqual(offered(STUCK, ask.contextValue, 'menu'), set('openLog', 'approveStep', 'rejectStep', 'cancelSession'));
    assert.deepEqual(offered(STUCK, ask.contextValue, 'inline'), set('cancelSession'));
  });
});

describe('findings: severityRows, fileRows, findingRow', () => {
  const findings: Finding[] = [
    finding({ severity: 'low', message: 'Prefer const', file: 'src/b.ts', line: 4, rule: 'prefer-const' }),
    finding({ severity: 'critical', message: 'SQL built from user input', file: 'src/db.ts', line: 88, rule: 'sql-injection', step: 'security' }),
    finding({ severity: 'info', message: 'TODO: split this module', file: 'src/a.ts', line: 1, rule: 'todo' }),
    finding({ severity: 'low', message: 'Missing changelog entry' }),
    finding({ severity: 'low', message: 'Unused import', file: 'src/a.ts', line: 2, rule: 'no-unused-vars' }),
    finding({ severity: 'high', message: 'Token logged', file: 'src/log.ts', line: 12, status: 'dismissed' }),
    finding({ severity: 'low', message: 'Long line', file: 'src/Z.ts', line: 9 }),
    finding({ severity: 'medium', message: 'Flaky wait', file: 'test/e2e.ts', line: 30 }),
  ];

  it('groups by severity, most severe first, dismissed last whatever their severity', () => {
    const rows = severityRows(SESSION_ID, findings);
    assert.deepEqual(rows.map((r) => [r.label, r.description]), [
      ['critical', '1'],
      ['medium', '1'],
      ['low', '4'],
      ['info', '1'],
      ['dismissed', '1'],
    ]);
    assert.deepEqual(rows.map((r) => r.key), ['critical', 'medium', 'low', 'info', 'dismissed'].map((s) => `sev:${SESSION_ID}:${s}`));
    assert.deepEqual(rows.map((r) => r.collapsible), ['expanded', 'expanded', 'expanded', 'expanded', 'collapsed']);
    assert.deepEqual(rows[0].icon, { id: 'error', color: 'errorForeground' });
    assert.deepEqual(rows[4].icon, { id: 'circle-slash', color: 'disabledForeground' });
    assert.deepEqual(rows[4].findings.map((f) => f.message), ['Token logged']);
    assert.ok(!rows.some((r) => r.severity === 'high'), 'the only high finding is dismissed');
    assert.deepEqual(severityRows(SESSION_ID, []), []);
  });

  it('then by file, sorted, with "(no file)" last', () => {
    const low = severityRows(SESSION_ID, findings).find((r) => r.severity === 'low')!;
    const files = fileRows(SESSION_ID, low);
    assert.deepEqual(files.map((r) => r.label), ['src/a.ts', 'src/b.ts', 'src/Z.ts', '(no file)']);
    assert.deepEqual(files.map((r) => r.description), ['1', '1', '1', '1']);
    assert.equal(files[0].file, 'src/a.ts');
    assert.equal(files[3].file, undefined);
    assert.deepEqual(files[0].icon, { id: 'file' });
    assert.deepEqual(files[3].icon, { id: 'circle-large-outline' });
    assert.equal(files[0].key, `file:${SESSION_ID}:low:src/a.ts`);
    assert.equal(files[3].key, `file:${SESSION_ID}:low:`);

    const many = fileRows(SESSION_ID, { kind: 'severity', key: 'k', label: 'low', severity: 'low', findings: [findings[3], findings[0], findings[4], finding({ severity: 'low', message: 'Shadowed name', file: 'src/a.ts', line: 7 })] });
    assert.deepEqual(many.map((r) => [r.label, r.description]), [['src/a.ts', '2'], ['src/b.ts', '1'], ['(no file)', '1']]);
  });

  it('a plain finding: message, line · rule · step, severity icon, located', () => {
    const r = findingRow(SESSION_ID, findings[1]);
    assert.equal(r.label, 'SQL built from user input');
    assert.equal(r.description, 'line 88 · sql-injection · security');
    assert.deepEqual(r.icon, { id: 'error', color: 'errorForeground' });
    assert.equal(r.contextValue, 'finding located');
    assert.equal(r.key, `finding:${SESSION_ID}:${findings[1].id}`);
    assert.equal(r.tooltip, 'critical: SQL built from user input\nsrc/db.ts:88 [sql-injection]\n• security (annotation): critical — SQL built from user input');
    const loose = findingRow(SESSION_ID, finding({ severity: 'low', message: 'Missing changelog entry\nAdd a line under Unreleased.' }));
    assert.equal(loose.label, 'Missing changelog entry');
    assert.equal(loose.description, 'lint');
    assert.equal(loose.contextValue, 'finding');
  });

  it('merged (more than one source) and disputed (a conflict or a decision) show in description, icon and contextValue', () => {
    const merged = finding({
      severity: 'high',
      message: 'Unchecked error',
      file: 'src/io.ts',
      line: 40,
      rule: 'errcheck',
      sources: [
        { step: 'lint', source: 'annotation', severity: 'high', message: 'Unchecked error' },
        { step: 'review', source: 'agent', severity: 'high', message: 'The error from write() is ignored' },
      ],
    });
    const m = findingRow(SESSION_ID, merged);
    assert.equal(m.description, 'merged ×2 · line 40 · errcheck · lint');
    assert.deepEqual(m.icon, { id: 'merge' });
    assert.deepEqual(tokens(m.contextValue), ['finding', 'merged', 'located']);
    assert.match(m.tooltip!, /\n• review \(agent\): high — The error from write\(\) is ignored$/);

    const conflict = findingRow(SESSION_ID, {
      ...merged,
      sources: [merged.sources[0], { ...merged.sources[1], severity: 'low' }],
      conflict: { severities: ['high', 'low'], resolution: 'highest severity wins' },
    });
    assert.equal(conflict.description, 'merged ×2 · disputed · line 40 · errcheck · lint');
    assert.deepEqual(conflict.icon, { id: 'comment-discussion', color: 'charts.yellow' });
    assert.deepEqual(tokens(conflict.contextValue), ['finding', 'merged', 'disputed', 'located']);
    assert.match(conflict.tooltip!, /\nseverities disagree \(high, low\): highest severity wins/);

    const decided = findingRow(SESSION_ID, {
      ...finding({ severity: 'medium', message: 'Race on cache', file: 'src/cache.ts', line: 5 }),
      sources: [
        { step: 'lint', source: 'annotation', severity: 'medium', message: 'Race on cache' },
        { step: 'review', source: 'agent', severity: 'medium', message: 'Race on cache', verdict: 'false-positive' },
      ],
      decision: { policy: 'agent', by: 'arbiter', severity: 'medium', status: 'open', reason: 'the lock is not held on the read path' },
    });
    assert.deepEqual(tokens(decided.contextValue), ['finding', 'merged', 'disputed', 'located']);
    assert.match(decided.tooltip!, /• review \(agent\): medium, says false-positive — Race on cache/);
    assert.match(decided.tooltip!, /\ndecision \(agent by arbiter\): open, medium — the lock is not held on the read path$/);

    // A decision on a single report (a reporter says "fixed") is disputed without being merged.
    const single = findingRow(SESSION_ID, finding({ severity: 'low', message: 'Old API', decision: { policy: 'majority', severity: 'low', status: 'dismissed', reason: 'reported fixed' } }));
    assert.equal(single.description, 'disputed · lint');
    assert.equal(single.contextValue, 'finding disputed');
  });
});

describe('stuckRow', () => {
  const silent: StuckItem = { session: SESSION_ID, workflow: 'Review', step: 'e2e', kind: 'silent', lastHeardAt: ago(240_000), silentMs: 240_000 };

  it('a silent step heard 4 minutes ago', () => {
    const r = stuckRow(silent, NOW);
    assert.equal(r.kind, 'stuck');
    assert.equal(r.key, `stuck:${SESSION_ID}:e2e`);
    assert.equal(r.label, 'e2e');
    assert.equal(r.description, 'Review · last heard 4m ago');
    assert.equal(r.tooltip, `Review, session ${SESSION_ID}: a step that has printed nothing since ${ago(240_000)}`);
    assert.deepEqual(r.icon, { id: 'warning', color: 'charts.yellow' });
    assert.deepEqual(tokens(r.contextValue), ['stuck', 'silent', 'cancellable', 'retryable', 'hasLog']);
  });

  it('ages with the clock (the view redraws), and never looks younger than silentMs', () => {
    assert.equal(stuckRow(silent, NOW + 120_000).description, 'Review · last heard 6m ago');
    // silentMs was measured on the host; a local clock behind it does not make the step younger.
    assert.equal(stuckRow(silent, NOW - 200_000).description, 'Review · last heard 4m ago');
    assert.equal(stuckRow({ ...silent, lastHeardAt: 'not a date' }, NOW).description, 'Review · last heard 4m ago');
  });

  it('an approval nobody answered', () => {
    const r = stuckRow({ ...silent, step: 'ship', kind: 'approval', lastHeardAt: ago(11 * 60_000), silentMs: 11 * 60_000 }, NOW);
    assert.equal(r.description, 'Review · waiting for approval, asked 11m ago');
    assert.match(r.tooltip!, /: an approval nobody has answered since /);
    assert.deepEqual(r.icon, { id: 'bell-dot', color: 'charts.yellow' });
    assert.deepEqual(tokens(r.contextValue), ['stuck', 'approvable', 'cancellable', 'hasLog']);
  });
});

// ---- a worktree step's changed files (issue 12, part 6) ------------------------------------------

const BASE = 'b'.repeat(40);
const COMMIT = 'c'.repeat(40);
function worktreeStep(over: Partial<StepState> = {}, files = 'src/app/main.ts\nREADME.md'): StepState {
  return step('backend', { status: 'succeeded', attempt: 1, outputs: { commit: COMMIT, base: BASE, branch: `orchestrator/${SESSION_ID}/backend`, changed_files: files, diffstat: '2 files changed' }, ...over });
}

describe('a worktree step: its changed files and its git actions', () => {
  it('one row per changed file: the name, its folder as description, the diff\'s two commits', () => {
    const rows = changeRows(SESSION_ID, worktreeStep());
    assert.deepEqual(
      rows.map((r) => [r.key, r.label, r.description, r.path, r.base, r.commit, r.contextValue, r.icon?.id]),
      [
        [`change:${SESSION_ID}:backend:src/app/main.ts`, 'main.ts', 'src/app', 'src/app/main.ts', BASE, COMMIT, 'change', 'file'],
        [`change:${SESSION_ID}:backend:README.md`, 'README.md', undefined, 'README.md', BASE, COMMIT, 'change', 'file'],
      ],
    );
    assert.equal(rows[0].tooltip, `src/app/main.ts\nbackend: ${'b'.repeat(12)} ↔ ${'c'.repeat(12)} (branch orchestrator/${SESSION_ID}/backend)`);
  });

  it('the step row expands only when it changed files; other steps (and git/apply, which has no base) have none', () => {
    assert.equal(stepRow(SESSION_ID, worktreeStep(), ended('succeeded'), NOW).collapsible, 'collapsed');
    assert.equal(stepRow(SESSION_ID, worktreeStep({}, ''), ended('succeeded'), NOW).collapsible, undefined);
    assert.deepEqual(changeRows(SESSION_ID, worktreeStep({}, '')), []);
    assert.deepEqual(changeRows(SESSION_ID, step('apply', { status: 'succeeded', outputs: { mode: 'ff', commit: COMMIT, branch: 'main', changed_files: 'a.txt' } })), []);
    assert.equal(stepRow(SESSION_ID, step('lint', { status: 'succeeded', attempt: 1 }), ended('succeeded'), NOW).collapsible, undefined);
  });

  it('Apply on a succeeded step with changes; Discard only while the session is at rest', () => {
    assert.deepEqual(stepTokens(worktreeStep(), ended('succeeded')), ['step', 'status-succeeded', 'appliable', 'discardable', 'hasLog', 'resumableFrom']);
    assert.deepEqual(stepTokens(worktreeStep(), summary()), ['step', 'status-succeeded', 'appliable', 'hasLog']);
    assert.deepEqual(stepTokens(worktreeStep({ status: 'failed' }), ended('failed')), ['step', 'status-failed', 'discardable', 'hasLog', 'resumableFrom']);
    assert.deepEqual(stepTokens(worktreeStep({}, ''), ended('succeeded')), ['step', 'status-succeeded', 'discardable', 'hasLog', 'resumableFrom']);
    const menu = offered(SESSIONS, stepRow(SESSION_ID, worktreeStep(), ended('succeeded'), NOW).contextValue, 'menu');
    assert.ok(menu.includes('applyStep') && menu.includes('discardStep'), menu.join());
    const live = offered(SESSIONS, stepRow(SESSION_ID, worktreeStep(), summary(), NOW).contextValue, 'menu');
    assert.ok(live.includes('applyStep') && !live.includes('discardStep'), live.join());
  });

  it('a step whose branch is gone (the summary leaves it out) offers neither Apply nor Discard', () => {
    const st = worktreeStep();
    assert.deepEqual(stepTokens(st, ended('succeeded'), [st.id]), ['step', 'status-succeeded', 'appliable', 'discardable', 'hasLog', 'resumableFrom']);
    assert.deepEqual(stepTokens(st, ended('succeeded'), []), ['step', 'status-succeeded', 'hasLog', 'resumableFrom']);
    const menu = offered(SESSIONS, stepRow(SESSION_ID, st, ended('succeeded'), NOW, ['other']).contextValue, 'menu');
    assert.ok(!menu.includes('applyStep') && !menu.includes('discardStep'), menu.join());
  });
});

describe('a session with worktree steps: Apply its result, Discard its branches; a replay says so', () => {
  const git = { branches: ['backend', 'frontend', 'integrate'], appliable: ['backend', 'frontend', 'integrate'], result: 'integrate' };
  it('at rest: Apply Session\'s Result and Discard Session\'s Branches; never while live', () => {
    for (const status of SESSION_STATUSES) {
      const r = sessionRow(status === 'running' || status === 'waiting' ? summary({ status, git }) : ended(status, { git }), NOW);
      const menu = offered(SESSIONS, r.contextValue, 'menu');
      const live = status === 'running' || status === 'waiting';
      assert.equal(menu.includes('applySession'), !live, `${status}: ${menu.join()}`);
      assert.equal(menu.includes('discardSession'), !live, `${status}: ${menu.join()}`);
      assert.ok(!menu.includes('applyStep') && !menu.includes('discardStep'), menu.join());
    }
  });

  it('branches but nothing to apply (a conflicted merge, steps that changed nothing): Discard only', () => {
    const r = sessionRow(ended('failed', { git: { branches: ['integrate'], appliable: [] } }), NOW);
    const menu = offered(SESSIONS, r.contextValue, 'menu');
    assert.ok(menu.includes('discardSession') && !menu.includes('applySession'), menu.join());
    assert.ok(!sessionTokens(ended('succeeded')).includes('discardable'), 'no git work, no Discard');
  });

  it('the tooltip names the branches and the result', () => {
    assert.match(sessionRow(ended('succeeded', { git }), NOW).tooltip ?? '', /\nbranches: backend, frontend, integrate \(the result: integrate\)/);
  });

  it('a failed git/merge (no commit, its worktree kept) can be discarded from its step row', () => {
    const merge = step('integrate', { status: 'failed', attempt: 1, outputs: { branch: `orchestrator/${SESSION_ID}/integrate`, base: BASE, worktree: '/w', conflicts: 'a.txt' } });
    assert.ok(stepTokens(merge, ended('failed')).includes('discardable'));
    assert.ok(!stepTokens(merge, ended('failed')).includes('appliable'));
    assert.ok(!stepTokens(step('land', { status: 'succeeded', attempt: 1, outputs: { mode: 'merge', commit: COMMIT, branch: 'main', changed_files: 'a.txt' } }), ended('succeeded')).includes('discardable'));
  });

  it('a replay: its label says whose recording answered, like `orchestrator list`', () => {
    const r = sessionRow(ended('succeeded', { replayOf: '20260301-120000-abcd' }), NOW);
    assert.equal(r.label, 'Review (replay of 20260301-120000-abcd)');
    assert.match(r.tooltip ?? '', /replay of session 20260301-120000-abcd: agent answers come from its recording, not from a provider/);
    assert.equal(sessionRow(ended('succeeded'), NOW).label, 'Review');
  });
});
