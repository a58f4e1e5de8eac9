/**
 * Sessions on disk (sessions.md):
 *   .orchestrator/sessions/<id>/ state.json · log.jsonl · steps/<step>/<attempt>.log · lock
 * plus control.jsonl (commands from the CLI and the editor to the session's runner) and
 * runner.log (the detached runner's own stderr).
 *
 * Reading a session: the state.json snapshot, then the events the log has after it (the snapshot
 * records the log offset it reflects). A missing or corrupt snapshot is rebuilt from the log, with
 * a warning, and written back (so the warning is given once). A damaged log is reported
 * (logDamage.ts). A session whose status is live but whose lock has no live owner is `interrupted`.
 * A session in a newer state format is refused before anything is read or written; an older one
 * is read as it is (formatVersion.ts).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeDeadScratch } from '../engine/steps/scratch';
import { applyEvent, finalize, rebuild } from '../engine/state';
import type { LogDamage, SessionState } from '../engine/types';
import { isAtRest } from '../engine/types';
import { CorruptFileError, readJsonFile, writeFileDurably } from './durableFile';
import { readEvents } from './eventLog';
import { assertReadable, formatOf, formatOfLog, stampFor } from './formatVersion';
import { ensureGitignore } from './gitignore';
import { lockStatus, type LockInfo } from './lock';
import { applyDamage, describeDamage, stateWithoutStart } from './logDamage';
import { settleMigration } from './migrateJournal';

export interface SessionPaths {
  readonly dir: string;
  readonly state: string;
  readonly log: string;
  readonly lock: string;
  readonly control: string;
  /** A detached runner's stdout/stderr: beside the session folder (`sessions/.<id>.runner.log`), so it exists before the session does. */
  readonly runnerLog: string;
  stepLog(step: string, attempt: number): string;
}

