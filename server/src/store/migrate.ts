/**
 * `orchestrator migrate`: upgrades every session folder to STATE_FORMAT, all or nothing, with a
 * backup and a completion marker (the journal and its recovery are in migrateJournal.ts):
 *
 *   1. take the migration lock, finish or undo an interrupted migration, read every session's
 *      format (a newer one refuses the whole migration: nothing is written);
 *   2. take the lock of every session to upgrade (a live runner refuses the whole migration);
 *   3. compute every upgraded file in memory (migrationSteps.ts), write plan.json, then each
 *      session's prepared copies (fsync'd) and its backup (hard links of the old files);
 *   4. write COMPLETE (fsync'd): from here the migration is done, whatever happens;
 *   5. rename each session's prepared files over its old ones; write the backup's record;
 *      remove the journal; release the locks.
 * A crash before 4 leaves the old folders as they were (the next reader drops the prepared files);
 * a crash after 4 is finished by the next reader. Both readers, old and new, read every state
 * between (see migrateJournal.ts).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptFileError, fsyncDir, readJsonFile, writeFileDurably } from './durableFile';
import { formatOf, formatOfLog, newestOf, STATE_FORMAT, StateFormatError, WRITTEN_BY, type FileFormat } from './formatVersion';
import { acquireLock, describeOwner, LockHeldError, lockStatus, type LockHandle } from './lock';
import { finishJournal, journalPaths, preparedPaths, recoverMigration, renamePrepared, writeRecord, type MigrationPlan, type Settled } from './migrateJournal';
import { CannotMigrate, stepsFrom, upgrade, type SessionFiles } from './migrationSteps';
import { crashPoint } from './testHooks';

export interface MigrateOptions {
  readonly repoRoot: string;
  readonly dryRun?: boolean;
}

export interface MigrateReport {
  readonly dryRun: boolean;
  /** The format every session is upgraded to (this release's). */
  readonly to: number;
  /** Sessions upgraded (with --dry-run: to upgrade), with the format each was in. */
  readonly migrated: { id: string; from: number }[];
  /** Sessions already in the current format. */
  readonly current: string[];
  /** Sessions that cannot be upgraded: they stay as they are and are still read. */
  readonly left: { id: string; reason: string }[];
  /** With --dry-run: live sessions that would make the migration refuse. */
  readonly running: { id: string; owner: string }[];
  /** What the upgrade changes, one line per format step. */
  readonly changes: string[];
  /** The backup of the old files, relative to the repository root. */
  readonly backup?: string;
  /** An interrupted migration found and settled first. */
  readonly recovered?: Settled;
}

/** The migration did not happen; nothing was changed. The message says why and what to do. */
export class MigrateRefused extends Error {
  override readonly name = 'MigrateRefused';
}

interface Scanned {
  readonly id: string;
  readonly format?: FileFormat;
  readonly left?: string;
}

