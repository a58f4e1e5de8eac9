/**
 * The state folder `.orchestrator/`: it can be written (a real write, not access(), which root
 * and read-only mounts make lie), nobody else can write to it, and its file system has room.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

/** Below this much free space sessions fail to write their logs: fail. */
export const FAIL_FREE_BYTES = 100 * 1024 ** 2;
/** Below this much: warn (a few agent transcripts or worktrees fill it). */
export const WARN_FREE_BYTES = 1024 ** 3;

export const RESTRICT_STATE_ACTION = 'restrict-state-folder';

/** The folders whose write permission matters: others who can write there can plant commands for a runner (control.jsonl) or secrets. */
const GUARDED = ['', 'sessions', 'secrets', 'worktrees', 'workflows'];

export function stateDir(repoRoot: string): string {
  return path.join(repoRoot, '.orchestrator');
}

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Creates and removes a file: the only sure test that the folder takes writes. */
function writeProbe(dir: string): string | undefined {
  const probe = path.join(dir, `.doctor-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.rmSync(probe, { force: true });
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === 'EROFS' ? 'it is on a read-only file system' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.message;
  }
}

/**
 * Guarded folders that exist and that others can write to. A group-writable folder is not flagged:
 * with user private groups (umask 002) that group is the user alone.
 */
export function openFolders(repoRoot: string): { dir: string; mode: number }[] {
  const out: { dir: string; mode: number }[] = [];
  for (const rel of GUARDED) {
    const dir = path.join(stateDir(repoRoot), rel);
    try {
      const st = fs.lstatSync(dir);
      if (st.isDirectory() && (st.mode & 0o002) !== 0) out.push({ dir, mode: st.mode & 0o777 });
    } catch {
      // absent: nothing to guard
    }
  }
  return out;
}

export function stateFolderChecks(o: DoctorOptions): CheckResult[] {
  const dir = stateDir(o.repoRoot);
  const out: CheckResult[] = [];
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch {
    st = undefined;
  }
  if (!st) {
    out.push(result('state-folder', 'State folder', 'warn', `no .orchestrator/ in ${o.repoRoot} yet: nothing has run here`, { description: 'orchestrator init creates it with a config, a starter workflow and a .gitignore' }));
  } else if (!st.isDirectory()) {
    out.push(result('state-folder', 'State folder', 'fail', `${dir} is not a folder`, { description: `move ${dir} out of the way: the orchestrator keeps its sessions, workflows and config there` }));
    return out;
  } else {
    const cannot = writeProbe(dir);
    const sessions = path.join(dir, 'sessions');
    const cannotSessions = !cannot && fs.existsSync(sessions) ? writeProbe(sessions) : undefined;
    if (cannot || cannotSessions) {
      const where = cannot ? dir : sessions;
      out.push(result('state-folder', 'State folder', 'fail', `${where} cannot be written: ${cannot ?? cannotSessions}`, { description: `make it writable for ${userName()} (chmod u+w, or chown it), or work in a checkout you own` }));
    } else out.push(result('state-folder', 'State folder', 'pass', `${dir} can be written`));

    const open = openFolders(o.repoRoot);
    const mine = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (open.length) {
      const list = open.map((f) => `${path.relative(o.repoRoot, f.dir) || '.orchestrator'} (${f.mode.toString(8).padStart(3, '0')})`).join(', ');
      out.push(
        result('state-permissions', 'State folder permissions', 'warn', `others can write to ${list}: they could send commands to your runners or change workflows and secrets`, {
          description: 'remove write access for others (chmod o-w)',
          action: RESTRICT_STATE_ACTION,
        }),
      );
    } else if (mine !== undefined && mine !== 0 && st.uid !== mine) {
      out.push(result('state-permissions', 'State folder permissions', 'warn', `${dir} belongs to another user (uid ${st.uid}); you are uid ${mine}`, { description: 'run the orchestrator as the folder\'s owner, or chown it to yourself' }));
    } else out.push(result('state-permissions', 'State folder permissions', 'pass', 'only you can write to it'));
  }
  out.push(spaceCheck(st?.isDirectory() ? dir : o.repoRoot));
  return out;
}

function spaceCheck(dir: string): CheckResult {
  const title = 'Free disk space';
  let free: number;
  try {
    const s = fs.statfsSync(dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch (e) {
    return result('state-space', title, 'warn', `cannot tell the free space of ${dir}: ${(e as Error).message}`);
  }
  const detail = `${bytes(free)} free for ${dir}`;
  if (free < FAIL_FREE_BYTES) return result('state-space', title, 'fail', `${detail}: sessions cannot write their logs (needs at least ${bytes(FAIL_FREE_BYTES)})`, { description: 'free some space: orchestrator delete ID removes old sessions with their worktrees' });
  if (free < WARN_FREE_BYTES) return result('state-space', title, 'warn', `${detail}: agent transcripts and worktrees may fill it (below ${bytes(WARN_FREE_BYTES)})`, { description: 'free some space: orchestrator delete ID removes old sessions with their worktrees' });
  return result('state-space', title, 'pass', detail);
}

function userName(): string {
  return process.env.USER ?? 'you';
}

/** `restrict-state-folder`: chmod o-w on each guarded folder that others can write to. */
export function restrictStateFolder(o: DoctorOptions): string {
  const open = openFolders(o.repoRoot);
  if (!open.length) return 'nothing to do: nobody else can write to .orchestrator/';
  for (const f of open) {
    try {
      fs.chmodSync(f.dir, f.mode & ~0o002);
    } catch (e) {
      throw new FixError(`cannot change the permissions of ${f.dir}: ${(e as Error).message}; run chmod o-w on it yourself`);
    }
  }
  return `removed write access for others from ${plural(open.length, 'folder')}: ${open.map((f) => path.relative(o.repoRoot, f.dir) || '.orchestrator').join(', ')}`;
}
