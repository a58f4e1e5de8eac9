/**
 * What a runner leaves running when it dies, and how the next runner stops it (docs/sessions.md,
 * "Resume never runs a step twice").
 *
 * A step's shell leads its own process group, so a runner killed with SIGKILL leaves its running
 * steps alive. Two things let a later process find them, each covering the other's gap:
 * - a record, `steps/<step>/<attempt>.proc` = `{ pid, procStart, host, token }`, written right after
 *   the spawn and removed once the step's group is dead. `procStart` (the start time from
 *   /proc/<pid>/stat) tells the step's shell from an unrelated process that got its pid later. It
 *   is written whole (a temp file renamed into place), so a runner killed mid-write leaves no
 *   record rather than an empty one. A process killed cannot lose a write it made (the page cache
 *   outlives it), and a power cut leaves no process behind, so no fsync is needed.
 * - a mark in the environment of every step process, ORCHESTRATOR_STEP_TOKEN=<session>/<step>/<attempt>,
 *   inherited by everything the step starts (also by what leaves the step's group with setsid).
 *   It covers the instant between the spawn and the record, and processes whose group leader is gone.
 *   A process that clears its environment is still found through its group (the record's or a
 *   marked process's).
 *
 * stopLeftovers() runs under the session's lock, before a resume (or a cancel) of a session whose
 * runner died: the groups found are sent SIGTERM, then SIGKILL after the grace, as a timeout does.
 * It only acts on attempts the session does not record as finished. Linux only (/proc); elsewhere
 * nothing is found.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasProc, isGone as gone, listProcesses, ownGroups, procEnvValue, procInfo, type ProcInfo } from '../../store/liveness';
import { stepFolder, type SessionPaths } from '../../store/sessionStore';
import { writeFileAtomically } from '../../store/durableFile';
import { signalGroup, USE_PROCESS_GROUPS } from './processTree';
import { DEFAULT_KILL_GRACE_MS } from './shell';
import { isStepDone, type SessionState } from '../types';

/** The environment variable that marks every process of a step. */
export const STEP_TOKEN_ENV = 'ORCHESTRATOR_STEP_TOKEN';

export function stepToken(session: string, step: string, attempt: number): string {
  return `${session}/${step}/${attempt}`;
}

/** `<session>/<step>/<attempt>` back to its parts (step ids may hold '/', session ids do not). */
function parseToken(token: string): { session: string; step: string; attempt: number } | undefined {
  const first = token.indexOf('/');
  const last = token.lastIndexOf('/');
  if (first <= 0 || last <= first + 1) return undefined;
  const attempt = Number(token.slice(last + 1));
  if (!Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  return { session: token.slice(0, first), step: token.slice(first + 1, last), attempt };
}

export function recordFile(paths: SessionPaths, step: string, attempt: number): string {
  return path.join(paths.dir, 'steps', stepFolder(step), `${attempt}.proc`);
}

interface ProcRecord {
  readonly pid: number;
  readonly procStart: number;
  readonly host: string;
  readonly token: string;
}

/**
 * Records the step's process group (its shell leads it) right after the spawn. Best effort: when
 * the record cannot be written, the environment mark still finds the step. Returns the file, to
 * remove once the group is dead.
 */
export function recordStepProcess(file: string, token: string, pid: number): string | undefined {
  const st = procInfo(pid);
  if (!st) return undefined; // no /proc: nothing to tell pid reuse with, so nothing is recorded
  const rec: ProcRecord = { pid, procStart: st.start, host: os.hostname(), token };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Whole or absent: a runner killed mid-write must not leave a record that does not parse.
    writeFileAtomically(file, JSON.stringify(rec) + '\n');
    return file;
  } catch {
    return undefined;
  }
}

export function forgetStepProcess(file: string | undefined): void {
  if (file !== undefined) fs.rmSync(file, { force: true });
}

function readRecords(dir: string): { file: string; rec: ProcRecord | undefined }[] {
  const out: { file: string; rec: ProcRecord | undefined }[] = [];
  const stepsDir = path.join(dir, 'steps');
  let folders: string[];
  try {
    folders = fs.readdirSync(stepsDir);
  } catch {
    return out;
  }
  for (const folder of folders) {
    let files: string[];
    try {
      files = fs.readdirSync(path.join(stepsDir, folder));
    } catch {
      continue;
    }
    for (const f of files) {
      if (!/^\d+\.proc$/.test(f)) continue;
      const file = path.join(stepsDir, folder, f);
      out.push({ file, rec: parseRecord(file) });
    }
  }
  return out;
}

function parseRecord(file: string): ProcRecord | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ProcRecord>;
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 1 || !Number.isSafeInteger(v.procStart)) return undefined;
    if (typeof v.host !== 'string' || typeof v.token !== 'string') return undefined;
    return v as ProcRecord;
  } catch {
    return undefined;
  }
}

export interface StoppedGroup {
  readonly pgid: number;
  readonly step: string;
  readonly attempt: number;
  /** How it was found: the record of its spawn, or the environment mark of one of its processes. */
  readonly via: 'record' | 'mark';
}

export interface StopOptions {
  /** Between SIGTERM and SIGKILL (default 5 s, as for a timeout). */
  readonly graceMs?: number;
}

/** A group to stop, and its processes as first seen: one of them still there proves the group is the step's. */
interface Target extends StoppedGroup {
  members: { pid: number; start: number }[];
}