export async function migrateState(opts: MigrateOptions): Promise<MigrateReport> {
  const j = journalPaths(opts.repoRoot);
  const report = { dryRun: !!opts.dryRun, to: STATE_FORMAT, migrated: [] as { id: string; from: number }[], current: [] as string[], left: [] as { id: string; reason: string }[], running: [] as { id: string; owner: string }[], changes: [] as string[] };
  if (!fs.existsSync(j.sessions)) return report;
  const migrationLock = await lockMigration(j.lock);
  const held: LockHandle[] = [];
  try {
    let recovered: Settled | undefined;
    try {
      recovered = fs.existsSync(j.plan) ? recoverMigration(opts.repoRoot) : undefined;
    } catch (e) {
      throw new MigrateRefused(`the journal of an interrupted migration in ${j.dir} cannot be settled (${e instanceof Error ? e.message : String(e)}): fix or move that folder away, then migrate again; nothing was changed`);
    }
    if (recovered?.outcome === 'newer') throw new MigrateRefused(`an interrupted migration by a newer orchestrator is in ${j.dir}: finish it with that release; nothing was changed`);
    if (!opts.dryRun) fs.rmSync(j.dir, { recursive: true, force: true }); // a journal without a plan: nothing had started
    const scanned = scan(j.sessions);
    for (const s of scanned) {
      if (s.format && s.format.v > STATE_FORMAT) throw new MigrateRefused(new StateFormatError(`session ${s.id}`, s.format).message);
    }
    const candidates = scanned.filter((s) => !s.left && s.format && s.format.v < STATE_FORMAT);
    for (const s of scanned) {
      if (s.left) report.left.push({ id: s.id, reason: s.left });
      else if (s.format?.v === STATE_FORMAT) report.current.push(s.id);
    }
    report.changes.push(...new Set(candidates.flatMap((c) => stepsFrom(c.format!.v).map((st) => `${st.from} → ${st.to}: ${st.change}`))));
    const withRecovered = recovered ? { recovered } : {};
    if (opts.dryRun) {
      for (const c of candidates) {
        report.migrated.push({ id: c.id, from: c.format!.v });
        const lock = lockStatus(path.join(j.sessions, c.id, 'lock'));
        if (lock.state === 'held') report.running.push({ id: c.id, owner: lock.owner ? describeOwner(lock.owner) : 'a process' });
      }
      return { ...report, ...withRecovered };
    }
    if (!candidates.length) return { ...report, ...withRecovered };

    // Every session to upgrade is locked before anything is written: no runner can start on one.
    const locked: Scanned[] = [];
    for (const c of candidates) {
      try {
        held.push(await acquireLock(path.join(j.sessions, c.id, 'lock'), { settleMs: 0 }));
        locked.push(c);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
        if (e instanceof LockHeldError) {
          const who = e.owner ? `owned by ${describeOwner(e.owner)}` : 'being taken over right now';
          throw new MigrateRefused(`session ${c.id} is running (${who}): wait for it to finish or cancel it, then migrate again; nothing was changed`);
        }
        throw e;
      }
    }
    // Read again under the locks and upgrade in memory: a session that cannot be upgraded is left as it is.
    const work: { id: string; from: number; dir: string; files: SessionFiles; out: SessionFiles }[] = [];
    for (const c of locked) {
      const dir = path.join(j.sessions, c.id);
      const again = scanOne(j.sessions, c.id);
      if (again.left || !again.format || again.format.v >= STATE_FORMAT) {
        if (again.left) report.left.push({ id: c.id, reason: again.left });
        continue;
      }
      const files = readFiles(dir);
      try {
        work.push({ id: c.id, from: again.format.v, dir, files, out: upgrade(files, again.format.v) });
      } catch (e) {
        if (!(e instanceof CannotMigrate)) throw e;
        report.left.push({ id: c.id, reason: e.message });
      }
    }
    if (!work.length) return { ...report, ...withRecovered };

    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const plan: MigrationPlan = {
      format: 'orchestrator-state-migration',
      to: STATE_FORMAT,
      by: WRITTEN_BY,
      startedAt: new Date().toISOString(),
      backup: `.backup-format-${Math.min(...work.map((w) => w.from))}-${stamp}-${crypto.randomBytes(2).toString('hex')}`,
      sessions: work.map((w) => ({ id: w.id, from: w.from, logSize: w.files.log.length })),
    };
    fs.mkdirSync(j.dir, { recursive: true });
    writeFileDurably(j.plan, JSON.stringify(plan, null, 2) + '\n');
    fsyncDir(j.sessions);
    crashPoint('plan written');
    const backup = path.join(j.sessions, plan.backup);
    fs.mkdirSync(backup);
    for (const w of work) {
      const p = preparedPaths(w.dir);
      writeFileDurably(p.log, w.out.log);
      crashPoint(`prepared log ${w.id}`);
      if (w.out.state) writeFileDurably(p.state, w.out.state);
      crashPoint(`prepared state ${w.id}`);
      const b = path.join(backup, w.id);
      fs.mkdirSync(b);
      for (const f of ['log.jsonl', 'state.json']) linkOrCopy(path.join(w.dir, f), path.join(b, f));
      fsyncDir(b);
      crashPoint(`backup ${w.id}`);
    }
    fsyncDir(backup);
    fsyncDir(j.sessions);
    writeFileDurably(j.complete, JSON.stringify({ at: new Date().toISOString() }) + '\n');
    crashPoint('complete');
    for (const w of work) {
      renamePrepared(w.dir);
      report.migrated.push({ id: w.id, from: w.from });
      crashPoint(`committed ${w.id}`);
    }
    writeRecord(backup, plan, []);
    crashPoint('record written');
    finishJournal(j);
    crashPoint('finished');
    return { ...report, backup: path.relative(opts.repoRoot, backup), ...withRecovered };
  } finally {
    for (const h of held) h.release();
    migrationLock.release();
  }
}

async function lockMigration(file: string): Promise<LockHandle> {
  try {
    return await acquireLock(file, { settleMs: 0 });
  } catch (e) {
    if (e instanceof LockHeldError) throw new MigrateRefused(`another migration is under way (${e.owner ? describeOwner(e.owner) : 'a process'}): wait for it to finish; nothing was changed`);
    throw e;
  }
}

/** Every session folder with its format (from its log, the source of truth; a newer state.json counts too). */
function scan(sessions: string): Scanned[] {
  return fs
    .readdirSync(sessions, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d{8}-\d{6}-/.test(d.name))
    .map((d) => d.name)
    .sort()
    .map((id) => scanOne(sessions, id));
}

function scanOne(sessions: string, id: string): Scanned {
  const dir = path.join(sessions, id);
  const log = formatOfLog(path.join(dir, 'log.jsonl'));
  let state: FileFormat | undefined;
  try {
    state = formatOf(readJsonFile<unknown>(path.join(dir, 'state.json')));
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
  }
  const newest = newestOf(log, state);
  if (newest && newest.v > STATE_FORMAT) return { id, format: newest };
  if (!log) return { id, left: fs.existsSync(path.join(dir, 'log.jsonl')) ? 'the first line of its log.jsonl is damaged or incomplete' : 'it has no log.jsonl' };
  if (log.v < STATE_FORMAT) {
    try {
      upgrade(readFiles(dir), log.v); // the same check the real run makes, so that --dry-run tells
    } catch (e) {
      if (e instanceof CannotMigrate) return { id, format: log, left: e.message };
      throw e;
    }
  }
  return { id, format: log };
}

function readFiles(dir: string): SessionFiles {
  let state: Buffer | null = null;
  try {
    state = fs.readFileSync(path.join(dir, 'state.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { log: fs.readFileSync(path.join(dir, 'log.jsonl')), state };
}

/** A hard link (the old file stays as it is once the new one is renamed over it), else a copy. */
function linkOrCopy(from: string, to: string): void {
  if (!fs.existsSync(from)) return;
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    const fd = fs.openSync(to, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
