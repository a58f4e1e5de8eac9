/**
 * The session runner: owns one session (its lock), schedules its steps and records every
 * transition as an event. Scheduling is event driven: whenever something changes (a step ends, a
 * timer fires, a control command arrives) `pump()` decides what to start or whether to stop.
 *
 * Rules (workflow-format.md, docs/sessions.md):
 * - A step is ready when every instance of every step it needs is done.
 * - Its condition: `if`, implicitly `success() && (if)` unless it uses a status function.
 *   success(): every need succeeded (a need that failed with on_error: continue counts as
 *   succeeded, as GitHub's continue-on-error). failure(): some step upstream failed or timed out.
 * - A failure with on_error: fail stops new steps (except those whose `if` uses always() or
 *   failure()); once nothing runs, the steps that will not start end `cancelled` ("not
 *   started"), so always()/failure() steps after them can run; then the session fails. A resume
 *   runs the cancelled steps again.
 * - pause: start nothing new; when nothing runs, the session is `paused` and the runner exits.
 * - cancel / deadline: running steps are terminated (their process trees killed); the session
 *   ends `cancelled` / `timed_out`, keeping what finished.
 */
import { interpolate, type EvalContext } from '../workflow/expressions';
import { parseDuration } from '../workflow/durations';
import type { CompiledStep } from '../workflow/plan';
import type { EventLog } from '../store/eventLog';
import type { LockHandle } from '../store/lock';
import type { ControlEntry } from '../store/control';
import type { SessionPaths } from '../store/sessionStore';
import { SnapshotWriter } from '../store/snapshot';
import type { Clock, Timer } from './clock';
import { EvalContexts, StepsContext } from './contexts';
import { executeStep, type StepOutcome } from './steps/executeStep';
import { Arbitration } from './findings/arbiter';
import { ControlInbox } from './controlInbox';
import { attemptEnd } from './retryPolicy';
import type { Masker } from './secrets';
import { Readiness } from './readiness';
import { SilenceWatch, stuckAfterMs } from './silence';
import { decideStart, usesStatusFunction } from './stepCondition';
import { applyEvent, finalize } from './state';
import { isAtRest, type SessionEvent, type SessionState, type SessionStatus, type StepState } from './types';

export interface RunnerOptions {
  readonly repoRoot: string;
  readonly paths: SessionPaths;
  readonly log: EventLog;
  readonly lock?: LockHandle;
  readonly clock: Clock;
  readonly secrets: ReadonlyMap<string, string>;
  readonly masker: Masker;
  /** The environment steps inherit (process.env by default). */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Used when the workflow sets no `concurrency`. */
  readonly defaultConcurrency: number;
  /** Default stuck_after when neither the step nor defaults set one (5m). */
  readonly stuckAfterMs?: number;
  /** How often state.json is rewritten at most while running (ms). */
  readonly snapshotEveryMs?: number;
  /** Called after every event is applied. */
  readonly onEvent?: (e: SessionEvent, state: SessionState) => void;
}

/** A running step or an open approval. */
interface Running {
  readonly abort: AbortController;
  readonly silence: SilenceWatch;
}

export class SessionRunner {
  readonly state: SessionState;
  private readonly steps: Map<string, CompiledStep>;
  private readonly ctxSteps: StepsContext;
  private readonly contexts: EvalContexts;
  private readonly running = new Map<string, Running>();
  private readonly retryTimers = new Map<string, Timer>();
  private readonly waiting = new Map<string, Running>();
  private pauseRequested = false;
  private cancelRequested: { status: 'cancelled' | 'timed_out'; reason: string } | undefined;
  private failed: string | undefined;
  private done!: (s: SessionState) => void;
  private readonly finished: Promise<SessionState>;
  private deadlineTimer?: Timer;
  private readonly inbox: ControlInbox;
  private readonly snapshot: SnapshotWriter;
  private pumping = false;
  private over = false;
  private readonly readiness: Readiness;

