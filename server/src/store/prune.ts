/**
 * Pruning sessions (docs/state-and-retention.md, "Pruning"): sessions at rest, oldest first, with
 * their logs, worktrees and branches; never a live session (its runner holds the lock) nor one
 * waiting for approval (even when its runner died: someone is expected to answer it).
 *
 * Safe against a runner starting or resuming a session at the same time: each session is removed
 * under its lock (taken without waiting: a held lock means a runner has it, and it is kept), after
 * reading it again under that lock (a session that moved on since it was chosen is kept), and its
 * folder is renamed out of the sessions' namespace before it is deleted (sessionFolders.ts), as
 * `orchestrator delete` does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAtRest, type SessionState, type SessionStatus } from '../engine/types';
import { branchesBySession } from '../engine/workspace/session';
import { sessionWorktrees, worktreesRoot } from '../engine/workspace/worktrees';
import { acquireLock, describeOwner, LockHeldError } from './lock';
import { collectEmptySessions, collectLeftovers, removeLockedSession, SnapshotError } from './sessionFolders';
import { listSessionIds, loadSession, sessionPaths } from './sessionStore';
import { pausePoint } from './testHooks';

export interface PruneCriteria {
  /** Keep the newest N sessions at rest (of `status`, when given); remove the older ones. */
  readonly keep?: number;
  /** Remove sessions at rest whose last activity is older than this. */
  readonly maxAgeMs?: number;
  readonly maxAgeText?: string;
  /** Remove the oldest sessions at rest until all sessions (with their worktrees) take at most this many bytes. */
  readonly maxSizeBytes?: number;
  readonly maxSizeText?: string;
  /** Only sessions with this status; alone, every session at rest with it. */
  readonly status?: SessionStatus;
}

export interface PruneOptions {
  readonly repoRoot: string;
  readonly criteria: PruneCriteria;
  readonly dryRun?: boolean;
  /** For tests: the time ages are measured from (ms since the epoch). */
  readonly now?: number;
  /** Never removed, though counted (auto-prune: the session that just ended). */
  readonly exclude?: readonly string[];
  /** Only these may be removed (the editor confirms the list of a dry run). */
  readonly only?: readonly string[];
}

export interface PrunedSession {
  id: string;
  status: SessionStatus;
  workflow: string;
  /** When it last changed: its end, or its last event. */
  lastActivity: string;
  /** Its folder, its runner's log and its worktrees, in bytes. */
  bytes: number;
  /** Its worktree folders (relative to the repository root) and its branches, removed with it. */
  worktrees: string[];
  branches: string[];
  /** Which rules chose it: `older than 30d`, `beyond the newest 20`, `over max_size 2GB`, `status failed`. */
  why: string[];
}

export interface PruneReport {
  dryRun: boolean;
  /** Removed (with --dry-run: to remove), oldest first. */
  removed: PrunedSession[];
  /** Chosen or protected but kept, with why: running, waiting for approval, unreadable, changed since chosen. */
  skipped: { id: string; reason: string }[];
  /** Chosen but not removed: git could not remove its worktrees, or the disk refused. */
  failed: { id: string; error: string }[];
  freedBytes: number;
  /** Sessions left. */
  kept: number;
}

interface Candidate {
  readonly state: SessionState;
  readonly live: boolean;
  readonly last: number;
}

