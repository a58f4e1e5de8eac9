/**
 * Watches the sessions of a repository for a long-lived process (the editor's host): new
 * sessions appear, live ones are followed by reading their log tails as they grow, and changes
 * are emitted as they happen (fs.watch; no polling of state).
 *
 * One exception: a runner killed with SIGKILL or a power cut cannot announce its death, so the
 * owners of live sessions are checked every `livenessMs` (default 10 s); a dead one turns the
 * session `interrupted`.
 *
 * Memory stays small: full states are kept only for live sessions; at-rest sessions are kept as
 * summaries and loaded on demand.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spend } from '../engine/spend';
import { applyEvent, finalize } from '../engine/state';
import { isAtRest, type LogDamage, type SessionEvent, type SessionState } from '../engine/types';
import { sessionGit, type SessionGit } from '../engine/workspace/sessionGit';
import { countSteps, type StepCounts } from '../protocol/summary';
import { readEvents } from './eventLog';
import { ensureGitignore } from './gitignore';
import { damageText, describeDamage } from './logDamage';
import { lockStatus } from './lock';
import { listSessionIds, loadSession, sessionPaths, sessionsDir } from './sessionStore';

/** How long an at-rest session's announcement waits for its live runner to release the lock. */
const RELEASE_GUARD_MS = 60_000;

export interface SessionSummary {
  id: string;
  workflow: string;
  file: string;
  status: SessionState['status'];
  reason?: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Steps finished in any way (succeeded, failed, skipped, cancelled, timed out). */
  done: number;
  total: number;
  /** Steps by status (what `1/3 done · 1 failed · 1 cancelled` is made of: protocol/summary.ts). */
  counts: StepCounts;
  /** A pause was asked for and running steps are finishing (set by the host and `list`: engine/pausing.ts). */
  pausing?: boolean;
  findings: number;
  stuck: number;
  /** Lines of log.jsonl that could not be read (see logDamage.ts); absent when the log is whole. */
  damaged?: LogDamage[];
  /** What the session's agent calls spent (budgets); absent before the first. */
  spent?: Spend;
  /** A replay: the id of the session whose recording answers its agent calls. */
  replayOf?: string;
  /** Its steps' branches and what can be applied (engine/workspace/sessionGit.ts); absent when no step made a branch. */
  git?: SessionGit;
}

export function summarize(s: SessionState): SessionSummary {
  let done = 0;
  let stuck = 0;
  for (const st of Object.values(s.steps)) {
    if (st.status === 'succeeded' || st.status === 'failed' || st.status === 'skipped' || st.status === 'cancelled' || st.status === 'timed_out') done++;
    if (st.stuck) stuck++;
  }
  return {
    id: s.id,
    workflow: s.workflow.name,
    file: s.workflow.file,
    status: s.status,
    ...(s.reason ? { reason: s.reason } : {}),
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    done,
    total: s.order.length,
    counts: countSteps(Object.values(s.steps)),
    findings: s.findings.length,
    stuck,
    ...(s.damaged?.length ? { damaged: s.damaged } : {}),
    ...(s.spent ? { spent: s.spent.total } : {}),
    ...(s.replay ? { replayOf: s.replay.of } : {}),
    ...withGit(s),
  };
}

function withGit(s: SessionState): { git?: SessionGit } {
  const git = sessionGit(s);
  return git ? { git } : {};
}

interface Live {
  state: SessionState;
  offset: number;
  watcher?: fs.FSWatcher;
}

export interface WatcherEvents {
  /** A session's summary changed (new, progressed, finished, interrupted). */
  session: [SessionSummary];
  /** Events appended to a live session's log, with the state after them. */
  events: [SessionEvent[], SessionState];
  /** A session folder went away (deleted). */
  removed: [string];
  warning: [string];
}