  constructor(state: SessionState, private readonly opts: RunnerOptions) {
    this.state = state;
    this.steps = new Map(state.workflow.compiled.steps.map((s) => [s.id, s]));
    this.ctxSteps = new StepsContext(state);
    this.contexts = new EvalContexts(state, this.steps, this.ctxSteps, opts.secrets);
    this.snapshot = new SnapshotWriter(opts.paths.state, opts.log, opts.snapshotEveryMs ?? 1000);
    this.finished = new Promise((r) => (this.done = r));
    this.inbox = new ControlInbox(opts.paths.control, (entry, index) => this.applyCommand(entry, index));
    this.readiness = new Readiness(state, (id) => this.needInstances(id));
    opts.log.onEvent((e) => {
      const before = e.step ? this.state.steps[e.step]?.status : undefined;
      applyEvent(this.state, e);
      const s = e.step ? this.state.steps[e.step] : undefined;
      if (s && (e.type === 'step.finished' || e.type === 'step.started')) this.ctxSteps.refresh(s.stepId);
      if (e.type === 'session.resumed') this.readiness.index();
      else if (s) this.readiness.track(s.id, before, s.status);
      opts.onEvent?.(e, this.state);
    });
  }

  /** Runs until the session is at rest (finished or paused); resolves with the final state. */
  run(): Promise<SessionState> {
    const wf = this.state.workflow.compiled.definition;
    const deadline = parseDuration(wf.deadline);
    if (deadline !== undefined) {
      this.deadlineTimer = this.opts.clock.setTimeout(() => this.requestCancel('timed_out', `the session's deadline (${String(wf.deadline)}) passed`), deadline);
    }
    this.inbox.open();
    this.pump();
    return this.finished;
  }

  // ---- control ---------------------------------------------------------------------------

  private applyCommand(entry: ControlEntry, index: number): void {
    const c = entry.command;
    const by = c.by ? { by: c.by } : {};
    switch (c.type) {
      case 'pause':
        this.pauseRequested = true;
        break;
      case 'cancel':
        this.requestCancel('cancelled', c.reason ?? `cancelled${c.by ? ` by ${c.by}` : ''}`);
        return;
      case 'approve':
      case 'reject': {
        const step = this.state.steps[c.step];
        if (!step || step.status !== 'waiting') break;
        const answer = c.type === 'approve' ? 'approved' : 'rejected';
        this.opts.log.append('approval.answered', { step: c.step, data: { control: index, answer, ...by, ...(c.reason ? { reason: c.reason } : {}) } }, { sync: true });
        this.stopWatching(c.step, this.waiting);
        const reason = answer === 'rejected' ? `rejected${c.by ? ` by ${c.by}` : ''}${c.reason ? `: ${c.reason}` : ''}` : undefined;
        this.opts.log.append('step.finished', { step: c.step, attempt: step.attempt, data: { status: answer === 'approved' ? 'succeeded' : 'failed', ...(reason ? { reason } : {}) } });
        if (answer === 'rejected') this.noteFailure(c.step);
        break;
      }
      case 'retry': {
        const r = this.running.get(c.step);
        if (r) {
          // Kill the current attempt; the step then runs again (it counts as an attempt).
          this.retryNow.add(c.step);
          r.abort.abort();
        }
        break;
      }
    }
    this.pump();
  }

  private readonly retryNow = new Set<string>();

  private requestCancel(status: 'cancelled' | 'timed_out', reason: string): void {
    if (this.cancelRequested || this.over) return;
    this.cancelRequested = { status, reason };
    for (const r of this.running.values()) r.abort.abort();
    for (const [id, t] of this.retryTimers) {
      t.cancel();
      this.retryTimers.delete(id);
      this.opts.log.append('step.finished', { step: id, data: { status: 'cancelled', reason } });
    }
    for (const [id, w] of this.waiting) {
      w.silence.stop();
      this.waiting.delete(id);
      this.opts.log.append('step.finished', { step: id, data: { status: 'cancelled', reason } });
    }
    this.pump();
  }

  // ---- scheduling --------------------------------------------------------------------------

  private concurrency(): number {
    return this.state.workflow.compiled.definition.concurrency ?? this.opts.defaultConcurrency;
  }

  private needsOf(id: string): string[] {
    const def = this.steps.get(this.state.steps[id].stepId);
    return def ? def.needs : [];
  }

  private needInstances(id: string): StepState[] {
    return this.needsOf(id).flatMap((n) => this.ctxSteps.instancesOf(n).map((i) => this.state.steps[i]));
  }

  private pump(): void {
    if (this.pumping || this.over) return;
    this.pumping = true;
    try {
      this.pumpOnce();
    } finally {
      this.pumping = false;
    }
  }

  /** negotiate: { agent }: the arbiter, asked once all steps are done. */
  private readonly arbitration = new Arbitration();