/** Removes (or, dry, lists) what the criteria choose. Never throws for one session: see `failed` and `skipped`. */
export async function prune(opts: PruneOptions): Promise<PruneReport> {
  const { repoRoot, criteria } = opts;
  const report: PruneReport = { dryRun: !!opts.dryRun, removed: [], skipped: [], failed: [], freedBytes: 0, kept: 0 };
  collectLeftovers(repoRoot);
  if (!opts.dryRun) await collectEmptySessions(repoRoot); // folders of runners killed before their first event, as delete does
  const ids = listSessionIds(repoRoot);
  const readable: Candidate[] = [];
  for (const id of ids) {
    try {
      const l = loadSession(repoRoot, id);
      readable.push({ state: l.state, live: !!l.owner || !isAtRest(l.state.status), last: lastActivity(l.state) });
    } catch (e) {
      report.skipped.push({ id, reason: `cannot be read: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const pool = readable.filter((c) => !criteria.status || c.state.status === criteria.status);
  const atRest: Candidate[] = [];
  for (const c of pool) {
    const why = protection(c);
    if (why) report.skipped.push({ id: c.state.id, reason: why });
    else atRest.push(c);
  }
  atRest.sort((a, b) => a.last - b.last || (a.state.id < b.state.id ? -1 : 1)); // oldest first
  const removable = (c: Candidate): boolean => !opts.exclude?.includes(c.state.id) && (!opts.only || opts.only.includes(c.state.id));
  const why = new Map<string, string[]>();
  const mark = (c: Candidate, reason: string): void => {
    if (removable(c)) why.set(c.state.id, [...(why.get(c.state.id) ?? []), reason]);
  };
  const now = opts.now ?? Date.now();
  if (criteria.keep !== undefined) for (const c of atRest.slice(0, Math.max(0, atRest.length - criteria.keep))) mark(c, `beyond the newest ${criteria.keep}`);
  if (criteria.maxAgeMs !== undefined) for (const c of atRest) if (now - c.last > criteria.maxAgeMs) mark(c, `older than ${criteria.maxAgeText ?? `${criteria.maxAgeMs} ms`}`);
  const sizes = new Map<string, number>();
  const sizeOf = (id: string): number => {
    if (!sizes.has(id)) sizes.set(id, sessionBytes(repoRoot, id));
    return sizes.get(id)!;
  };
  if (criteria.maxSizeBytes !== undefined) {
    let total = ids.reduce((n, id) => n + sizeOf(id), 0);
    for (const id of why.keys()) total -= sizeOf(id);
    for (const c of atRest) {
      if (total <= criteria.maxSizeBytes) break;
      if (why.has(c.state.id) || !removable(c)) continue;
      mark(c, `over max_size ${criteria.maxSizeText ?? `${criteria.maxSizeBytes} bytes`}`);
      total -= sizeOf(c.state.id);
    }
  }
  if (criteria.keep === undefined && criteria.maxAgeMs === undefined && criteria.maxSizeBytes === undefined && criteria.status) {
    for (const c of atRest) mark(c, `status ${criteria.status}`);
  }

  const chosen = atRest.filter((c) => why.has(c.state.id));
  const branches = chosen.length ? await branchesBySession(repoRoot) : new Map<string, string[]>();
  pausePoint('prune-chosen');
  for (const c of chosen) {
    const entry = describe(repoRoot, c, why.get(c.state.id)!, sizeOf(c.state.id), branches.get(c.state.id) ?? []);
    if (opts.dryRun) {
      report.removed.push(entry);
      report.freedBytes += entry.bytes;
      continue;
    }
    const outcome = await removeOne(repoRoot, c);
    if (outcome === 'removed') {
      report.removed.push(entry);
      report.freedBytes += entry.bytes;
    } else if (outcome.kind === 'skipped') report.skipped.push({ id: c.state.id, reason: outcome.reason });
    else report.failed.push({ id: c.state.id, error: outcome.reason });
  }
  report.kept = ids.length - report.removed.length;
  return report;
}

/** Why a session may not be removed at all, or undefined. */
function protection(c: Candidate): string | undefined {
  if (c.state.status === 'waiting' || Object.values(c.state.steps).some((s) => s.status === 'waiting' && s.approval && !s.approval.answer)) return 'waiting for approval';
  if (c.live) return 'running';
  return undefined;
}

function lastActivity(s: SessionState): number {
  const t = Date.parse(s.finishedAt ?? s.updatedAt);
  return Number.isFinite(t) ? t : 0;
}

function describe(repoRoot: string, c: Candidate, why: string[], bytes: number, branches: string[]): PrunedSession {
  const s = c.state;
  return {
    id: s.id,
    status: s.status,
    workflow: s.workflow.name,
    lastActivity: new Date(c.last).toISOString(),
    bytes,
    worktrees: sessionWorktrees(repoRoot, s.id).map((f) => path.relative(repoRoot, path.join(worktreesRoot(repoRoot), s.id, f))),
    branches,
    why,
  };
}

type Outcome = 'removed' | { kind: 'skipped' | 'failed'; reason: string };

/** One session, under its lock, if it is still what was chosen. */
async function removeOne(repoRoot: string, c: Candidate): Promise<Outcome> {
  const id = c.state.id;
  const paths = sessionPaths(repoRoot, id);
  let lock;
  try {
    lock = await acquireLock(paths.lock, { heartbeatMs: 0, settleMs: 0 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'skipped', reason: 'gone already' };
    if (e instanceof LockHeldError) return { kind: 'skipped', reason: e.reason === 'owned' && e.owner ? `running (owned by ${describeOwner(e.owner)})` : 'a runner is taking it right now' };
    return { kind: 'failed', reason: e instanceof Error ? e.message : String(e) };
  }
  pausePoint('prune-locked');
  try {
    // Read again under the lock: a runner may have resumed it (and finished) since it was chosen.
    const now = loadSession(repoRoot, id).state;
    const moved = now.seq !== c.state.seq;
    const waiting = Object.values(now.steps).some((s) => s.status === 'waiting' && s.approval && !s.approval.answer);
    if (moved || waiting) {
      lock.release();
      return { kind: 'skipped', reason: moved ? 'it changed since it was chosen (a runner resumed it)' : 'waiting for approval' };
    }
  } catch (e) {
    lock.release();
    return { kind: 'skipped', reason: `cannot be read: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    await removeLockedSession(repoRoot, id, lock); // releases the lock when it fails
    return 'removed';
  } catch (e) {
    return { kind: 'failed', reason: e instanceof SnapshotError || e instanceof Error ? e.message : String(e) };
  }
}

/** Bytes of the session's folder, its runner's log and its worktrees (file sizes; links not followed). */
export function sessionBytes(repoRoot: string, id: string): number {
  const paths = sessionPaths(repoRoot, id);
  let runnerLog = 0;
  try {
    runnerLog = fs.lstatSync(paths.runnerLog).size;
  } catch {
    // none
  }
  return treeBytes(paths.dir) + treeBytes(path.join(worktreesRoot(repoRoot), id)) + runnerLog;
}

function treeBytes(dir: string): number {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p);
    else {
      try {
        n += fs.lstatSync(p).size;
      } catch {
        // gone meanwhile
      }
    }
  }
  return n;
}

