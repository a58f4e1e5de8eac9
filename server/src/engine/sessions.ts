/**
 * Starting, resuming and controlling sessions: what the CLI and the host both call.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv } from '../agents/environment';
import type { CompiledWorkflow } from '../workflow/plan';
import { appendControl, type ControlCommand } from '../store/control';
import { EventLog, readEvents } from '../store/eventLog';
import { acquireLock, type LockHandle } from '../store/lock';
import { pausePoint } from '../store/testHooks';
import { loadSession, newSessionId, sessionPaths, type SessionPaths } from '../store/sessionStore';
import { collectEmptySessions, collectLeftovers, createLockedSession, removeUnstartedSession } from '../store/sessionFolders';
import { unresumable } from '../store/logDamage';
import { SnapshotWriter } from '../store/snapshot';
import { pruneAfterSession } from '../store/retention';
import { systemClock, type Clock } from './clock';
import { InputError } from './errors';
import { idChanges, inspectDefinition, type DefinitionCheck } from './definition';
import { SessionRunner } from './runner';
import { releaseScratch } from './steps/scratch';
import { describeStopped, stopLeftovers } from './steps/stepProcesses';
import { engineDefaults, SettingError, type DefaultsOptions, type EnvDefaults } from './settings';
import { baseForSession, endSessionWorkspaces, recoverSessionWorkspaces } from './workspace/session';
import { WorkspaceError } from './workspace/worktrees';
import { Masker, resolveSecrets } from './secrets';
import { applyEvent, finalize, initialState, type StartedData } from './state';
import { isAtRest, isStepDone, type SessionEvent, type SessionState } from './types';
import { instancesOf, loadWorkflowFile, resolveInputs } from './workflowFile';

/**
 * A new run starts with an empty control.jsonl (under the lock): commands in it were for an
 * earlier run, and every command written from now on is for this one.
 */
function freshControl(paths: SessionPaths): void {
  fs.rmSync(paths.control, { force: true });
}

export interface RunOptions {
  readonly repoRoot: string;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  readonly homeDir?: string;
  readonly onEvent?: (e: SessionEvent, state: SessionState) => void;
  /** Lock heartbeat interval (tests shorten it). */
  readonly snapshotEveryMs?: number;
  /** The flag layer of the configuration (`--concurrency`, `--stuck-after`): see settings.ts. */
  readonly flags?: DefaultsOptions['flags'];
}

export interface Started {
  readonly id: string;
  readonly paths: SessionPaths;
  readonly runner: SessionRunner;
  /** Resolves when the session is at rest. */
  readonly done: Promise<SessionState>;
  /** Masks the session's secrets in text (for what the caller prints about it). */
  readonly masker: Masker;
  /** What the caller should say before the session's progress (config problems, a changed workflow file, …). */
  readonly warnings: string[];
}

interface Secrets {
  readonly secrets: Map<string, string>;
  readonly masker: Masker;
}

/** Read before anything is written, so that an unreadable secret cannot leave a half-made session. */
function loadSecrets(opts: RunOptions): Secrets {
  try {
    defaultsOf(opts); // a bad ORCHESTRATOR_CONCURRENCY / _STUCK_AFTER (or flag) stops the start here
  } catch (e) {
    if (e instanceof SettingError) throw new InputError(e.message);
    throw e;
  }
  let secrets: Map<string, string>;
  try {
    secrets = resolveSecrets({ env: opts.env ?? process.env, repoRoot: opts.repoRoot, homeDir: opts.homeDir ?? os.homedir() });
  } catch (e) {
    throw new InputError(`${e instanceof Error ? e.message : String(e)}: fix or remove it (secrets are files in .orchestrator/secrets/ or ~/.orchestrator/secrets/, or ORCHESTRATOR_SECRET_* variables)`);
  }
  return { secrets, masker: new Masker([...secrets.values()]) };
}

/** `concurrency` and `stuck_after` from the config files, the variables and the flags. */
function defaultsOf(opts: RunOptions): EnvDefaults {
  return engineDefaults({ repoRoot: opts.repoRoot, env: opts.env ?? process.env, ...(opts.homeDir ? { homeDir: opts.homeDir } : {}), ...(opts.flags ? { flags: opts.flags } : {}) });
}