  /** Whether the session must wait for the arbiter before it finishes (it starts it if needed). */
  private awaitArbiter(): boolean {
    return this.arbitration.awaited(
      { repoRoot: this.opts.repoRoot, session: this.state, secrets: this.opts.secrets, masker: this.opts.masker },
      () => finalize(this.state).findings.filter((f) => f.decision),
      () => this.cancelRequested !== undefined,
      () => this.pump(),
    );
  }

  private pumpOnce(): void {
    if (this.arbitration.running) return;
    const stopping = this.cancelRequested !== undefined || this.pauseRequested;
    // A step that ends at once (skipped, or its `if` fails) can make a step earlier in `order`
    // ready (order is the file's order, not a topological one): pass again until nothing moves.
    for (let progressed = !stopping; progressed; ) {
      progressed = false;
      const candidates = this.readiness.candidates();
      for (const id of candidates) {
        if (this.running.size >= this.concurrency()) break;
        const s = this.state.steps[id];
        if (s.status !== 'pending' || this.retryTimers.has(id)) continue;
        const needs = this.needInstances(id);
        const def = this.steps.get(s.stepId)!;
        if (this.failed && !usesStatusFunction(def)) continue;
        this.startStep(s, def, needs);
        progressed = true;
      }
    }
    if (this.running.size || this.retryTimers.size) return;
    if (this.cancelRequested) return this.finish(this.cancelRequested.status, this.cancelRequested.reason, true);
    if (this.waiting.size) return; // an approval is open: wait for it
    if (this.pauseRequested) return this.pauseNow();
    if (this.failed && this.cancelBlocked()) return this.pumpOnce();
    const pending = this.state.order.filter((id) => this.state.steps[id].status === 'pending');
    if (this.awaitArbiter()) return;
    if (this.failed) return this.finish('failed', this.failed);
    if (pending.length) {
      // Nothing runs and nothing can start: pending steps wait on steps that will never finish.
      return this.finish('failed', `steps ${pending.slice(0, 5).join(', ')} could not start`);
    }
    const failedSteps = this.state.order.filter((id) => {
      const s = this.state.steps[id];
      return (s.status === 'failed' || s.status === 'timed_out' || s.status === 'cancelled') && !this.contexts.continues(s);
    });
    if (failedSteps.length) this.finish('failed', `step ${failedSteps[0]} ${this.state.steps[failedSteps[0]].status}`);
    else this.finish('succeeded');
  }

  /**
   * After a failure, once nothing runs: steps that will not start (their `if` uses neither
   * always() nor failure()) end `cancelled`, so that always()/failure() steps after them can run;
   * a resume runs the cancelled ones again. Returns whether anything changed.
   */
  private cancelBlocked(): boolean {
    let changed = false;
    for (const id of this.state.order) {
      const s = this.state.steps[id];
      if (s.status !== 'pending') continue;
      const def = this.steps.get(s.stepId)!;
      if (usesStatusFunction(def)) continue;
      this.opts.log.append('step.finished', { step: id, data: { status: 'cancelled', reason: `not started: ${this.failed ?? 'the session failed'}` } });
      changed = true;
    }
    return changed;
  }

  private startStep(s: StepState, def: CompiledStep, needs: StepState[]): void {
    const ctx = this.contexts.forStep(s, def, needs);
    const start = decideStart(def, ctx, needs);
    if (!start.run) {
      this.opts.log.append('step.finished', { step: s.id, data: { status: start.status, reason: start.reason } });
      if (start.status === 'failed') this.noteFailure(s.id);
      return;
    }
    if (def.kind === 'approval') return this.requestApproval(s, def, ctx);
    const attempt = s.attempt + 1;
    const r = this.watch(s.id, def, this.running);
    this.opts.log.append('step.started', { step: s.id, attempt });
    const wf = this.state.workflow.compiled.definition;
    executeStep({
      repoRoot: this.opts.repoRoot,
      paths: this.opts.paths,
      session: this.state,
      step: s,
      def,
      defaults: wf.defaults ?? {},
      workflowEnv: wf.env ?? {},
      attempt,
      ctx,
      selfContext: (outputs) => this.contexts.forStep(s, def, needs, outputs),
      baseEnv: this.opts.baseEnv ?? process.env,
      masker: this.opts.masker,
      secrets: this.opts.secrets,
      signal: r.abort.signal,
      heard: () => this.running.get(s.id)?.silence.heard(),
      finding: (f) => this.opts.log.append('step.finding', { step: s.id, attempt, data: { finding: f } }),
    })
      .catch((e: unknown): StepOutcome => ({ status: 'failed', reason: `internal error (please report it): ${e instanceof Error ? e.message : String(e)}`, outputs: {} }))
      .then((outcome) => this.stepEnded(s.id, def, attempt, outcome), () => undefined);
  }

