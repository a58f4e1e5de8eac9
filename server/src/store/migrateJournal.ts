/**
 * The journal of `orchestrator migrate` (migrate.ts), and the recovery that any reader runs when a
 * migration was cut short (docs/state-and-retention.md, "Migrating").
 *
 *   sessions/.migrate.lock                       the migrating process (lock.ts)
 *   sessions/.migration/plan.json                what is migrated: each session, its format, its log's size
 *   sessions/.migration/COMPLETE                 the commit point: every prepared copy is on disk
 *   sessions/<id>/.migrating.log.jsonl           prepared copies in the new format (fsync'd)
 *   sessions/<id>/.migrating.state.json
 *   sessions/.backup-format-<from>-<stamp>/<id>/ the old log.jsonl and state.json (hard links or copies)
 *
 * The rule: without COMPLETE, nothing has changed (the prepared copies and the backup are dropped:
 * roll back); with COMPLETE, every prepared copy is renamed over its file (roll forward). Each
 * rename is atomic and consumes its prepared file, so finishing twice, or from two processes, is
 * harmless. A reader sees, for each session, either its old files or its new ones, or for an
 * instant a new state.json beside an old log (or the reverse), which it ignores as a stale cache
 * (sessionStore.ts: a state.json of another format than its log is rebuilt from the log).
 *
 * A session's prepared files are renamed or dropped only by a holder of the session's lock (the
 * migrating process holds them all). A recovering reader takes each lock, stale since the
 * migration died; when a live runner has taken it first, that runner works on the old files, so
 * the prepared ones are dropped and the session stays in its old format (still read; migrate again).
 * So is a session whose log grew since it was prepared (a release that does not know this journal
 * resumed it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, readJsonFile, writeFileDurably } from './durableFile';
import { STATE_FORMAT, WRITTEN_BY } from './formatVersion';
import { lockStatus, tryAcquireLockSync, type LockHandle } from './lock';
import { crashPoint } from './testHooks';

export interface PlannedSession {
  readonly id: string;
  /** Its format before the migration. */
  readonly from: number;
  /** The size of its log.jsonl when it was prepared (a log that grew since is not replaced). */
  readonly logSize: number;
}

export interface MigrationPlan {
  readonly format: 'orchestrator-state-migration';
  readonly to: number;
  readonly by: string;
  readonly startedAt: string;
  /** The backup folder's name in the sessions folder. */
  readonly backup: string;
  readonly sessions: PlannedSession[];
}

export interface JournalPaths {
  readonly sessions: string;
  readonly lock: string;
  readonly dir: string;
  readonly plan: string;
  readonly complete: string;
}

export function journalPaths(repoRoot: string): JournalPaths {
  const sessions = path.join(repoRoot, '.orchestrator', 'sessions');
  const dir = path.join(sessions, '.migration');
  return { sessions, lock: path.join(sessions, '.migrate.lock'), dir, plan: path.join(dir, 'plan.json'), complete: path.join(dir, 'COMPLETE') };
}

/** A session's prepared copies. */
export function preparedPaths(sessionDir: string): { log: string; state: string } {
  return { log: path.join(sessionDir, '.migrating.log.jsonl'), state: path.join(sessionDir, '.migrating.state.json') };
}

export interface Settled {
  /** 'completed': rolled forward; 'rolled back': nothing had changed; 'in progress': a live migrate owns it; 'newer': a newer release's; 'failed': see error. */
  readonly outcome: 'completed' | 'rolled back' | 'in progress' | 'newer' | 'failed';
  readonly error?: string;
  /** Sessions that stayed in their old format (a runner took them first, or their log grew). */
  readonly left: string[];
  readonly backup?: string;
}

/**
 * Finishes or undoes a migration whose process died; undefined when there is none. Synchronous and
 * cheap when there is nothing to do (one stat), so every reader calls it first (loadSession).
 * While a live process migrates, it does nothing: readers read the folders as they are.
 */
export function settleMigration(repoRoot: string): Settled | undefined {
  const j = journalPaths(repoRoot);
  if (!fs.existsSync(j.plan)) return undefined;
  let lock: LockHandle | undefined;
  try {
    lock = tryAcquireLockSync(j.lock);
  } catch {
    lock = undefined;
  }
  if (!lock) return { outcome: 'in progress', left: [] };
  try {
    return recoverMigration(repoRoot);
  } catch (e) {
    // A journal this reader cannot settle (unreadable, no permission): the folders are read as they
    // are, which every state of a migration allows; `orchestrator migrate` names the problem.
    return { outcome: 'failed', left: [], error: e instanceof Error ? e.message : String(e) };
  } finally {
    lock.release();
  }
}

