/**
 * The detached runner: `orchestrator run|resume --detach` and the editor's host start sessions
 * through it, so a session outlives the terminal or the window that started it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSession, sessionPaths } from '../store/sessionStore';
import { InputError } from './errors';

/** How long to wait for a live runner to take the session before giving up on it. */
const START_GUARD_MS = 60_000;

/**
 * Starts `node <cli> <args>` as a detached runner that outlives the caller (a terminal, or the
 * editor's host across a window reload), and waits until it owns the session. Its stderr goes
 * to `.orchestrator/sessions/.<id>.runner.log`. Returns the runner's pid.
 */
export async function spawnRunner(cli: string, args: string[], root: string, id: string, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const paths = sessionPaths(root, id);
  fs.mkdirSync(path.dirname(paths.dir), { recursive: true });
  const logSize = (): number => {
    try {
      return fs.statSync(paths.log).size;
    } catch {
      return 0;
    }
  };
  // A runner that owned the session and already finished it counts as started: its events are there.
  const before = logSize();
  const logFile = paths.runnerLog;
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, ...env, ORCHESTRATOR_REPO: root } });
  fs.closeSync(logFd);
  let exited: number | null = null;
  child.on('exit', (c) => (exited = c ?? 1));
  child.unref();
  // Wait for the event (the session owned, or the runner gone), not for a time window: a busy
  // machine can take seconds to start Node. The guard is for a runner that hangs before its lock.
  const t0 = Date.now();
  while (Date.now() - t0 < START_GUARD_MS) {
    let owned = false;
    try {
      owned = !!loadSession(root, id).owner;
    } catch {
      /* not created yet */
    }
    if (owned) return child.pid ?? 0;
    if (exited !== null && logSize() > before && exited !== 2) return child.pid ?? 0;
    if (exited !== null) {
      // The runner's one-line error, without its own `orchestrator: ` (the caller prints one).
      const said = fs.readFileSync(logFile, 'utf8').trim().replace(/^orchestrator: /, '');
      // Refused before the session existed (bad input, bad setting): leave no trace of it.
      if (!fs.existsSync(paths.dir)) fs.rmSync(logFile, { force: true });
      throw new InputError(exited === 2 ? said : `the session runner exited at once (code ${String(exited)}):\n${said}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new InputError(`the session runner did not take the session within ${START_GUARD_MS / 1000} s; see ${logFile}`);
}