  private stepEnded(id: string, def: CompiledStep, attempt: number, outcome: StepOutcome): void {
    this.stopWatching(id, this.running);
    if (this.over) return;
    const end = attemptEnd(outcome, { attempt, policy: def.retry ?? this.state.workflow.compiled.definition.defaults?.retry, retryNow: this.retryNow.delete(id), cancelled: this.cancelRequested !== undefined, pausing: this.pauseRequested });
    if (end.kind === 'retry') {
      this.opts.log.append('step.retrying', { step: id, attempt, data: { delayMs: end.delayMs, reason: end.reason, ...(outcome.agent ? { agent: outcome.agent } : {}) } });
      if (end.now) return this.pump();
      this.retryTimers.set(
        id,
        this.opts.clock.setTimeout(() => {
          this.retryTimers.delete(id);
          this.pump();
        }, end.delayMs),
      );
      return;
    }
    const { status, data } = end;
    this.opts.log.append('step.finished', { step: id, attempt, data });
    if ((status === 'failed' || status === 'timed_out') && !this.contexts.continues(this.state.steps[id])) this.noteFailure(id);
    this.snapshot.maybeWrite(this.state);
    this.pump();
  }

  private noteFailure(id: string): void {
    const s = this.state.steps[id];
    if (this.contexts.continues(s)) return;
    this.failed ??= `step ${id} ${s.status}${s.reason ? `: ${s.reason}` : ''}`;
  }

  // ---- approvals and stuck ----------------------------------------------------------------

  private requestApproval(s: StepState, def: CompiledStep, ctx: EvalContext): void {
    let question: string;
    try {
      question = this.opts.masker.mask(interpolate(def.approval ?? '', ctx));
    } catch {
      question = def.approval ?? '';
    }
    this.watch(s.id, def, this.waiting);
    this.opts.log.append('step.started', { step: s.id, attempt: s.attempt + 1 });
    this.opts.log.append('approval.requested', { step: s.id, data: { question } }, { sync: true });
    this.snapshot.write(this.state);
  }

  /** Starts watching a step that runs or waits for silence (stuck_after) and adds it to `into`. */
  private watch(id: string, def: CompiledStep, into: Map<string, Running>): Running {
    const after = stuckAfterMs(this.state.workflow.compiled, def, this.opts.stuckAfterMs ?? 300_000);
    const silence = new SilenceWatch(this.opts.clock, after, {
      active: () => !this.over && (this.running.has(id) || this.waiting.has(id)),
      stuck: (lastHeard, silentMs) => this.opts.log.append('step.stuck', { step: id, data: { lastHeardAt: new Date(lastHeard).toISOString(), silentMs } }, { flush: true }),
      heardAgain: () => this.opts.log.append('step.heartbeat', { step: id }),
    });
    const r: Running = { abort: new AbortController(), silence };
    into.set(id, r);
    return r;
  }

  private stopWatching(id: string, from: Map<string, Running>): void {
    from.get(id)?.silence.stop();
    from.delete(id);
  }

  // ---- the end ----------------------------------------------------------------------------

  private pauseNow(): void {
    this.opts.log.append('session.paused', { data: { reason: 'paused on request' } }, { sync: true });
    this.end();
  }

  private finish(status: SessionStatus, reason?: string, cancelPending = false): void {
    if (cancelPending) {
      for (const id of this.state.order) {
        const s = this.state.steps[id];
        if (s.status === 'pending') this.opts.log.append('step.finished', { step: id, data: { status: 'cancelled', reason: reason ?? 'cancelled' } });
      }
    }
    const decisions = Object.keys(this.arbitration.decisions).length ? { decisions: this.arbitration.decisions } : {};
    this.opts.log.append('session.finished', { data: { status, ...(reason ? { reason } : {}), ...decisions } }, { sync: true });
    this.end();
  }

  private end(): void {
    this.over = true;
    this.deadlineTimer?.cancel();
    this.inbox.close();
    for (const w of this.waiting.values()) w.silence.stop();
    finalize(this.state);
    this.snapshot.write(this.state);
    this.done(this.state);
  }

  /** For callers that hold a runner in-process (tests, the CLI): the same as a control command. */
  get isOver(): boolean {
    return this.over || isAtRest(this.state.status);
  }
}
