/**
 * What the editor says about a session, as plain data (no VS Code): the steps' summary shared with
 * the CLI (`1/3 done · 1 failed · 1 cancelled`), `pausing`, the rows whose durations tick, the
 * status bar text, which ends are toasts and which are status bar messages (and that a repeated
 * failure is never identical to the previous one), and the question before a resume of a session
 * whose workflow file changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endAnnouncement, isNewEnd, statusBarView } from '../../client/src/announce';
import { countSteps, emptyCounts, statusText, stepsText, type DefinitionCheck, type SessionSummary, type StepCounts, type StepState } from '../../client/src/protocol';
import { BUTTONS, resumeQuestion } from '../../client/src/resumeQuestion';
import { isTicking, sessionRow, sessionTokens, stepRow, tickRows, type TreeRow } from '../../client/src/views/nodes';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const ID = '20260302-095655-k3fq';

function counts(over: Partial<StepCounts>): StepCounts {
  return { ...emptyCounts(), ...over };
}

function summary(over: Partial<SessionSummary> = {}): SessionSummary {
  return { id: ID, workflow: 'Review', file: 'review.yaml', status: 'running', startedAt: ago(65_000), updatedAt: ago(1000), done: 1, total: 3, counts: counts({ succeeded: 1, running: 1, pending: 1 }), findings: 0, stuck: 0, ...over };
}

function step(id: string, over: Partial<StepState> = {}): StepState {
  return { id, stepId: id, status: 'pending', attempt: 0, outputs: {}, findings: 0, ...over };
}

describe('stepsText: what the steps came to (the Sessions row, the status bar, orchestrator list)', () => {
  it('a failed session whose one step succeeded is not 3/3', () => {
    const c = countSteps([{ status: 'succeeded' }, { status: 'failed' }, { status: 'cancelled' }]);
    assert.equal(stepsText(c, 3, { atRest: true }), '1/3 done · 1 failed · 1 cancelled');
  });
  it('every outcome in a fixed order; pending only at rest; running steps of a session at rest are interrupted', () => {
    const c = counts({ succeeded: 2, failed: 1, timed_out: 1, cancelled: 1, skipped: 1, running: 1, waiting: 1, pending: 2 });
    assert.equal(stepsText(c, 10), '2/10 done · 1 failed · 1 timed out · 1 cancelled · 1 skipped · 1 running · 1 waiting');
    assert.equal(stepsText(c, 10, { atRest: true }), '2/10 done · 1 failed · 1 timed out · 1 cancelled · 1 skipped · 1 interrupted · 1 waiting · 2 pending');
    assert.equal(stepsText(counts({ succeeded: 3 }), 3, { atRest: true, steps: true }), '3/3 steps done');
  });
  it('statusText: pausing while a pause waits for running steps; words for the rest', () => {
    assert.equal(statusText({ status: 'running', pausing: true }), 'pausing');
    assert.equal(statusText({ status: 'running' }), 'running');
    assert.equal(statusText({ status: 'waiting', pausing: true }), 'waiting');
    assert.equal(statusText({ status: 'timed_out' }), 'timed out');
  });
});

describe('the Sessions row', () => {
  it('a failed session says what happened', () => {
    const r = sessionRow(summary({ status: 'failed', finishedAt: ago(5000), done: 3, counts: counts({ succeeded: 1, failed: 1, cancelled: 1 }) }), NOW);
    assert.equal(r.description, `failed · 1/3 done · 1 failed · 1 cancelled · 1m 00s · ${ID}`);
  });
  it('a pausing session: pausing, its own icon, cancellable but not pausable again', () => {
    const r = sessionRow(summary({ pausing: true }), NOW);
    assert.equal(r.description, `pausing · 1/3 done · 1 running · 1m 05s · ${ID}`);
    assert.deepEqual(r.icon, { id: 'debug-pause', color: 'charts.blue' });
    assert.match(r.tooltip!, /: pausing \(running steps finish, nothing new starts\)/);
    const t = sessionTokens(summary({ pausing: true }));
    assert.ok(t.includes('pausing') && t.includes('cancellable') && t.includes('live'), t.join(' '));
    assert.ok(!t.includes('pausable'), t.join(' '));
  });
  it('a session with a damaged log says so in the row and which lines in the tooltip', () => {
    const damaged = [{ line: 3, lost: 'event 3: step.finished of step a' }];
    const r = sessionRow(summary({ status: 'interrupted', finishedAt: ago(5000), damaged }), NOW);
    assert.match(r.description!, /^interrupted \(damaged log\) · /);
    assert.match(r.tooltip!, /log\.jsonl is damaged: line 3 lost event 3: step\.finished of step a/);
    assert.equal(statusText({ status: 'succeeded' }), 'succeeded', 'no mark on a whole log');
  });
});

describe('durations that tick', () => {
  const live = summary();
  it('live sessions and running/waiting steps tick; the rest do not', () => {
    assert.ok(isTicking(sessionRow(live, NOW)));
    assert.ok(!isTicking(sessionRow(summary({ status: 'failed', finishedAt: ago(0) }), NOW)));
    assert.ok(isTicking(stepRow(ID, step('a', { status: 'running', attempt: 1, startedAt: ago(3000) }), live, NOW)));
    assert.ok(isTicking(stepRow(ID, step('g', { status: 'waiting', attempt: 1, startedAt: ago(3000) }), live, NOW)));
    assert.ok(!isTicking(stepRow(ID, step('b', { status: 'succeeded', attempt: 1, startedAt: ago(3000), finishedAt: ago(1000) }), live, NOW)));
    assert.ok(!isTicking(stepRow(ID, step('c'), live, NOW)));
  });
  it('a tick updates only the rows whose text changed, in place', () => {
    const steps = [step('a', { status: 'running', attempt: 1, startedAt: ago(12_000) }), step('b', { status: 'succeeded', attempt: 1, startedAt: ago(20_000), finishedAt: ago(15_000) }), step('c')];
    const rows: TreeRow[] = [sessionRow(live, NOW), ...steps.map((s) => stepRow(ID, s, live, NOW))];
    const objects = [...rows];
    const at = (t: number) => (r: TreeRow): TreeRow | undefined => (r.kind === 'session' ? sessionRow(live, t) : r.kind === 'step' ? stepRow(ID, r.step, live, t) : undefined);
    const changed = tickRows(rows, at(NOW + 1000));
    assert.deepEqual(changed.map((r) => r.key), [`session:${ID}`, `step:${ID}:a`]);
    assert.equal(rows[0].description, `running · 1/3 done · 1 running · 1m 06s · ${ID}`);
    assert.equal(rows[1].description, 'running · 13s');
    assert.ok(rows.every((r, i) => r === objects[i]), 'rows are updated in place (the tree keeps them by identity)');
    // Within the same displayed second nothing changes, so nothing is redrawn.
    assert.deepEqual(tickRows(rows, at(NOW + 1200)), []);
  });
});

describe('the status bar item', () => {
  it('hidden without live sessions; one session by name, with its steps', () => {
    assert.equal(statusBarView([summary({ status: 'failed' })], 0), undefined);
    const v = statusBarView([summary()], 0)!;
    assert.equal(v.text, '$(sync~spin) Review · 1/3 done · 1 running');
    assert.equal(v.warning, false);
    assert.match(v.tooltip, /\*\*Review\*\* `20260302-095655-k3fq` — running, 1\/3 done · 1 running/);
  });
  it('several sessions: their steps summed; pausing, approvals and stuck steps shown', () => {
    const v = statusBarView([summary(), summary({ id: 'b', status: 'waiting', counts: counts({ succeeded: 2, waiting: 1 }) }), summary({ id: 'c', pausing: true })], 1)!;
    assert.equal(v.text, '$(sync~spin) 3 sessions (1 pausing) · 4/9 done · 2 running · 1 waiting $(bell) 1 $(warning) 1');
    assert.equal(v.warning, true);
    assert.equal(statusBarView([summary({ pausing: true })], 0)!.text, '$(debug-pause) Review pausing · 1/3 done · 1 running');
  });
});

describe('announcing a session that ended', () => {
  const failed = summary({ status: 'failed', reason: 'step b failed: exit code 1', finishedAt: ago(0), counts: counts({ succeeded: 1, failed: 1, cancelled: 1 }) });
  it('successes, cancels and pauses go to the status bar, not a toast', () => {
    for (const status of ['succeeded', 'cancelled', 'paused'] as const) assert.equal(endAnnouncement(summary({ status }), 1, '10:00:00')?.where, 'statusBar', status);
    assert.match((endAnnouncement(summary({ status: 'succeeded', counts: counts({ succeeded: 3 }), findings: 2 }), 1, 't') as { message: string }).message, /Review \(20260302-095655-k3fq\) succeeded — 3\/3 done, 2 finding\(s\)$/);
  });
  it('a failure is an error toast that says what happened, with Show Graph and Resume', () => {
    const a = endAnnouncement(failed, 1, '10:00:00');
    assert.deepEqual(a, { where: 'toast', severity: 'error', message: `Orchestrator: Review (${ID}) failed at 10:00:00 — 1/3 done · 1 failed · 1 cancelled: step b failed: exit code 1.`, buttons: ['Show Graph', 'Resume'] });
  });
  it('a resume that failed again is a new end also when the window saw only failed → failed', () => {
    assert.equal(isNewEnd(summary(), failed), true, 'running → failed');
    assert.equal(isNewEnd(failed, { ...failed, finishedAt: ago(-5000) }), true, 'failed → failed, ended again later');
    assert.equal(isNewEnd(failed, { ...failed, findings: 2 }), false, 'the same end, read again');
    assert.equal(isNewEnd(summary(), summary({ done: 2 })), false, 'progress is not an end');
    assert.equal(isNewEnd(summary({ status: 'paused', finishedAt: ago(0) }), summary({ status: 'paused', finishedAt: ago(-1) })), true, 'paused again');
  });
  it('a repeated failure is never identical to the one before (VS Code would show nothing new)', () => {
    const messages = [1, 2, 3, 11, 22].map((n) => (endAnnouncement(failed, n, '10:00:00') as { message: string }).message);
    assert.equal(new Set(messages).size, messages.length);
    assert.match(messages[1], /failed again \(2nd time\) at 10:00:00/);
    assert.match(messages[2], /again \(3rd time\)/);
    assert.match(messages[3], /again \(11th time\)/);
    assert.match(messages[4], /again \(22nd time\)/);
  });
  it('timed out is an error toast; interrupted a warning toast with Resume; live statuses nothing', () => {
    assert.equal((endAnnouncement(summary({ status: 'timed_out' }), 1, 't') as { severity: string }).severity, 'error');
    assert.deepEqual((endAnnouncement(summary({ status: 'interrupted' }), 1, 't') as { buttons: string[] }).buttons, ['Resume']);
    assert.equal(endAnnouncement(summary({ status: 'running' }), 1, 't'), undefined);
  });
});

describe('the question before resuming a session whose workflow file changed', () => {
  const base: DefinitionCheck = { file: '.orchestrator/workflows/review.yaml', status: 'unchanged', added: [], removed: [], reloadable: false };
  it('nothing to ask when the file is as it was (or only its comments changed), or gone', () => {
    assert.equal(resumeQuestion(base, ID), undefined);
    assert.equal(resumeQuestion({ ...base, cosmetic: true }, ID), undefined);
    assert.equal(resumeQuestion({ ...base, status: 'missing' }, ID), undefined);
  });
  it('the same step ids: the changed file or the stored definition', () => {
    const q = resumeQuestion({ ...base, status: 'changed', reloadable: true }, ID)!;
    assert.equal(q.message, `.orchestrator/workflows/review.yaml changed since session ${ID} started.`);
    assert.deepEqual(q.buttons, [{ label: BUTTONS.reload, answer: 'reload' }, { label: BUTTONS.stored, answer: 'stored' }]);
  });
  it('other step ids: says which, and offers a fresh start instead of the changed file', () => {
    const q = resumeQuestion({ ...base, status: 'changed', added: ['f'], removed: ['e', 'g'] }, ID)!;
    assert.match(q.detail, /the file adds f and removes e, g/);
    assert.deepEqual(q.buttons.map((b) => b.answer), ['fresh', 'stored']);
  });
  it('a file with errors now: its problems, or the stored definition', () => {
    const q = resumeQuestion({ ...base, status: 'invalid', errors: ['review.yaml:3:5 error unknown-need ...'] }, ID)!;
    assert.match(q.detail, /1 error\(s\) now[\s\S]*unknown-need/);
    assert.deepEqual(q.buttons.map((b) => b.answer), ['problems', 'stored']);
  });
});
