/**
 * The host's session requests and notifications: a thin door onto the engine. Sessions run in
 * detached runner processes (engine/sessions.ts spawnRunner), so they survive the editor window
 * reloading and this host restarting; the host follows every session of the workspace through a
 * SessionWatcher and pushes changes to the client (no polling by the client).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'vscode-languageserver/node';
import {
  ApproveStepRequest,
  CancelSessionRequest,
  CheckDefinitionRequest,
  DeleteSessionRequest,
  ExportSessionRequest,
  FindingsRequest,
  FollowLogRequest,
  ImportSessionRequest,
  LogAppendedNotification,
  SessionGraphRequest,
  SessionRemovedNotification,
  UnfollowLogRequest,
  GetSessionRequest,
  GitApplyRequest,
  GitDiscardRequest,
  GitShowRequest,
  ListSessionsRequest,
  PauseSessionRequest,
  PruneSessionsRequest,
  RejectStepRequest,
  ResumeSessionRequest,
  RetryStepRequest,
  SessionChangedNotification,
  StartSessionRequest,
  StepsChangedNotification,
  StepStuckNotification,
  StuckRequest,
  type ApplyResult,
  type DefinitionFlags,
  type NotificationDescriptor,
  type RequestDescriptor,
  type SessionDetail,
} from '../protocol';
import { describeChoice, needsChoice } from '../engine/definition';
import { checkDefinition, controlSession, InputError, loadSettled, loadWorkflowFile, resolveInputs, spawnRunner } from '../engine/sessions';
import { LockHeldError } from '../store/lock';
import { defaultStuckAfterMs, stuckInSession } from '../engine/stuck';
import { isAtRest, type SessionState } from '../engine/types';
import { loadSession, newSessionId, SessionNotFoundError } from '../store/sessionStore';
import { SessionWatcher, summarize, type SessionSummary } from '../store/sessionWatcher';
import { deleteSession, exportSnapshot, importSnapshot, SnapshotError } from '../store/portable';
import { graphOfSession } from '../workflow/graph';
import { applyStep } from '../engine/workspace/apply';
import { GitError } from '../engine/workspace/git';
import { discardStep, fileAtCommit, stepWithBranch } from '../engine/workspace/inspect';
import { BranchPresence } from './branchPresence';
import { WorkspaceError } from '../engine/workspace/worktrees';
import type { Logger } from './documents';
import { LogFollowers } from './logs';
import { PauseWatch } from './pauseWatch';
import { pruneHandler } from './prune';

export interface SessionHostOptions {
  readonly repoRoot: string;
  /** The CLI that runners run (server/out/cli.js beside this bundle). */
  readonly cli?: string;
  readonly trusted: () => boolean;
  /** ORCHESTRATOR_* variables for the runners this host starts (the editor's default settings). */
  readonly runnerEnv?: Record<string, string>;
  readonly log: Logger;
}

export function detail(s: SessionState, owner?: { pid: number; host: string }): SessionDetail {
  const { rawFindings: _r, workflow, ...rest } = s;
  return { ...rest, workflow: { name: workflow.name, file: workflow.file, hash: workflow.hash }, ...(owner ? { owner: { pid: owner.pid, host: owner.host } } : {}) };
}

export class SessionHost {
  readonly watcher: SessionWatcher;
  private readonly cli: string;
  private logs?: LogFollowers;
  private pauses?: PauseWatch;

  constructor(private readonly connection: Connection, private readonly opts: SessionHostOptions) {
    this.watcher = new SessionWatcher(opts.repoRoot);
    this.cli = opts.cli ?? path.join(__dirname, 'cli.js');
  }