function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export class SessionWatcher extends EventEmitter<WatcherEvents> {
  private readonly summaries = new Map<string, SessionSummary>();
  private readonly live = new Map<string, Live>();
  /** Log sizes of sessions at rest, to notice one brought back to life (a CLI resume). */
  private readonly sizes = new Map<string, number>();
  private dirWatcher?: fs.FSWatcher;
  private rootWatcher?: fs.FSWatcher;
  private liveness?: NodeJS.Timeout;

  constructor(readonly repoRoot: string, private readonly livenessMs = 10_000) {
    super();
  }

  start(): void {
    ensureGitignore(this.repoRoot);
    for (const id of listSessionIds(this.repoRoot)) this.track(id, false);
    this.watchDir();
    this.liveness = setInterval(() => this.checkOwners(), this.livenessMs);
    this.liveness.unref();
  }

  stop(): void {
    this.dirWatcher?.close();
    this.rootWatcher?.close();
    for (const l of this.live.values()) l.watcher?.close();
    this.live.clear();
    if (this.liveness) clearInterval(this.liveness);
  }

  list(): SessionSummary[] {
    // fs.watch events come when the event loop gets to them: a session another process created a
    // moment ago is listed even if its event has not been handled yet (a readdir; known ids cost nothing).
    this.scan();
    return [...this.summaries.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** The full state (live from memory, at rest from disk). */
  get(id: string): SessionState {
    // Catch up with what the runner wrote before the fs.watch event for it was handled (a client
    // asking about a step that just started must not be told it has not).
    if (this.live.has(id) && !this.tailing) this.readTail(id);
    const l = this.live.get(id);
    if (l) return l.state;
    return loadSession(this.repoRoot, id).state;
  }

  private watchDir(): void {
    const dir = sessionsDir(this.repoRoot);
    if (!fs.existsSync(dir)) {
      // Wait for .orchestrator/, then .orchestrator/sessions/, to appear (the repository's first session).
      const parent = path.dirname(dir);
      const top = fs.existsSync(parent) ? parent : this.repoRoot;
      try {
        this.rootWatcher = fs.watch(top, () => {
          const nowTop = fs.existsSync(parent) ? parent : this.repoRoot;
          if (this.dirWatcher || (!fs.existsSync(dir) && nowTop === top)) return;
          this.rootWatcher?.close();
          this.rootWatcher = undefined;
          this.watchDir();
          this.scan();
        });
      } catch (e) {
        this.emit('warning', `cannot watch ${top}: ${String(e)}`);
      }
      if (fs.existsSync(parent) && top !== parent) this.watchDir();
      return;
    }
    try {
      this.dirWatcher = fs.watch(dir, () => this.scan());
    } catch (e) {
      this.emit('warning', `cannot watch ${dir}: ${String(e)}`);
    }
  }

  /** New session folders, and folders that went away. */
  private scan(): void {
    const ids = listSessionIds(this.repoRoot);
    for (const id of ids) if (!this.summaries.has(id)) this.track(id, true);
    const present = new Set(ids);
    for (const id of [...this.summaries.keys()]) if (!present.has(id)) this.forget(id);
  }

  /** Drops a session whose folder is gone. */
  forget(id: string): void {
    if (!this.summaries.delete(id)) return;
    this.live.get(id)?.watcher?.close();
    this.live.delete(id);
    this.sizes.delete(id);
    this.emit('removed', id);
  }

  private track(id: string, announce: boolean, attempt = 0): void {
    let state: SessionState;
    let owner = false;
    try {
      const l = loadSession(this.repoRoot, id);
      state = l.state;
      owner = !!l.owner;
    } catch (e) {
      // A session folder being created: its first event comes in a moment. A folder that stays
      // unreadable (its runner died while creating it) is reported once and left alone.
      if (attempt < 25) {
        setTimeout(() => {
          if (!this.summaries.has(id)) this.track(id, true, attempt + 1);
        }, 200).unref();
      } else this.emit('warning', e instanceof Error ? e.message : String(e));
      return;
    }
    const summary = summarize(state);
    this.summaries.set(id, summary);
    if (owner) this.follow(id, state);
    else this.sizes.set(id, logSize(sessionPaths(this.repoRoot, id).log));
    if (announce) this.emit('session', summary);
  }

  private follow(id: string, state: SessionState): void {
    const paths = sessionPaths(this.repoRoot, id);
    const read = readEvents(paths.log);
    const l: Live = { state, offset: read.endOffset };
    this.live.set(id, l);
    try {
      l.watcher = fs.watch(paths.log, () => this.readTail(id));
    } catch (e) {
      this.emit('warning', `cannot watch ${paths.log}: ${String(e)}`);
    }
  }

  /** Set while a readTail runs: listeners of its events that ask for a state get it as it is (no re-entry). */
  private tailing = false;

  private readTail(id: string): void {
    if (this.tailing) return;
    this.tailing = true;
    try {
      this.readTailNow(id);
    } finally {
      this.tailing = false;
    }
  }

  private readTailNow(id: string): void {
    const l = this.live.get(id);
    if (!l) return;
    const r = readEvents(sessionPaths(this.repoRoot, id).log, l.offset);
    if (r.damaged.length) this.emit('warning', `log.jsonl of session ${id} is damaged: ${damageText(r.damaged.map((d) => describeDamage(d)))}`);
    if (!r.events.length) return;
    l.offset = r.endOffset;
    for (const e of r.events) applyEvent(l.state, e);
    if (r.events.some((e) => e.type === 'step.finding')) finalize(l.state);
    this.emit('events', r.events, l.state);
    if (!isAtRest(l.state.status)) {
      this.update(id, l.state);
      return;
    }
    // The runner writes its last event, then releases the lock: announce the rest once it has,
    // so that a client acting on it (resume, retry) is not refused as "running".
    this.unfollow(id);
    const paths = sessionPaths(this.repoRoot, id);
    // The release follows the last event at once, but a busy machine can put seconds between them:
    // wait for it as long as the owner lives (its heartbeat keeps the lock 'held'), with a generous
    // guard for a runner that hangs after its last event.
    const t0 = Date.now();
    let n = 0;
    const announce = (): void => {
      if (lockStatus(paths.lock).state === 'held' && Date.now() - t0 < RELEASE_GUARD_MS) setTimeout(announce, Math.min(15 * 2 ** n++, 250)).unref();
      else this.update(id, l.state);
    };
    announce();
  }

  private update(id: string, state: SessionState): void {
    const s = summarize(state);
    this.summaries.set(id, s);
    this.emit('session', s);
  }

  private unfollow(id: string): void {
    const l = this.live.get(id);
    l?.watcher?.close();
    this.live.delete(id);
    this.sizes.set(id, logSize(sessionPaths(this.repoRoot, id).log));
  }

  /** Runners that died without a word: their sessions are interrupted. */
  checkOwners(): void {
    for (const [id, l] of [...this.live]) {
      const lock = lockStatus(sessionPaths(this.repoRoot, id).lock);
      if (lock.state === 'held') continue;
      this.readTail(id);
      if (!this.live.has(id)) continue;
      this.unfollow(id);
      // loadSession says `interrupted` when the session is not at rest and no runner owns it.
      let state = l.state;
      try {
        state = loadSession(this.repoRoot, id).state;
      } catch {
        /* keep what we had */
      }
      this.update(id, state);
    }
    // Sessions that came alive again (resumed elsewhere): their log grew, or a live runner owns them.
    for (const s of [...this.summaries.values()]) {
      if (this.live.has(s.id)) continue;
      const paths = sessionPaths(this.repoRoot, s.id);
      const size = logSize(paths.log);
      if (size !== this.sizes.get(s.id) || lockStatus(paths.lock).state === 'held') this.track(s.id, true);
    }
  }

  /** Call after this process changed a session itself (start, resume), to follow it at once. */
  refresh(id: string): void {
    this.unfollow(id);
    this.track(id, true);
  }
}