/** A step instance id as a safe folder name (matrix ids have brackets, commas and =). */
export function stepFolder(step: string): string {
  return step.replace(/[^A-Za-z0-9_.=,[\]-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** What a session id is, and what listSessionIds counts as a session: nothing that could leave the sessions folder. */
export const SESSION_ID = /^\d{8}-\d{6}-[A-Za-z0-9_-]+$/;

export function sessionsDir(repoRoot: string): string {
  return path.join(repoRoot, '.orchestrator', 'sessions');
}

export function sessionPaths(repoRoot: string, id: string): SessionPaths {
  const dir = path.join(sessionsDir(repoRoot), id);
  return {
    dir,
    state: path.join(dir, 'state.json'),
    log: path.join(dir, 'log.jsonl'),
    lock: path.join(dir, 'lock'),
    control: path.join(dir, 'control.jsonl'),
    runnerLog: path.join(path.dirname(dir), `.${id}.runner.log`),
    stepLog: (step, attempt) => path.join(dir, 'steps', stepFolder(step), `${attempt}.log`),
  };
}

/** Ids sort by start time: 20261121-104512-k3f9. */
export function newSessionId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  // The suffix starts with the milliseconds in base 36 (2 characters, '00'..'rr'), so ids of
  // sessions started within the same second still sort by start time; then 2 random characters.
  const ms = now.getUTCMilliseconds().toString(36).padStart(2, '0');
  const rand = (crypto.randomBytes(2).readUInt16BE(0) % 1296).toString(36).padStart(2, '0');
  return `${stamp}-${ms}${rand}`;
}

/** Creates .orchestrator/ (with a .gitignore for the machine-local parts) and the session folder. */
export function createSessionDir(repoRoot: string, id: string): SessionPaths {
  fs.mkdirSync(sessionsDir(repoRoot), { recursive: true });
  ensureGitignore(repoRoot);
  const p = sessionPaths(repoRoot, id);
  fs.mkdirSync(p.dir);
  return p;
}

/** What state.json holds: the state plus the log offset it reflects, and (format ≥ 2) its format and writer (formatVersion.ts). */
export interface Snapshot extends SessionState {
  logOffset: number;
  v?: number;
  by?: string;
}

export interface LoadedSession {
  readonly state: SessionState;
  /** The owner of the lock when one is alive. */
  readonly owner?: LockInfo;
  readonly warnings: string[];
  readonly paths: SessionPaths;
}

export class SessionNotFoundError extends Error {}

export function loadSession(repoRoot: string, id: string): LoadedSession {
  // An id names a folder: `../x` or `/etc` must not reach one outside the sessions folder.
  if (!SESSION_ID.test(id)) throw notFound(repoRoot, id);
  return loadSessionFolder(repoRoot, id);
}

function notFound(repoRoot: string, id: string): SessionNotFoundError {
  return new SessionNotFoundError(`no session '${id}' in ${sessionsDir(repoRoot)} (orchestrator list shows the sessions)`);
}

/** loadSession for a folder of the sessions folder whose name the caller made (an import's staging folder, `.import-…`). */
export function loadSessionFolder(repoRoot: string, id: string): LoadedSession {
  const paths = sessionPaths(repoRoot, id);
  if (!fs.existsSync(paths.dir)) throw notFound(repoRoot, id);
  settleMigration(repoRoot); // an `orchestrator migrate` that died midway is finished or undone first (migrateJournal.ts)
  // A newer format is refused before anything is read, cleaned or written back (formatVersion.ts).
  const logFormat = formatOfLog(paths.log);
  assertReadable(`session ${id}`, logFormat);
  let raw: unknown = null;
  let unreadable: string | undefined;
  try {
    raw = readJsonFile<unknown>(paths.state);
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    unreadable = 'does not parse';
  }
  const stateFormat = formatOf(raw);
  assertReadable(`session ${id}`, stateFormat);
  removeDeadScratch(paths.dir); // raw step outputs a killed runner left in its temp folder (engine/scratch.ts)
  const warnings: string[] = [];
  let state: SessionState | undefined;
  let snapshot: Snapshot | null = null;
  if (raw === null && !unreadable && fs.existsSync(paths.state)) unreadable = 'is not a session snapshot'; // the JSON `null`
  if (raw !== null && !unreadable) {
    // JSON, but not a snapshot (`null`, `[]`, a damaged object): as unreadable as one that does not parse.
    if (!isSnapshot(raw)) unreadable = 'is not a session snapshot';
    // Another format than its log's: a migration swapped one file and not yet the other. A stale cache, rebuilt quietly.
    else if (!logFormat || stateFormat?.v === logFormat.v) snapshot = raw;
  }
  if (unreadable) warnings.push(`state.json of session ${id} ${unreadable}; rebuilt it from log.jsonl`);
  let damage: LogDamage[];
  if (snapshot) {
    const tail = readEvents(paths.log, snapshot.logOffset);
    const { logOffset: _o, v: _v, by: _b, ...rest } = snapshot;
    state = rest;
    for (const e of tail.events) state = applyEvent(state, e);
    // Always: a runner's snapshot between events is not merged (it merges findings at the end), so
    // one taken just after a step.finding, with no tail to read, would show none of them.
    finalize(state);
    damage = tail.damaged.map((d) => describeDamage(d, snapshot.seq));
  } else {
    const all = readEvents(paths.log);
    damage = all.damaged.map((d) => describeDamage(d));
    const rebuilt = rebuild(all.events);
    state = rebuilt ?? stateWithoutStart(id, all.events, damage);
    if (!state) {
      throw new SessionNotFoundError(
        `session '${id}' has no events: its runner stopped while creating it, so there is nothing to show or resume; delete the folder ${paths.dir}`,
      );
    }
    // Said once: the rebuilt state is written back (not over a live runner's, not from a damaged log, whose damage must stay visible).
    const saved = rebuilt && !damage.length && saveRebuilt(paths, rebuilt, all.endOffset, logFormat?.v ?? 1);
    if (raw === null && !unreadable) warnings.push(`session ${id} has no state.json; rebuilt it from log.jsonl${saved ? ' and saved it' : ''}`);
    else if (saved && unreadable) warnings[warnings.length - 1] += ' and saved it';
  }
  const damaged = applyDamage(state, damage);
  if (damaged) warnings.push(damaged);
  const lock = lockStatus(paths.lock);
  const owner = lock.state === 'held' ? lock.owner : undefined;
  if (!isAtRest(state.status) && !owner) {
    state = { ...state, status: 'interrupted', reason: state.reason ?? 'its runner stopped before the session finished (resume it to continue)' };
  }
  return { state, ...(owner ? { owner } : {}), warnings, paths };
}

/**
 * Writes a state rebuilt from the log as state.json, when no live runner owns the session (a
 * runner writes its own). A runner that starts meanwhile may have its newer snapshot replaced by
 * this one: still consistent, since readers replay the log after its logOffset. Best effort: a
 * read-only checkout keeps reading from the log. Returns whether it was written.
 */
function saveRebuilt(paths: SessionPaths, state: SessionState, logOffset: number, format: number): boolean {
  if (lockStatus(paths.lock).state === 'held') return false;
  try {
    // In the log's format: a session keeps its format until `orchestrator migrate` upgrades it.
    writeFileDurably(paths.state, JSON.stringify({ ...stampFor(format), ...state, logOffset } satisfies Snapshot));
    return true;
  } catch {
    return false;
  }
}

/** The shape loadSession relies on (state.json is written by us, but a disk or a person can damage it). */
function isSnapshot(v: unknown): v is Snapshot {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const s = v as Partial<Record<keyof Snapshot, unknown>>;
  const isObject = (x: unknown): boolean => !!x && typeof x === 'object' && !Array.isArray(x);
  return (
    typeof s.id === 'string' &&
    typeof s.status === 'string' &&
    Number.isSafeInteger(s.seq) &&
    Number.isSafeInteger(s.logOffset) &&
    (s.logOffset as number) >= 0 &&
    isObject(s.workflow) &&
    isObject(s.steps) &&
    Array.isArray(s.order) &&
    s.order.every((i) => typeof i === 'string' && isObject((s.steps as Record<string, unknown>)[i])) &&
    Array.isArray(s.rawFindings) &&
    Array.isArray(s.findings)
  );
}

/** Session ids, newest first. */
export function listSessionIds(repoRoot: string): string[] {
  try {
    return fs
      .readdirSync(sessionsDir(repoRoot), { withFileTypes: true })
      .filter((d) => d.isDirectory() && SESSION_ID.test(d.name))
      .map((d) => d.name)
      .sort()
      .reverse();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Every readable session, newest first; unreadable ones are reported in warnings. */
export function listSessions(repoRoot: string): { sessions: LoadedSession[]; warnings: string[] } {
  const sessions: LoadedSession[] = [];
  const warnings: string[] = [];
  for (const id of listSessionIds(repoRoot)) {
    try {
      const s = loadSession(repoRoot, id);
      sessions.push(s);
      warnings.push(...s.warnings);
    } catch (e) {
      warnings.push(e instanceof Error ? e.message : String(e));
    }
  }
  return { sessions, warnings };
}