  start(): void {
    const handle = <P, R>(req: RequestDescriptor<P, R>, f: (params: P) => R | Promise<R>): void => {
      this.connection.onRequest(req.method, async (params: P): Promise<R> => {
        try {
          return await f(params);
        } catch (e) {
          // Errors reach the client as response errors with a message that says what to do.
          if (e instanceof InputError || e instanceof SessionNotFoundError || e instanceof LockHeldError || e instanceof SnapshotError || e instanceof WorkspaceError || e instanceof GitError) throw new Error(e.message);
          this.opts.log.error(`internal error in ${req.method} (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          throw e;
        }
      });
    };
    const notify = <P>(n: NotificationDescriptor<P>, params: P): void => {
      void this.connection.sendNotification(n.method, params);
    };
    const logs = new LogFollowers(this.opts.repoRoot, (id) => this.watcher.get(id), (t) => notify(LogAppendedNotification, t));
    this.logs = logs;
    const branches = new BranchPresence(this.opts.repoRoot);
    const pauses = new PauseWatch(this.opts.repoRoot, (id) => this.watcher.list().find((s) => s.id === id), (s) => notify(SessionChangedNotification, branches.decorate(s)));
    this.pauses = pauses;
    /** A summary as the editor sees it: `pausing` (pauseWatch.ts), and without branches that are gone (branchPresence.ts). */
    const decorate = (s: SessionSummary): SessionSummary => branches.decorate(pauses.decorate(s));
    const stateOf = (id: string): SessionState | undefined => {
      try {
        return this.watcher.get(id);
      } catch {
        return undefined;
      }
    };
    // A session waiting for approval: its waiting steps too, when it is announced and when this host
    // starts. The runner may have written the approval before this host followed the session (a
    // busy machine, a window reloaded meanwhile), and then no event of the log tells the editor,
    // which announces approvals from step changes (once per step and attempt: a repeat is harmless).
    const pushWaiting = (s: SessionSummary): void => {
      if (s.status !== 'waiting') return;
      const state = stateOf(s.id); // undefined: gone meanwhile (its removal is announced on its own)
      const waiting = Object.values(state?.steps ?? {}).filter((st) => st.status === 'waiting' && st.approval && !st.approval.answer);
      if (waiting.length) notify(StepsChangedNotification, { id: s.id, steps: waiting });
    };
    this.watcher.on('session', (s) => {
      notify(SessionChangedNotification, decorate(s));
      pushWaiting(s);
    });
    this.watcher.on('removed', (id) => {
      pauses.unwatch(id);
      logs.forget(id);
      notify(SessionRemovedNotification, { id });
    });
    this.watcher.on('events', (events, state) => {
      logs.poke(state.id);
      const ids = [...new Set(events.map((e) => e.step).filter((x): x is string => !!x))];
      if (ids.length) notify(StepsChangedNotification, { id: state.id, steps: ids.map((i) => state.steps[i]).filter(Boolean) });
      for (const e of events) {
        if (e.type === 'step.stuck' && e.step) notify(StepStuckNotification, { id: state.id, step: e.step, lastHeardAt: String((e.data as { lastHeardAt?: string } | undefined)?.lastHeardAt ?? e.time) });
      }
    });
    this.watcher.on('warning', (w) => this.opts.log.warn(w));
    this.watcher.start();
    for (const s of this.watcher.list()) pushWaiting(s);
    // Branches gone while no host watched (discarded before a restart, deleted with git).
    void branches
      .scan(this.watcher.list(), stateOf)
      .then((ids) => {
        for (const id of ids) {
          const s = this.watcher.list().find((x) => x.id === id);
          if (s) notify(SessionChangedNotification, decorate(s));
        }
      })
      .catch((e: unknown) => this.opts.log.warn(`could not list the sessions' branches: ${e instanceof Error ? e.message : String(e)}`));

    const mustTrust = (what: string): void => {
      if (!this.opts.trusted()) throw new InputError(`this workspace is not trusted, so nothing runs here (${what}): trust the workspace to run workflows`);
    };

    handle(ListSessionsRequest, async () => {
      // A list (the editor's start, its Refresh) also asks git which branches are gone.
      await branches.scan(this.watcher.list(), stateOf).catch(() => []);
      return this.watcher.list().map(decorate);
    });
    handle(GetSessionRequest, (p) => {
      const l = loadSession(this.opts.repoRoot, p.id);
      return detail(l.state, l.owner);
    });
    handle(StartSessionRequest, async (p) => {
      mustTrust('start');
      const file = fileURLToPath(p.uri);
      resolveInputs(loadWorkflowFile(file), p.inputs);
      const id = newSessionId();
      await spawnRunner(this.cli, ['run', file, ...Object.entries(p.inputs).flatMap(([k, v]) => ['--input', `${k}=${v}`]), '--session-id', id, '--quiet'], this.opts.repoRoot, id, this.opts.runnerEnv);
      this.watcher.refresh(id);
      return { id };
    });
    /**
     * The runner's flags for how to treat a changed workflow file; without a choice, a changed
     * file is refused here (the editor asks first, with CheckDefinitionRequest).
     */
    const definitionFlags = (id: string, state: SessionState, p: DefinitionFlags): string[] => {
      if (p.reload && p.stored) throw new InputError('reload and stored exclude each other: choose one');
      if (p.reload) return ['--reload'];
      if (p.stored) return ['--stored'];
      const check = checkDefinition(this.opts.repoRoot, state);
      if (needsChoice(check)) throw new InputError(describeChoice(check, id));
      return [];
    };
    handle(CheckDefinitionRequest, (p) => checkDefinition(this.opts.repoRoot, loadSession(this.opts.repoRoot, p.id).state));
    handle(ResumeSessionRequest, async (p) => {
      mustTrust('resume');
      const l = await loadSettled(this.opts.repoRoot, p.id);
      if (l.owner) throw new InputError(`session ${p.id} is running: it is owned by process ${l.owner.pid} on ${l.owner.host}`);
      const flags = definitionFlags(p.id, l.state, p);
      await spawnRunner(this.cli, ['resume', p.id, ...(p.from ? ['--from', p.from] : []), ...flags, '--quiet'], this.opts.repoRoot, p.id, this.opts.runnerEnv);
      this.watcher.refresh(p.id);
      return { id: p.id };
    });
    const control = async (id: string, command: Parameters<typeof controlSession>[2]) => {
      const res = await controlSession(this.opts.repoRoot, id, command);
      if (res.applied === 'done') this.watcher.refresh(id);
      const s = decorate(summarize(res.state));
      // A pause on its way: say `pausing` now (the log changes only when the running steps end).
      if (s.pausing) notify(SessionChangedNotification, s);
      return s;
    };
    handle(PauseSessionRequest, (p) => control(p.id, { type: 'pause', by: 'editor' }));
    handle(CancelSessionRequest, (p) => control(p.id, { type: 'cancel', by: 'editor' }));
    handle(ApproveStepRequest, (p) => control(p.id, { type: 'approve', step: p.step, by: 'editor', ...(p.reason ? { reason: p.reason } : {}) }));
    handle(RejectStepRequest, (p) => control(p.id, { type: 'reject', step: p.step, by: 'editor', ...(p.reason ? { reason: p.reason } : {}) }));
    handle(RetryStepRequest, async (p) => {
      mustTrust('retry');
      const l = await loadSettled(this.opts.repoRoot, p.id);
      if (l.owner && !isAtRest(l.state.status)) {
        await controlSession(this.opts.repoRoot, p.id, { type: 'retry', step: p.step, by: 'editor' });
        return { id: p.id };
      }
      const flags = definitionFlags(p.id, l.state, p);
      await spawnRunner(this.cli, ['resume', p.id, '--from', p.step, ...flags, '--quiet'], this.opts.repoRoot, p.id, this.opts.runnerEnv);
      this.watcher.refresh(p.id);
      return { id: p.id };
    });
    handle(FindingsRequest, (p) => loadSession(this.opts.repoRoot, p.id).state.findings);
    handle(SessionGraphRequest, (p) => {
      const s = this.watcher.get(p.id);
      return graphOfSession(s.workflow.compiled, s.order, s.steps, `${s.workflow.name} · ${s.id}`);
    });
    handle(FollowLogRequest, (p) => logs.follow(p));
    handle(UnfollowLogRequest, (p) => {
      logs.unfollow(p);
      return null;
    });
    handle(DeleteSessionRequest, async (p) => {
      await deleteSession(this.opts.repoRoot, p.id);
      this.watcher.forget(p.id);
      return null;
    });
    handle(PruneSessionsRequest, pruneHandler(this.opts.repoRoot, (id) => this.watcher.forget(id)));
    handle(ExportSessionRequest, async (p) => {
      const r = await exportSnapshot(this.opts.repoRoot, p.id, p.file);
      return { file: r.file, bytes: r.bytes };
    });
    handle(ImportSessionRequest, async (p) => {
      const r = await importSnapshot(this.opts.repoRoot, p.file);
      this.watcher.refresh(r.id);
      return { id: r.id };
    });
    // A session's git work: the engine does it (engine/workspace/), the host routes.
    handle(GitShowRequest, (p) => fileAtCommit(this.opts.repoRoot, loadSession(this.opts.repoRoot, p.id).state, p.commit, p.path));
    handle(GitApplyRequest, async (p): Promise<ApplyResult> => {
      mustTrust('apply');
      const out = await applyStep({ repoRoot: this.opts.repoRoot, session: loadSession(this.opts.repoRoot, p.id).state }, p.step, p.mode);
      if (out.status !== 'succeeded') return { ok: false, reason: out.reason ?? out.status };
      const o = out.outputs;
      return { ok: true, mode: p.mode, commit: o.commit ?? '', ...(o.branch ? { branch: o.branch } : {}), changedFiles: (o.changed_files ?? '').split('\n').filter((f) => f !== '') };
    });
    handle(GitDiscardRequest, async (p) => {
      mustTrust('discard');
      const l = await loadSettled(this.opts.repoRoot, p.id);
      if (l.owner) throw new InputError(`session ${p.id} is running (process ${l.owner.pid} on ${l.owner.host}): pause or cancel it before discarding a step's branch`);
      const done = await discardStep(this.opts.repoRoot, l.state, p.step);
      // The row stops offering Discard (and Apply) for it: the session's state does not change.
      branches.discarded(p.id, stepWithBranch(l.state, p.step).id);
      notify(SessionChangedNotification, decorate(summarize(l.state)));
      return done;
    });
    handle(StuckRequest, () => {
      const now = Date.now();
      // The runners' default (config.yaml, the editor's setting as a variable), as they see it.
      const fallback = defaultStuckAfterMs(this.opts.repoRoot, { ...process.env, ...this.opts.runnerEnv });
      return this.watcher
        .list()
        .filter((s) => s.status === 'running' || s.status === 'waiting')
        .flatMap((s) => stuckInSession(this.watcher.get(s.id), now, fallback));
    });
  }

  stop(): void {
    this.logs?.dispose();
    this.pauses?.dispose();
    this.watcher.stop();
  }
}