/** A process group a dead runner of the session left running, with its living processes now. */
export interface LeftoverGroup extends StoppedGroup {
  readonly processes: number;
}

/**
 * What dead runners of this session left running: the process groups of step attempts that the
 * session does not record as finished, found by the record of their spawn (checked against pid
 * reuse by start time) or by the step mark in a process's environment. Nothing is signalled
 * (doctor reports these; stopLeftovers stops them). `markOf`: a process's step mark (default: read
 * from /proc; doctor passes the marks it read once for every session).
 */
export function findLeftovers(
  dir: string,
  state: SessionState,
  procs: readonly ProcInfo[] = listProcesses().filter((p) => !gone(p)),
  markOf: (pid: number) => string | undefined = (pid) => procEnvValue(pid, STEP_TOKEN_ENV),
): LeftoverGroup[] {
  /** An attempt whose processes may still be running: the session does not say it ended. */
  const unfinished = (step: string, attempt: number): boolean => {
    const s = state.steps[step];
    return !s || !isStepDone(s.status) || s.attempt < attempt;
  };
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const spared = ownGroups(byPid);
  const found = new Map<number, StoppedGroup>();
  const host = os.hostname();
  for (const { rec } of readRecords(dir)) {
    const t = rec && parseToken(rec.token);
    if (!rec || !t || rec.host !== host || t.session !== state.id || !unfinished(t.step, t.attempt)) continue;
    const leader = byPid.get(rec.pid);
    // The pid must still name the process that was spawned (same start time) and lead its group.
    if (!leader || leader.start !== rec.procStart || leader.pgid !== rec.pid || spared.has(rec.pid)) continue;
    found.set(rec.pid, { pgid: rec.pid, step: t.step, attempt: t.attempt, via: 'record' });
  }
  const prefix = `${state.id}/`;
  for (const p of procs) {
    if (found.has(p.pgid) || spared.has(p.pgid)) continue;
    const token = markOf(p.pid);
    if (token === undefined || !token.startsWith(prefix)) continue;
    const t = parseToken(token);
    // A marked process's group is the step's own, or one a process of the step made (setsid).
    if (t && unfinished(t.step, t.attempt)) found.set(p.pgid, { pgid: p.pgid, step: t.step, attempt: t.attempt, via: 'mark' });
  }
  return [...found.values()].map((g) => ({ ...g, processes: procs.filter((p) => p.pgid === g.pgid).length }));
}

/**
 * Stops what dead runners of this session left running (findLeftovers). Call it holding the
 * session's lock, before any step starts. Resolves once those groups are empty (or only zombies
 * are left); removes the records.
 */
export async function stopLeftovers(paths: SessionPaths, state: SessionState, opts: StopOptions = {}): Promise<StoppedGroup[]> {
  const records = readRecords(paths.dir);
  if (!USE_PROCESS_GROUPS || !hasProc()) {
    for (const r of records) forgetStepProcess(r.file);
    return [];
  }
  const procs = listProcesses().filter((p) => !gone(p));
  const targets = new Map<number, Target>();
  for (const { processes: _n, ...g } of findLeftovers(paths.dir, state, procs)) targets.set(g.pgid, { ...g, members: [] });
  for (const p of procs) targets.get(p.pgid)?.members.push({ pid: p.pid, start: p.start });
  const signalled = targets.size > 0 ? await terminate(targets, opts.graceMs ?? DEFAULT_KILL_GRACE_MS) : new Set<number>();
  for (const r of records) forgetStepProcess(r.file);
  return [...targets.values()].filter((t) => signalled.has(t.pgid)).map(({ members: _m, ...g }) => g);
}

/** SIGTERM to every group, SIGKILL to those still there after the grace; resolves with the groups signalled once they are empty. */
async function terminate(targets: Map<number, Target>, graceMs: number): Promise<Set<number>> {
  const signalled = new Set<number>();
  for (const t of targets.values()) {
    // A process seen in the group a moment ago is still there (same pid, start time and group):
    // the group is still the step's. Otherwise it emptied meanwhile, and its id may be reused.
    const still = t.members.some((m) => {
      const now = procInfo(m.pid);
      return now !== undefined && !gone(now) && now.start === m.start && now.pgid === t.pgid;
    });
    if (still && signalGroup(t.pgid, 'SIGTERM')) signalled.add(t.pgid);
  }
  // A group still there at every look since then was never empty, so its id cannot have been
  // given to another group (an id is free again only once no process uses it).
  const left = await waitEmpty(signalled, graceMs);
  if (left.size > 0) {
    for (const pgid of left) signalGroup(pgid, 'SIGKILL');
    // What SIGKILL cannot end at once (a process in uninterruptible sleep) ends when its I/O does.
    await waitEmpty(left, 10_000);
  }
  return signalled;
}

/** Polls /proc until none of the groups has a living process; returns those that still have one. */
async function waitEmpty(groups: Set<number>, ms: number): Promise<Set<number>> {
  const deadline = Date.now() + ms;
  let left = groups;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const members = new Set(listProcesses().filter((p) => !gone(p)).map((p) => p.pgid));
    left = new Set([...left].filter((g) => members.has(g)));
    if (left.size === 0 || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** `stopped what a dead runner left running: step build (attempt 1), step test (attempt 2)` */
export function describeStopped(groups: readonly StoppedGroup[]): string {
  const steps = [...new Set(groups.map((g) => `step ${g.step} (attempt ${g.attempt})`))];
  return `stopped what the session's dead runner left running: ${steps.join(', ')}`;
}