/** Who migrates right now (for messages), when the lock says. */
export function migratingOwner(repoRoot: string): ReturnType<typeof lockStatus> {
  return lockStatus(journalPaths(repoRoot).lock);
}

/** Reads plan.json; undefined when there is none (written atomically: it is whole or absent). */
export function readPlan(file: string): MigrationPlan | undefined {
  const p = readJsonFile<MigrationPlan>(file);
  if (!p) return undefined;
  if (p.format !== 'orchestrator-state-migration' || !Array.isArray(p.sessions)) throw new Error(`${file} is not a migration plan`);
  return p;
}

/**
 * Rolls an interrupted migration forward (COMPLETE exists) or back (it does not). The caller holds
 * the migration lock. Every step is idempotent, so a crash here is finished by the next reader.
 */
export function recoverMigration(repoRoot: string): Settled | undefined {
  const j = journalPaths(repoRoot);
  const plan = readPlan(j.plan);
  if (!plan) return undefined;
  // A newer release's migration: its formats are not ours to write. Left for that release.
  if (plan.to > STATE_FORMAT) return { outcome: 'newer', left: [] };
  const committed = fs.existsSync(j.complete);
  const left: string[] = [];
  for (const s of plan.sessions) {
    const dir = path.join(j.sessions, s.id);
    if (!hasPrepared(dir)) continue; // done already, or the session was deleted
    const outcome = committed ? commitSession(dir, s) : 'dropped';
    if (outcome !== 'committed') dropPrepared(dir);
    if (outcome === 'left') left.push(s.id);
    crashPoint(`recover ${s.id}`);
  }
  const backup = path.join(j.sessions, plan.backup);
  if (committed) writeRecord(backup, plan, left);
  else fs.rmSync(backup, { recursive: true, force: true });
  crashPoint('recover backup');
  finishJournal(j);
  return { outcome: committed ? 'completed' : 'rolled back', left, ...(committed ? { backup: plan.backup } : {}) };
}

/** A prepared copy, or the temp file of one whose write was cut short (a kill at any instant). */
function hasPrepared(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((n) => PREPARED.test(n));
  } catch {
    return false;
  }
}

const PREPARED = /^\.{1,2}migrating\./;

/**
 * Under the session's lock (taken over from the dead migration): the prepared files renamed over
 * the old ones, state.json first. 'left' when a live runner holds the lock or the log grew.
 */
function commitSession(dir: string, s: PlannedSession): 'committed' | 'left' {
  let lock: LockHandle | undefined;
  try {
    lock = tryAcquireLockSync(path.join(dir, 'lock'));
  } catch {
    lock = undefined;
  }
  if (!lock) return 'left';
  try {
    const size = fs.statSync(path.join(dir, 'log.jsonl'), { throwIfNoEntry: false })?.size;
    const p = preparedPaths(dir);
    if (fs.existsSync(p.log) && size !== s.logSize) return 'left';
    renamePrepared(dir);
    return 'committed';
  } finally {
    lock.release();
  }
}

/** The commit of one session: each prepared file renamed over its file (a missing one was renamed already). */
export function renamePrepared(dir: string): void {
  const p = preparedPaths(dir);
  renameIfThere(p.state, path.join(dir, 'state.json'));
  crashPoint(`commit state ${path.basename(dir)}`);
  renameIfThere(p.log, path.join(dir, 'log.jsonl'));
  fsyncDir(dir);
}

function renameIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Removes a session's prepared copies, and the temp files of writes that did not finish. */
export function dropPrepared(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (PREPARED.test(n)) fs.rmSync(path.join(dir, n), { force: true });
}

/** What the migration did, kept with the backup (how to go back is in docs/state-and-retention.md). */
export function writeRecord(backup: string, plan: MigrationPlan, left: string[]): void {
  if (!fs.existsSync(backup)) return;
  const record = { format: 'orchestrator-state-backup', by: WRITTEN_BY, to: plan.to, startedAt: plan.startedAt, finishedAt: new Date().toISOString(), sessions: plan.sessions.map((s) => ({ id: s.id, from: s.from, ...(left.includes(s.id) ? { left: true } : {}) })) };
  writeFileDurably(path.join(backup, 'migration.json'), JSON.stringify(record, null, 2) + '\n');
}

/** The journal goes: plan.json first (without it there is nothing to recover), then the rest. */
export function finishJournal(j: JournalPaths): void {
  fs.rmSync(j.plan, { force: true });
  if (fs.existsSync(j.dir)) fsyncDir(j.dir);
  crashPoint('journal plan removed');
  fs.rmSync(j.dir, { recursive: true, force: true });
}
