/**
 * Helpers for tests that drive the REAL built CLI (`node server/out/cli.js`) as child processes in
 * throw-away repositories. No mocks. Every wait has a deadline, so a hang fails instead of blocking.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO_ROOT, 'server', 'out', 'cli.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** A temp repository (with a `.git` folder, so it is its own repo root) and a private HOME. */
export function makeRepo(prefix: string): { root: string; home: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.mkdirSync(path.join(root, '.git'));
  const home = path.join(root, '.home');
  fs.mkdirSync(home);
  return { root, home };
}

/**
 * The environment for CLI children: this process's, without any ORCHESTRATOR_* variable (an
 * ORCHESTRATOR_REPO inherited from the caller would point the CLI at another repository), with a
 * private HOME (no user config leaks in) and no colours.
 */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCHESTRATOR_')) env[k] = v;
  return { ...env, HOME: home, NO_COLOR: '1', ...extra };
}

export interface RunCliOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) and rejected after this long (a hang guard, far above a slow run). Default 60 s. */
  readonly timeoutMs?: number;
}

/** Runs the CLI to its end and collects its output. */
export function runCli(args: readonly string[], opts: RunCliOptions): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`orchestrator ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/**
 * Polls `f` until it returns something other than undefined/false, or fails after `timeoutMs`: a
 * hang guard only, far above what a busy machine needs (the tests wait for events, not for time).
 */
export async function waitFor<T>(f: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 60_000, intervalMs = 50): Promise<T> {
  const t0 = Date.now();
  let lastError: string | undefined;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Session folder names under .orchestrator/sessions (not sorted). */
export function sessionFolders(root: string): string[] {
  try {
    // Dot-names are the store's own transient folders (.deleting-*, .import-*), never sessions.
    return fs.readdirSync(path.join(root, '.orchestrator', 'sessions'), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Whether a process exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/**
 * Every process whose environment holds `NAME=value` (Linux /proc; our own processes only).
 * Used to find step processes (they run in their own process groups) left over by a killed runner.
 */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const out: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const env = Buffer.concat([Buffer.from('\0'), fs.readFileSync(`/proc/${e}/environ`), Buffer.from('\0')]);
      if (env.indexOf(needle) !== -1) out.push(pid);
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** SIGKILLs each process's group (steps lead their own groups) and the process itself; never throws. */
export function killTrees(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // not a group leader, or gone
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** The command's stdout as JSON, after checking its exit code (default 0; the message shows both streams). */
export function expectJson<T>(r: CliResult, code = 0): T {
  assert.equal(r.code, code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A throw-away repository (makeRepo) and a `cli(...args)` that runs the built CLI in it with its private HOME. */
export function cliRepo(prefix: string): { root: string; home: string; cli: (...args: string[]) => Promise<CliResult> } {
  const r = makeRepo(prefix);
  return { ...r, cli: (...args) => runCli(args, { cwd: r.root, env: cliEnv(r.home), timeoutMs: 60_000 }) };
}

/** A clean bad-usage error: exit 2, one line on stderr starting with `orchestrator:`, no stack trace. */
export function assertUsageError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^orchestrator: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}
