/**
 * Sessions: those that do not load (a damaged state and log), and those whose runner died (a
 * stale lock): the session is `interrupted` and waits for a resume. Fixes: resume the session
 * (a detached runner, as `resume --detach`), or clear a stale lock left on a session at rest.
 */
import { checkDefinition } from '../engine/sessions';
import { needsChoice } from '../engine/definition';
import { spawnRunner } from '../engine/spawnRunner';
import { isAtRest, isResumable } from '../engine/types';
import { acquireLock, describeOwner, LockHeldError, lockStatus } from '../store/lock';
import { unresumable } from '../store/logDamage';
import { loadSession, sessionPaths } from '../store/sessionStore';
import type { ScannedSession } from './sessionScan';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const RESUME_ACTION = 'resume';
export const CLEAR_LOCK_ACTION = 'clear-lock';

function deleteHint(id: string): string {
  return `orchestrator show ${id} shows what is left of it; orchestrator delete ${id} removes it`;
}

export function sessionChecks(scan: readonly ScannedSession[]): CheckResult[] {
  const out: CheckResult[] = [];
  let loaded = 0;
  for (const s of scan) {
    if (!s.loaded) {
      // A folder whose runner holds the lock and has not written its first event yet is being created.
      if (s.lock.state === 'held') continue;
      out.push(result(`session-load:${s.id}`, `Session ${s.id} does not load`, 'fail', s.error ?? 'unreadable', { description: deleteHint(s.id) }));
      continue;
    }
    loaded++;
    const { state, owner, warnings } = s.loaded;
    const cannot = unresumable(state);
    if (cannot) {
      out.push(result(`session-load:${s.id}`, `Session ${s.id} is damaged`, 'fail', warnings.join('; ') || cannot, { description: deleteHint(s.id) }));
      continue;
    }
    if (warnings.length) out.push(result(`session-load:${s.id}`, `Session ${s.id} loads with warnings`, 'warn', warnings.join('; ')));
    if (state.status === 'interrupted' && !owner) {
      const dead = s.lock.state === 'stale' && s.lock.owner ? `its runner (${describeOwner(s.lock.owner)}) died and left its lock` : 'its runner stopped before the session finished';
      out.push(
        result(`dead-runner:${s.id}`, `Session ${s.id} was interrupted`, 'warn', `workflow ${state.workflow.name}: ${dead}; resume it to finish it`, {
          description: `resume it (orchestrator resume ${s.id}), or delete it (orchestrator delete ${s.id})`,
          action: `${RESUME_ACTION}:${s.id}`,
        }),
      );
    } else if (s.lock.state === 'stale' && isAtRest(state.status)) {
      const by = s.lock.owner ? ` by ${describeOwner(s.lock.owner)}` : '';
      out.push(
        result(`stale-lock:${s.id}`, `Session ${s.id} has a stale lock`, 'warn', `the session is ${state.status}, but a lock left${by} is still there (harmless: the next runner takes it over)`, {
          description: 'remove the stale lock',
          action: `${CLEAR_LOCK_ACTION}:${s.id}`,
        }),
      );
    }
  }
  if (!out.some((r) => r.status !== 'pass')) {
    out.push(result('sessions', 'Sessions', 'pass', scan.length ? `${plural(loaded, 'session')} ${loaded === 1 ? 'loads' : 'load'}; none waits for a resume` : 'no sessions yet'));
  }
  return out;
}

/** `resume:<id>`: a detached runner resumes the session (as `orchestrator resume ID --detach`). */
export async function resumeFix(o: DoctorOptions, id: string): Promise<string> {
  if (!o.cli) throw new FixError(`run orchestrator resume ${id}`);
  const l = loadSession(o.repoRoot, id);
  if (l.owner) throw new FixError(`session ${id} is running (owned by ${describeOwner(l.owner)}): nothing to resume`);
  if (!isResumable(l.state.status)) throw new FixError(`session ${id} is ${l.state.status}: there is nothing to resume`);
  const cannot = unresumable(l.state);
  if (cannot) throw new FixError(cannot);
  if (needsChoice(checkDefinition(o.repoRoot, l.state))) {
    throw new FixError(`the workflow file of session ${id} changed since it started: run orchestrator resume ${id} --reload (the file as it is now) or --stored (the definition it started with)`);
  }
  const pid = await spawnRunner(o.cli, ['resume', id, '--quiet'], o.repoRoot, id);
  return `resumed session ${id} in a background runner (process ${pid}); orchestrator logs ${id} --follow shows its progress`;
}

/** `clear-lock:<id>`: takes the stale lock over (the race-safe way) and releases it. */
export async function clearLockFix(o: DoctorOptions, id: string): Promise<string> {
  const paths = sessionPaths(o.repoRoot, id);
  const now = lockStatus(paths.lock);
  if (now.state === 'free') return `nothing to do: session ${id} has no lock`;
  if (now.state === 'held') throw new FixError(`session ${id} is owned by a live runner${now.owner ? ` (${describeOwner(now.owner)})` : ''}: its lock is not stale`);
  try {
    const lock = await acquireLock(paths.lock, { heartbeatMs: 0 });
    lock.release();
  } catch (e) {
    if (e instanceof LockHeldError) throw new FixError(`session ${id} is owned by a live process right now: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FixError(`no session '${id}' here (orchestrator list shows the sessions)`);
    throw e;
  }
  return `removed the stale lock of session ${id}`;
}
