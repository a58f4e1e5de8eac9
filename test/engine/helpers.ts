/**
 * Shared helpers for the engine tests: a throw-away repository (a temp folder with `.git`), a
 * workflow file in it, sessions started through the real engine (real bash steps, real files).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSession, type RunOptions, type Started } from '../../server/src/engine/sessions';
import type { SessionEvent, SessionState } from '../../server/src/engine/types';
import { rebuild } from '../../server/src/engine/state';
import { readEvents } from '../../server/src/store/eventLog';
import { loadSession, sessionPaths } from '../../server/src/store/sessionStore';

export { sleep };

const made: string[] = [];

export interface Repo {
  /** The repository root (holds `.git`). */
  readonly root: string;
  /** The workflow file (absolute). */
  readonly file: string;
  /** A folder outside the repo used as the home directory (no stray ~/.orchestrator/secrets). */
  readonly home: string;
  /** Absolute path of a file in the repo. */
  path(...parts: string[]): string;
  /** Contents of a file in the repo, or undefined when it does not exist. */
  read(...parts: string[]): string | undefined;
}

/** A fresh temp repository with the given workflow written to `wf.workflow.yaml`. */
export function makeRepo(workflow?: string, fileName = 'wf.workflow.yaml'): Repo {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-engine-'));
  made.push(base);
  const root = path.join(base, 'repo');
  const home = path.join(base, 'home');
  fs.mkdirSync(path.join(root, '.git'), { recursive: true });
  fs.mkdirSync(home);
  const file = path.join(root, fileName);
  if (workflow !== undefined) fs.writeFileSync(file, workflow);
  return {
    root,
    file,
    home,
    path: (...parts) => path.join(root, ...parts),
    read: (...parts) => {
      try {
        return fs.readFileSync(path.join(root, ...parts), 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** Rewrites the workflow file. */
export function writeWorkflow(repo: Repo, workflow: string): void {
  fs.writeFileSync(repo.file, workflow);
}

/** Removes every repo made so far (call from `after`). */
export function cleanupRepos(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** The environment given to sessions: this process's, without any ORCHESTRATOR_SECRET_* of the host. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCHESTRATOR_')) env[k] = v;
  return { ...env, ...extra };
}

export type StartOpts = Partial<RunOptions> & { id?: string };

/** The options startSession/resumeSession get in these tests. */
export function runOpts(repo: Repo, opts: StartOpts = {}): RunOptions & { id?: string } {
  return { repoRoot: repo.root, homeDir: repo.home, env: cleanEnv(), snapshotEveryMs: 50, ...opts };
}

/** Starts a session (does not wait for it). */
export function start(repo: Repo, inputs: Record<string, string> = {}, opts: StartOpts = {}): Promise<Started> {
  return startSession(repo.file, inputs, runOpts(repo, opts));
}

export interface Finished {
  readonly id: string;
  readonly started: Started;
  /** What `done` resolved with. */
  readonly final: SessionState;
  /** The persisted state, read back with loadSession. */
  readonly state: SessionState;
  readonly warnings: string[];
}

/** Waits for a started session to come to rest (`limitMs`: a hang guard); returns the persisted state. */
export async function finish(repo: Repo, started: Started, limitMs = 60_000): Promise<Finished> {
  let timer: NodeJS.Timeout | undefined;
  const final = await Promise.race([
    started.done,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`session ${started.id} did not come to rest within ${limitMs} ms`)), limitMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const loaded = loadSession(repo.root, started.id);
  return { id: started.id, started, final, state: loaded.state, warnings: loaded.warnings };
}

/** Starts a session and waits until it is at rest. */
export async function runToRest(repo: Repo, inputs: Record<string, string> = {}, opts: StartOpts = {}): Promise<Finished> {
  return finish(repo, await start(repo, inputs, opts));
}

/** Every event of a session's log.jsonl. */
export function events(repo: Repo, id: string): SessionEvent[] {
  return readEvents(sessionPaths(repo.root, id).log).events;
}

/** Polls until `cond` holds, or fails the test after `limitMs` (a hang guard, far above what a busy machine needs). */
export async function waitFor(what: string, cond: () => boolean, limitMs = 60_000, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) assert.fail(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Whether a process exists (process.kill(pid, 0) does not throw ESRCH). Zombies count as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Reads a pid a step wrote to a file. */
export function pidIn(repo: Repo, name: string): number {
  const text = repo.read(name);
  assert.ok(text !== undefined, `the step did not write ${name}`);
  const pid = Number(text.trim());
  assert.ok(Number.isSafeInteger(pid) && pid > 0, `${name} holds no pid: ${JSON.stringify(text)}`);
  return pid;
}

/** Lines of a file in the repo (empty when it does not exist). */
export function linesOf(repo: Repo, name: string): string[] {
  return (repo.read(name) ?? '').split('\n').filter((l) => l !== '');
}

/** How many times a marker file got a line appended (used to count executions). */
export function count(repo: Repo, name: string): number {
  return linesOf(repo, name).length;
}

/** A one-line summary of step statuses, for assertion messages. */
export function statuses(state: SessionState): Record<string, string> {
  return Object.fromEntries(state.order.map((id) => [id, state.steps[id].status]));
}

/** state.json (through loadSession) and the state rebuilt from log.jsonl alone agree. */
export function assertRebuilds(repo: Repo, id: string): void {
  const read = readEvents(sessionPaths(repo.root, id).log);
  assert.equal(read.torn, false, 'log.jsonl ends in a torn line');
  assert.equal(read.skipped, 0, 'log.jsonl has lines that do not parse');
  const fromLog = rebuild(read.events);
  assert.ok(fromLog, 'log.jsonl has no session.started');
  const loaded = loadSession(repo.root, id);
  assert.deepEqual(loaded.warnings, []);
  assert.deepEqual(JSON.parse(JSON.stringify(loaded.state)), JSON.parse(JSON.stringify(fromLog)), 'state.json differs from the state rebuilt from log.jsonl');
}
