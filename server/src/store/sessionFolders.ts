/**
 * Session folders coming and going as a whole: delete (under the session's lock), the temp names
 * that keep a half-imported or half-deleted folder out of the sessions' namespace, and the
 * clean-up of such leftovers. Snapshot import and export are in portable.ts.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAtRest } from '../engine/types';
import { removeDeadScratch } from '../engine/steps/scratch';
import { fsyncDir, readFirstLine, readOpenFile } from './durableFile';
import { acquireLock, adoptLock, describeOwner, LockHeldError, lockStatus, type LockHandle } from './lock';
import { ensureGitignore } from './gitignore';
import { pausePoint } from './testHooks';
import { processAlive } from './liveness';
import { loadSession, SESSION_ID, sessionPaths, sessionsDir, type SessionPaths } from './sessionStore';
import { deleteSessionWorkspaces } from '../engine/workspace/session';

/** A user-facing failure of export, import, delete or a new session's folder: the message says what is wrong and what to do. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

export { SESSION_ID };
export function checkId(id: string): void {
  if (!SESSION_ID.test(id)) throw new SnapshotError(`'${id}' is not a session id (ids look like 20261121-104512-k3f9; orchestrator list shows them)`);
}

/** A name in the sessions folder that is not a session id (listSessionIds skips names starting with a dot). */
export function tempName(kind: 'import' | 'deleting' | 'new', id: string): string {
  return `.${kind}-${id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * A new session's folder, born with its lock held by this process: the folder is made and locked
 * under a temp name (`.new-<id>-<pid>-<hex>`, outside the sessions' namespace), then renamed into
 * place. No reader, prune or delete ever sees the folder without its lock, so nothing has to guess
 * whether a lockless folder is a runner about to lock it. Throws SnapshotError for an id that is not
 * one (it names the folder) or is taken.
 */
export async function createLockedSession(repoRoot: string, id: string): Promise<{ paths: SessionPaths; lock: LockHandle }> {
  checkId(id);
  fs.mkdirSync(sessionsDir(repoRoot), { recursive: true });
  ensureGitignore(repoRoot);
  const paths = sessionPaths(repoRoot, id);
  if (fs.existsSync(paths.dir)) throw new SnapshotError(`session ${id} exists already: give another id, or leave the id out and one is made`);
  const staged = path.join(sessionsDir(repoRoot), tempName('new', id));
  fs.mkdirSync(staged);
  let taken: LockHandle | undefined;
  try {
    taken = await acquireLock(path.join(staged, path.basename(paths.lock)), { heartbeatMs: 0 });
    pausePoint('session-staged'); // race tests: locked, not in the sessions' namespace yet
    // rename(2) would replace an empty folder of that name: the check above, and ids made unique.
    fs.renameSync(staged, paths.dir);
    fsyncDir(sessionsDir(repoRoot));
  } catch (e) {
    taken?.release();
    fs.rmSync(staged, { recursive: true, force: true });
    throw e;
  }
  return { paths, lock: adoptLock(paths.lock, taken.info) };
}

/**
 * Deletes a session. Refused while a live runner owns it. Takes the session's lock (so no resume
 * can start meanwhile), renames the folder out of the sessions' namespace, then removes it.
 */
export async function deleteSession(repoRoot: string, id: string): Promise<void> {
  checkId(id);
  collectLeftovers(repoRoot);
  const paths = sessionPaths(repoRoot, id);
  if (!fs.existsSync(paths.dir)) throw new SnapshotError(`no session '${id}' in ${sessionsDir(repoRoot)} (orchestrator list shows the sessions)`);
  const lock = await lockForDelete(repoRoot, id);
  await removeLockedSession(repoRoot, id, lock);
  await collectEmptySessions(repoRoot);
}

/**
 * Deletes a session whose lock the caller holds (delete, prune): its worktrees and branches, then
 * the folder, renamed out of the sessions' namespace first so that watchers never see half of it.
 * The lock goes with the folder. Throws SnapshotError (the lock released, the session kept) when
 * git cannot remove its worktrees.
 */
export async function removeLockedSession(repoRoot: string, id: string, lock: LockHandle): Promise<void> {
  const paths = sessionPaths(repoRoot, id);
  const missing = (): SnapshotError => new SnapshotError(`no session '${id}' in ${sessionsDir(repoRoot)} (orchestrator list shows the sessions)`);
  try {
    await deleteSessionWorkspaces(repoRoot, id); // its worktrees and branches orchestrator/<id>/*
  } catch (e) {
    lock.release();
    throw new SnapshotError(`cannot remove the worktrees of session ${id}: ${e instanceof Error ? e.message : String(e)}; the session was not deleted: try again`);
  }
  removeDeadScratch(paths.dir); // the pointers go with the folder: remove what they point to first
  const tmp = path.join(sessionsDir(repoRoot), tempName('deleting', id));
  try {
    fs.renameSync(paths.dir, tmp);
  } catch (e) {
    lock.release();
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
    throw e;
  }
  // The lock file went with the folder: nobody can take it at the old path any more.
  lock.stopHeartbeat();
  fsyncDir(sessionsDir(repoRoot));
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(sessionPaths(repoRoot, id).runnerLog, { force: true });
}

/** The session's lock; a runner that just finished (at rest, releasing) is given up to 3 s to let go. */
async function lockForDelete(repoRoot: string, id: string): Promise<LockHandle> {
  const paths = sessionPaths(repoRoot, id);
  const t0 = Date.now();
  for (;;) {
    try {
      return await acquireLock(paths.lock, { heartbeatMs: 0 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotError(`no session '${id}' in ${sessionsDir(repoRoot)} (orchestrator list shows the sessions)`);
      if (!(e instanceof LockHeldError)) throw e;
      let atRest = false;
      try {
        atRest = isAtRest(loadSession(repoRoot, id).state.status);
      } catch {
        // unreadable: judge by the lock alone
      }
      if (atRest && Date.now() - t0 < 3000) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (e.reason === 'owned' && e.owner) {
        throw new SnapshotError(
          `session ${id} is running (owned by ${describeOwner(e.owner)}): cancel it (orchestrator cancel ${id}) or wait for it to finish before deleting it`,
        );
      }
      throw new SnapshotError(`session ${id} is being taken over by another process right now: try again in a moment`);
    }
  }
}

/**
 * Folders left by an import, a delete or a new session whose process died midway: `.import-*` of a
 * process that is gone, `.deleting-*` older than a minute, and `.new-*` whose lock is not held by a
 * live process (without a lock yet: whose process is gone). Best effort; never throws.
 */
export function collectLeftovers(repoRoot: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(sessionsDir(repoRoot));
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.(import|deleting|new)-.+-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (!m) continue;
    const p = path.join(sessionsDir(repoRoot), name);
    try {
      if (m[1] === 'new') {
        const lock = lockStatus(path.join(p, 'lock'));
        if (lock.state === 'stale' || (lock.state === 'free' && !processAlive(Number(m[2]), undefined))) fs.rmSync(p, { recursive: true, force: true });
        continue;
      }
      const old = Date.now() - fs.statSync(p).mtimeMs > 60_000;
      if (old && (m[1] === 'deleting' || !processAlive(Number(m[2]), undefined))) fs.rmSync(p, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * Removes the folders of sessions whose runner died before the session's first event (killed in
 * its first instant): no complete line in log.jsonl, and no live runner. A folder whose lock is held
 * is left alone (its runner has the lock and is about to write its first event). A new session's
 * folder is born locked (createLockedSession), so one without a lock and without events is a
 * leftover whatever its age. The removal happens under the session's lock, after looking again.
 * Returns the ids removed. Never throws.
 */
export async function collectEmptySessions(repoRoot: string): Promise<string[]> {
  let names: string[];
  try {
    names = fs.readdirSync(sessionsDir(repoRoot));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const id of names) {
    if (!SESSION_ID.test(id)) continue;
    const paths = sessionPaths(repoRoot, id);
    try {
      if (hasEvent(paths.log)) continue;
      const lock = lockStatus(paths.lock);
      if (lock.state === 'held') continue;
      let handle: LockHandle;
      try {
        handle = await acquireLock(paths.lock, { heartbeatMs: 0, settleMs: 0 });
      } catch {
        continue; // someone owns it or is taking it right now
      }
      if (hasEvent(paths.log)) {
        handle.release();
        continue;
      }
      removeUnstartedSession(repoRoot, id, handle);
      fs.rmSync(paths.runnerLog, { force: true });
      removed.push(id);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/**
 * Removes the folder of a session that never started (no event), whose lock `lock` holds: renamed
 * out of the sessions' namespace first (the lock goes with it, so nobody takes the id meanwhile and
 * no reader sees half of it), then deleted. Its runner log stays: a runner that failed to start
 * may still be writing why there. Throws when the folder cannot be renamed.
 */
export function removeUnstartedSession(repoRoot: string, id: string, lock: LockHandle): void {
  const tmp = path.join(sessionsDir(repoRoot), tempName('deleting', id));
  fs.renameSync(sessionPaths(repoRoot, id).dir, tmp);
  lock.stopHeartbeat();
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Whether log.jsonl holds at least one complete line (read up to the first newline). */
function hasEvent(log: string): boolean {
  return readOpenFile(log, (fd) => readFirstLine(fd) !== undefined) ?? false;
}