function makeRunner(state: SessionState, paths: SessionPaths, log: EventLog, lock: LockHandle, opts: RunOptions, { secrets, masker }: Secrets): Started {
  const env = opts.env ?? process.env;
  const defaults = defaultsOf(opts);
  if (!masker.empty) log.mask = (data) => masker.maskDeep(data);
  const runner = new SessionRunner(state, {
    repoRoot: opts.repoRoot,
    paths,
    log,
    lock,
    clock: opts.clock ?? systemClock,
    secrets,
    masker,
    baseEnv: cleanEnv(env),
    defaultConcurrency: defaults.concurrency ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
    ...(defaults.stuckAfterMs !== undefined ? { stuckAfterMs: defaults.stuckAfterMs } : {}),
    ...(opts.snapshotEveryMs !== undefined ? { snapshotEveryMs: opts.snapshotEveryMs } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
  const done = runner
    .run()
    .then(async (s) => {
      // Worktrees go when the runner is done with the session; branches (the commits) stay.
      await endSessionWorkspaces(opts.repoRoot, s).catch(() => undefined);
      return s;
    })
    .finally(() => {
    log.close();
    releaseScratch(paths.dir);
    lock.release();
  })
    .then((s) => pruneAfterSession(s, { repoRoot: opts.repoRoot, ...(opts.homeDir ? { homeDir: opts.homeDir } : {}), ...(opts.env ? { env: opts.env } : {}) })); // retention: store/retention.ts
  return { id: state.id, paths, runner, done, masker, warnings: defaults.configProblems ?? [] };
}

/** Steps do not inherit ORCHESTRATOR_SECRET_* variables: secrets reach them only through expressions. */
/** The base commit for a workflow with worktrees (HEAD); a repository without a commit is an InputError. */
async function sessionBase(repoRoot: string, compiled: CompiledWorkflow): Promise<string | undefined> {
  try {
    return await baseForSession(repoRoot, compiled);
  } catch (e) {
    if (e instanceof WorkspaceError) throw new InputError(e.message);
    throw e;
  }
}

export async function startSession(file: string, given: Record<string, string>, opts: RunOptions & { id?: string }): Promise<Started> {
  const compiled = loadWorkflowFile(file);
  const inputs = resolveInputs(compiled, given);
  const rel = path.relative(opts.repoRoot, path.resolve(file)) || file;
  return beginSession({ workflow: { name: compiled.name, file: rel, hash: compiled.hash, compiled }, inputs, instances: instancesOf(compiled) }, opts);
}

/** Creates a session from its first event's data (a workflow, its inputs; a replay: what it replays) and starts its runner. */
export async function beginSession(data: StartedData, opts: RunOptions & { id?: string }): Promise<Started> {
  const secrets = loadSecrets(opts);
  const base = await sessionBase(opts.repoRoot, data.workflow.compiled);
  const id = opts.id ?? newSessionId();
  collectLeftovers(opts.repoRoot); // staged folders of runners killed before the rename
  await collectEmptySessions(opts.repoRoot); // folders of runners killed before their first event
  // Born locked: the folder appears (renamed into place) with this runner's lock in it. A given id
  // (the host's, a replay's) must be an id and a new one: createLockedSession refuses others.
  const { paths, lock } = await createLockedSession(opts.repoRoot, id);
  let log: EventLog | undefined;
  try {
    pausePoint('session-locked'); // race tests: locked, no event yet
    freshControl(paths);
    log = new EventLog(paths.log, id, 0);
    // This repository's HEAD now (a replay's recorded data carries the original's base).
    const { base: _recorded, ...fresh } = data;
    data = base ? { ...fresh, base } : fresh;
    const started = log.append('session.started', { data: data as unknown as Record<string, unknown> }, { sync: true });
    const state = initialState(started);
    new SnapshotWriter(paths.state, log, 0).write(state);
    opts.onEvent?.(started, state);
    return makeRunner(state, paths, log, lock, opts, secrets);
  } catch (e) {
    // Nothing ran: remove the folder rather than leave a session that never started.
    log?.close();
    try {
      removeUnstartedSession(opts.repoRoot, id, lock);
    } catch {
      lock.release(); // collectEmptySessions removes what is left
    }
    throw e;
  }
}

/**
 * A runner writes its last event, then releases the lock: for a moment a session is at rest and
 * still owned. Loads the session, waiting (up to 3 s) for such a finishing runner to let go.
 */
export async function loadSettled(repoRoot: string, id: string): Promise<ReturnType<typeof loadSession>> {
  let l = loadSession(repoRoot, id);
  const t0 = Date.now();
  while (l.owner && isAtRest(l.state.status) && Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 20));
    l = loadSession(repoRoot, id);
  }
  return l;
}

/** The session's workflow file now against its stored definition (what resume asks about). */
export function checkDefinition(repoRoot: string, state: SessionState): DefinitionCheck {
  return inspectDefinition(repoRoot, state, loadWorkflowFile).check;
}

export interface ResumeOptions extends RunOptions {
  readonly from?: string;
  /** Take the workflow file as it is now (its step ids must match the stored definition). */
  readonly reload?: boolean;
  /** Keep the definition stored in the session, knowingly (no warning when the file changed). */
  readonly stored?: boolean;
}

export interface ResumePlan {
  readonly reset: string[];
  readonly warnings: string[];
}

export async function resumeSession(id: string, opts: ResumeOptions): Promise<Started & ResumePlan> {
  const loaded = await loadSettled(opts.repoRoot, id);
  if (loaded.owner) throw new InputError(`session ${id} is running: it is owned by process ${loaded.owner.pid} on ${loaded.owner.host}; pause or cancel it first`);
  const secrets = loadSecrets(opts);
  const lock = await acquireLock(loaded.paths.lock);
  try {
    freshControl(loaded.paths);
    // Read again under the lock: the session may have moved on since.
    const fresh = loadSession(opts.repoRoot, id);
    let state = fresh.state;
    const warnings = [...fresh.warnings];
    const lost = unresumable(state); // its session.started event is damaged: no workflow to run
    if (lost) throw new InputError(lost);
    // What the dead runner left running would run beside the steps resumed here: stop it first.
    const stopped = await stopLeftovers(fresh.paths, state);
    if (stopped.length) warnings.push(describeStopped(stopped));
    await recoverSessionWorkspaces(opts.repoRoot, state); // stale ref locks, records of vanished worktrees
    if (state.status === 'succeeded' && !opts.from) throw new InputError(`session ${id} succeeded: there is nothing to resume (use --from STEP to run a step and what follows it again)`);
    const { check, current, error } = inspectDefinition(opts.repoRoot, state, loadWorkflowFile);
    let workflowUpdate: { workflow: SessionState['workflow']; instances: { id: string; stepId: string }[] } | undefined;
    if (opts.reload) {
      if (check.status === 'missing') throw new InputError(`--reload: the workflow file ${state.workflow.file} does not exist any more`);
      if (error) throw error;
      if (check.status === 'changed' && !check.reloadable) throw new InputError(`--reload needs the same step ids: the file ${idChanges(check)}; start a new session instead`);
      if (check.status === 'changed' && current) workflowUpdate = { workflow: { ...state.workflow, hash: current.hash, name: current.name, compiled: current }, instances: instancesOf(current) };
    } else if (check.status === 'missing') warnings.push(`the workflow file ${state.workflow.file} no longer exists; resuming with the definition stored in the session`);
    else if (!opts.stored && check.status === 'invalid') warnings.push(`the workflow file no longer validates; resuming with the definition stored in the session`);
    else if (!opts.stored && check.status === 'changed') warnings.push(`the workflow file changed since the session started; resuming with the stored definition (pass --reload to take the new one)`);

    const compiled = workflowUpdate?.workflow.compiled ?? state.workflow.compiled;
    const instances = workflowUpdate?.instances ?? state.order.map((i) => ({ id: i, stepId: state.steps[i].stepId }));
    let reset: string[];
    if (opts.from) {
      const target = compiled.steps.find((s) => s.id === opts.from || instances.some((i) => i.id === opts.from && i.stepId === s.id));
      if (!target) throw new InputError(`--from: no step '${opts.from}' in session ${id} (steps: ${compiled.steps.map((s) => s.id).join(', ')})`);
      const down = downstream(compiled, target.id);
      reset = instances.filter((i) => down.has(i.stepId) && (i.stepId !== target.id || opts.from === target.id || i.id === opts.from)).map((i) => i.id);
    } else {
      reset = instances.filter((i) => {
        const s = state.steps[i.id];
        return !s || !(s.status === 'succeeded' || s.status === 'skipped' || s.status === 'pending');
      }).map((i) => i.id);
    }
    // Cut a torn last line before appending.
    const read = readEvents(fresh.paths.log);
    if (read.torn) fs.truncateSync(fresh.paths.log, read.endOffset);
    const log = new EventLog(fresh.paths.log, id, Math.max(state.seq, read.events.at(-1)?.seq ?? 0));
    const listener = log.onEvent((e) => {
      state = applyEvent(state, e);
    });
    log.append('session.resumed', { data: { reset, ...(opts.from ? { from: opts.from } : {}), ...(workflowUpdate ? { workflow: workflowUpdate.workflow, instances: workflowUpdate.instances } : {}) } }, { sync: true });
    listener();
    const made = makeRunner(state, fresh.paths, log, lock, opts, secrets);
    return { ...made, reset, warnings: [...made.warnings, ...warnings] };
  } catch (e) {
    lock.release();
    throw e;
  }
}

function downstream(w: CompiledWorkflow, from: string): Set<string> {
  const out = new Set([from]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of w.steps) if (!out.has(s.id) && s.needs.some((n) => out.has(n))) {
      out.add(s.id);
      grew = true;
    }
  }
  return out;
}

