/**
 * Step processes left running by dead runners (engine/steps/stepProcesses.ts): a step's shell
 * leads its own process group, so a runner killed with SIGKILL leaves its running steps alive.
 *
 * Found the way resume finds them, never by a program's name: the record the runner wrote at the
 * spawn (`steps/<step>/<attempt>.proc`: pid, start time, host, token), whose pid must still name
 * the same process (same start time in /proc) and lead its group; or the session's mark
 * `ORCHESTRATOR_STEP_TOKEN=<session>/<step>/<attempt>` in a process's environment. Only attempts
 * the session does not record as finished, of sessions no live runner owns. Linux only (/proc).
 *
 * The fix is resume's own: under the session's lock, stopLeftovers() sends each group SIGTERM,
 * then SIGKILL after the grace, after checking again that each group is still the step's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeStopped, STEP_TOKEN_ENV, stopLeftovers } from '../engine/steps/stepProcesses';
import { isStepDone, type SessionState } from '../engine/types';
import { hasProc, isGone as gone, listProcesses, ownGroups, procEnvValue, type ProcInfo } from '../store/liveness';
import { acquireLock, LockHeldError } from '../store/lock';
import { loadSession, sessionPaths } from '../store/sessionStore';
import type { ScannedSession } from './sessionScan';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const STOP_PROCESSES_ACTION = 'stop-processes';

export interface LeftoverGroup {
  readonly pgid: number;
  readonly step: string;
  readonly attempt: number;
  readonly via: 'record' | 'mark';
  /** Its living processes now. */
  readonly processes: number;
}

function parseToken(token: string): { session: string; step: string; attempt: number } | undefined {
  const first = token.indexOf('/');
  const last = token.lastIndexOf('/');
  if (first <= 0 || last <= first + 1) return undefined;
  const attempt = Number(token.slice(last + 1));
  if (!Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  return { session: token.slice(0, first), step: token.slice(first + 1, last), attempt };
}

interface ProcRecord {
  pid: number;
  procStart: number;
  host: string;
  token: string;
}

function readRecords(dir: string): ProcRecord[] {
  const out: ProcRecord[] = [];
  const steps = path.join(dir, 'steps');
  let folders: string[] = [];
  try {
    folders = fs.readdirSync(steps);
  } catch {
    return out;
  }
  for (const folder of folders) {
    let files: string[] = [];
    try {
      files = fs.readdirSync(path.join(steps, folder)).filter((f) => /^\d+\.proc$/.test(f));
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const v = JSON.parse(fs.readFileSync(path.join(steps, folder, f), 'utf8')) as Partial<ProcRecord>;
        if (Number.isSafeInteger(v.pid) && (v.pid as number) > 1 && Number.isSafeInteger(v.procStart) && typeof v.host === 'string' && typeof v.token === 'string') out.push(v as ProcRecord);
      } catch {
        // half written or damaged: the environment mark still finds its processes
      }
    }
  }
  return out;
}

/** The step mark of every process that carries one (read once per run: /proc/<pid>/environ of our own processes). */
function stepMarks(procs: readonly ProcInfo[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of procs) {
    const token = procEnvValue(p.pid, STEP_TOKEN_ENV);
    if (token !== undefined) out.set(p.pid, token);
  }
  return out;
}

/** What dead runners of this session left running (found as stopLeftovers finds it; nothing is signalled). */
export function findLeftovers(dir: string, state: SessionState, procs: readonly ProcInfo[] = listProcesses().filter((p) => !gone(p)), marks: ReadonlyMap<number, string> = stepMarks(procs)): LeftoverGroup[] {
  const unfinished = (step: string, attempt: number): boolean => {
    const s = state.steps[step];
    return !s || !isStepDone(s.status) || s.attempt < attempt;
  };
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const spared = ownGroups(byPid);
  const found = new Map<number, Omit<LeftoverGroup, 'processes'>>();
  const host = os.hostname();
  for (const rec of readRecords(dir)) {
    const t = parseToken(rec.token);
    if (!t || rec.host !== host || t.session !== state.id || !unfinished(t.step, t.attempt)) continue;
    const leader = byPid.get(rec.pid);
    if (!leader || leader.start !== rec.procStart || leader.pgid !== rec.pid || spared.has(rec.pid)) continue;
    found.set(rec.pid, { pgid: rec.pid, step: t.step, attempt: t.attempt, via: 'record' });
  }
  const prefix = `${state.id}/`;
  for (const p of procs) {
    if (found.has(p.pgid) || spared.has(p.pgid)) continue;
    const token = marks.get(p.pid);
    if (token === undefined || !token.startsWith(prefix)) continue;
    const t = parseToken(token);
    if (t && unfinished(t.step, t.attempt)) found.set(p.pgid, { pgid: p.pgid, step: t.step, attempt: t.attempt, via: 'mark' });
  }
  return [...found.values()].map((g) => ({ ...g, processes: procs.filter((p) => p.pgid === g.pgid).length }));
}

export function processChecks(scan: readonly ScannedSession[]): CheckResult[] {
  const title = 'Step processes left running';
  if (!hasProc()) return [result('step-processes', title, 'pass', 'not checked: this system has no /proc (Linux only)')];
  const procs = listProcesses().filter((p) => !gone(p));
  const marks = stepMarks(procs);
  const out: CheckResult[] = [];
  for (const s of scan) {
    if (!s.loaded || s.loaded.owner || s.lock.state === 'held') continue; // a live runner's steps are its own
    const groups = findLeftovers(s.loaded.paths.dir, s.loaded.state, procs, marks);
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
