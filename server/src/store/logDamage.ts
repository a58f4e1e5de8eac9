/**
 * A damaged log.jsonl (docs/sessions.md, "A damaged log"): a line in the middle that holds no
 * readable event (a flipped byte, a disk error, a hand edit). A torn *last* line is what a crash
 * leaves and is ignored silently (eventLog.ts); any other bad line is reported, never skipped
 * without a word:
 *
 * - the session carries `damaged`: each bad line's number and what it lost (its event's seq, type
 *   and step, as far as they can be told from what is legible and from the seqs around it);
 * - a step that the log shows unfinished in a session at rest (its step.finished was lost) is
 *   treated as not finished: it says so, and resume runs it again. A session that says it
 *   succeeded with such a step is `interrupted`, so that it can be resumed;
 * - when the lost line is the session.started event (and state.json cannot stand in for it), the
 *   workflow and inputs are lost: the session is still listed and shown from its other events,
 *   but it cannot be resumed (unresumable() says why). Nothing advises deleting it.
 *
 * Only what is read is checked: a valid state.json reflects the log up to its logOffset, and that
 * part is not read again.
 */
import type { CompiledWorkflow } from '../workflow/plan';
import { applyEvent, finalize } from '../engine/state';
import { isAtRest, isStepDone, type LogDamage, type SessionEvent, type SessionState } from '../engine/types';
import type { DamagedLine } from './eventLog';

/** What a damaged line lost, from what is legible in it and the seqs of the events around it. */
export function describeDamage(d: DamagedLine, knownPrevSeq?: number): LogDamage {
  const prev = d.prevSeq ?? knownPrevSeq;
  let seq = d.seq;
  if (seq === undefined && prev !== undefined && d.nextSeq === prev + 2) seq = prev + 1;
  if (seq === undefined && prev === undefined && d.nextSeq === 2) seq = 1;
  const type = d.type ?? (seq === 1 ? 'session.started' : undefined);
  const what = type === 'session.started' ? `${type} (the workflow and inputs)` : type ? `${type}${d.step !== undefined ? ` of step ${d.step}` : ''}` : d.step !== undefined ? `an event of step ${d.step}` : '';
  let lost: string;
  if (prev !== undefined && d.nextSeq === prev + 1 && d.seq === undefined) lost = 'no event (the events around it follow each other)';
  else if (seq !== undefined) lost = `event ${seq}${what ? `: ${what}` : ''}`;
  else if (prev !== undefined && d.nextSeq !== undefined) lost = `${what || 'an event'} between events ${prev} and ${d.nextSeq}`;
  else lost = what || 'an event';
  return { line: d.line, lost, ...(seq !== undefined ? { seq } : {}), ...(type ? { type } : {}), ...(d.step !== undefined ? { step: d.step } : {}) };
}

/** One line for warnings and `show`: "line 7 lost event 7: step.finished of step a". */
export function damageText(damaged: LogDamage[]): string {
  return damaged.map((d) => `line ${d.line} lost ${d.lost}`).join('; ');
}

/**
 * Records the damage on the state and makes what it lost visible: unfinished steps of a session at
 * rest are treated as not finished (resume runs them again), and a session that says it succeeded
 * with such steps becomes `interrupted`. Returns the warning to give, or undefined when undamaged.
 */
export function applyDamage(state: SessionState, found: LogDamage[]): string | undefined {
  if (found.length) {
    const byLine = new Map((state.damaged ?? []).map((d) => [d.line, d]));
    for (const d of found) byLine.set(d.line, d);
    state.damaged = [...byLine.values()].sort((a, b) => a.line - b.line);
  }
  if (!state.damaged?.length) return undefined;
  const where = damageText(state.damaged);
  let consequence = '';
  if (unresumable(state)) consequence = '; it can be shown, not resumed';
  else if (isAtRest(state.status)) {
    // At rest, no step runs: one the log shows running or waiting lost its end.
    const lostEnds = state.order.filter((id) => state.steps[id].status === 'running' || state.steps[id].status === 'waiting');
    for (const id of lostEnds) {
      const line = state.damaged.find((d) => d.step === id)?.line;
      state.steps[id].reason = `its end was not recorded (log.jsonl${line ? ` line ${line}` : ''} is damaged): treated as not finished; resume runs it again`;
    }
    const notDone = state.order.filter((id) => !isStepDone(state.steps[id].status));
    const named = state.status === 'succeeded' ? notDone : lostEnds;
    if (named.length) consequence = `; ${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} treated as not finished: resume runs ${named.length === 1 ? 'it' : 'them'} again`;
    if (state.status === 'succeeded' && notDone.length) {
      state.status = 'interrupted';
      state.reason = `log.jsonl is damaged: ${where}${consequence}`;
    }
  }
  return `log.jsonl of session ${state.id} is damaged: ${where}${consequence}`;
}

/** Why a session cannot be resumed because of its damaged log, or undefined. */
export function unresumable(state: SessionState): string | undefined {
  if (!state.damaged?.some((d) => d.type === 'session.started')) return undefined;
  const line = state.damaged.find((d) => d.type === 'session.started')?.line ?? 1;
  return `session ${state.id} cannot be resumed: line ${line} of its log.jsonl, the session.started event, is damaged, and with it the workflow and inputs the session ran with; orchestrator show ${state.id} shows what its other events recorded; start the workflow again with orchestrator run FILE`;
}

/** The workflow of a session whose session.started event is lost. */
const UNKNOWN_WORKFLOW: CompiledWorkflow = { name: '(unknown: log.jsonl damaged)', definition: {} as CompiledWorkflow['definition'], steps: [], hash: '' };

/**
 * The state of a session whose session.started event is lost (and no state.json stands in): its
 * steps and statuses as its other events recorded them. Undefined when nothing at all is left.
 */
export function stateWithoutStart(id: string, events: SessionEvent[], damage: LogDamage[]): SessionState | undefined {
  if (!events.length && !damage.length) return undefined;
  const startLost = damage.find((d) => d.type === 'session.started') ?? damage[0];
  if (startLost && !startLost.type) {
    startLost.type = 'session.started';
    startLost.lost = 'the session.started event (the workflow and inputs)';
  }
  const time = events[0]?.time ?? new Date(0).toISOString();
  const state: SessionState = {
    id,
    workflow: { name: UNKNOWN_WORKFLOW.name, file: '(unknown)', hash: '', compiled: UNKNOWN_WORKFLOW },
    inputs: {},
    status: 'running',
    startedAt: time,
    updatedAt: time,
    steps: {},
    order: [],
    findings: [],
    rawFindings: [],
    seq: 0,
    controlApplied: 0,
  };
  for (const e of events) {
    if (e.step !== undefined && !state.steps[e.step]) {
      state.steps[e.step] = { id: e.step, stepId: e.step.replace(/\[.*$/s, ''), status: 'pending', attempt: 0, outputs: {}, findings: 0 };
      state.order.push(e.step);
    }
    applyEvent(state, e);
  }
  finalize(state);
  return state;
}