/**
 * A control command: sent to the live runner through control.jsonl, or, when the session has
 * none, applied directly where that makes sense (cancel of a session at rest).
 */
export async function controlSession(repoRoot: string, id: string, command: ControlCommand): Promise<{ applied: 'sent' | 'done'; state: SessionState }> {
  const loaded = await loadSettled(repoRoot, id);
  const st = loaded.state;
  if (command.type === 'approve' || command.type === 'reject') {
    const step = st.steps[command.step];
    if (!step) throw new InputError(`session ${id} has no step '${command.step}'`);
    if (step.status !== 'waiting') throw new InputError(`step '${command.step}' of session ${id} is not waiting for approval (it is ${step.status})`);
  }
  if (loaded.owner) {
    appendControl(loaded.paths.control, command);
    return { applied: 'sent', state: st };
  }
  switch (command.type) {
    case 'cancel': {
      if (st.status === 'succeeded' || st.status === 'cancelled') throw new InputError(`session ${id} already ${st.status}: nothing to cancel`);
      const lock = await acquireLock(loaded.paths.lock);
      try {
        const now = loadSession(repoRoot, id);
        await stopLeftovers(loaded.paths, now.state);
        // Cut a torn last line before appending (as resume does), or the first event appended
        // would share its line and be lost with it.
        const read = readEvents(loaded.paths.log);
        if (read.torn) fs.truncateSync(loaded.paths.log, read.endOffset);
        const log = new EventLog(loaded.paths.log, id, Math.max(now.state.seq, read.events.at(-1)?.seq ?? 0));
        let state = now.state;
        log.onEvent((e) => {
          state = applyEvent(state, e);
        });
        const reason = command.reason ?? `cancelled${command.by ? ` by ${command.by}` : ''}`;
        for (const sid of state.order) if (!isStepDone(state.steps[sid].status)) log.append('step.finished', { step: sid, data: { status: 'cancelled', reason } });
        log.append('session.finished', { data: { status: 'cancelled', reason } }, { sync: true });
        new SnapshotWriter(loaded.paths.state, log, 0).write(finalize(state));
        log.close();
        // The session has ended without a runner: its worktrees go as a runner's would at its end
        // (branches stay); a failure here is doctor's to report, the cancel itself stands.
        await recoverSessionWorkspaces(repoRoot, state).catch(() => undefined);
        await endSessionWorkspaces(repoRoot, state).catch(() => undefined);
        return { applied: 'done', state };
      } finally {
        lock.release();
      }
    }
    case 'pause':
      throw new InputError(`session ${id} is not running (it is ${st.status}): there is nothing to pause`);
    case 'approve':
    case 'reject':
      throw new InputError(`session ${id} has no live runner (it is ${st.status}): resume it (orchestrator resume ${id}), then answer the approval`);
    case 'retry':
      throw new InputError(`session ${id} is not running (it is ${st.status}): run the step again with orchestrator resume ${id} --from ${command.step}`);
  }
}

export { isAtRest, sessionPaths };
export { InputError } from './errors';
export { spawnRunner } from './spawnRunner';
export { findRepoRoot, instancesOf, loadWorkflowFile, resolveInputs } from './workflowFile';
