/**
 * Step processes left running by dead runners (engine/steps/stepProcesses.ts): a step's shell
 * leads its own process group, so a runner killed with SIGKILL leaves its running steps alive.
 *
 * Found as resume finds them (findLeftovers, the same code), never by a program's name: the record the runner wrote at the
 * spawn (`steps/<step>/<attempt>.proc`: pid, start time, host, token), whose pid must still name
 * the same process (same start time in /proc) and lead its group; or the session's mark
 * `ORCHESTRATOR_STEP_TOKEN=<session>/<step>/<attempt>` in a process's environment. Only attempts
 * the session does not record as finished, of sessions no live runner owns. Linux only (/proc).
 *
 * The fix is resume's own: under the session's lock, stopLeftovers() sends each group SIGTERM,
 * then SIGKILL after the grace, after checking again that each group is still the step's.
 */
import { describeStopped, findLeftovers, STEP_TOKEN_ENV, stopLeftovers } from '../engine/steps/stepProcesses';
import { hasProc, isGone as gone, listProcesses, procEnvValue, type ProcInfo } from '../store/liveness';
import { acquireLock, LockHeldError } from '../store/lock';
import { loadSession, sessionPaths } from '../store/sessionStore';
import type { ScannedSession } from './sessionScan';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const STOP_PROCESSES_ACTION = 'stop-processes';

/** The step mark of every process that carries one (read once per run: /proc/<pid>/environ of our own processes). */
function stepMarks(procs: readonly ProcInfo[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of procs) {
    const token = procEnvValue(p.pid, STEP_TOKEN_ENV);
    if (token !== undefined) out.set(p.pid, token);
  }
  return out;
}

export function processChecks(scan: readonly ScannedSession[]): CheckResult[] {
  const title = 'Step processes left running';
  if (!hasProc()) return [result('step-processes', title, 'pass', 'not checked: this system has no /proc (Linux only)')];
  const procs = listProcesses().filter((p) => !gone(p));
  const marks = stepMarks(procs);
  const out: CheckResult[] = [];
  for (const s of scan) {
    if (!s.loaded || s.loaded.owner || s.lock.state === 'held') continue; // a live runner's steps are its own
    const groups = findLeftovers(s.loaded.paths.dir, s.loaded.state, procs, (pid) => marks.get(pid));
    if (!groups.length) continue;
    const steps = [...new Set(groups.map((g) => `${g.step} (attempt ${g.attempt})`))].join(', ');
    const n = groups.reduce((a, g) => a + g.processes, 0);
    out.push(
      result(`step-processes:${s.id}`, `Session ${s.id} left step processes running`, 'fail', `its runner is dead, but ${plural(n, 'process', 'processes')} of step ${steps} still run${n === 1 ? 's' : ''} (process group${groups.length === 1 ? '' : 's'} ${groups.map((g) => g.pgid).join(', ')})`, {
        description: `stop them (SIGTERM, then SIGKILL after 5 s), as orchestrator resume ${s.id} or cancel ${s.id} would`,
        action: `${STOP_PROCESSES_ACTION}:${s.id}`,
      }),
    );
  }
  if (!out.length) out.push(result('step-processes', title, 'pass', 'no dead runner left a step running'));
  return out;
}

/** `stop-processes:<id>`: under the session's lock, what its dead runners left running is stopped. */
export async function stopProcessesFix(o: DoctorOptions, id: string, graceMs?: number): Promise<string> {
  const paths = sessionPaths(o.repoRoot, id);
  let lock;
  try {
    lock = await acquireLock(paths.lock, { heartbeatMs: 0 });
  } catch (e) {
    if (e instanceof LockHeldError) throw new FixError(`session ${id} has a live runner: its steps are its own (${e.message})`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FixError(`no session '${id}' here (orchestrator list shows the sessions)`);
    throw e;
  }
  try {
    const { state } = loadSession(o.repoRoot, id);
    const stopped = await stopLeftovers(paths, state, graceMs !== undefined ? { graceMs } : {});
    return stopped.length ? describeStopped(stopped).replace("the session's dead runner", `session ${id}'s dead runner`) : `nothing of session ${id} was left running`;
  } finally {
    lock.release();
  }
}
