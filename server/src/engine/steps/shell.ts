/**
 * Running one attempt of a `run` step: a shell script in its own process group, its output
 * streamed line by line (masked) to a log file and to a callback, with timeout and cancellation
 * that kill the whole process tree. Node built-ins only; POSIX process groups (on Windows only
 * the shell itself is signalled).
 *
 * Decisions:
 * - Shell flags follow GitHub Actions: `bash --noprofile --norc -eo pipefail -c <script>`;
 *   `sh`/`dash`/`ash` get `-e`; `zsh`/`ksh`/`mksh` get `-eo pipefail`; any other program only `-c`.
 *   The script is passed with `-c` (no temp file, no extra process); a script too big for one
 *   argument (Linux: 128 KiB) is written to a private temp file that is passed as the script path
 *   and removed afterwards.
 * - stdin is /dev/null. stdout and stderr go to one log file in arrival order, one line per line,
 *   without any prefix (the log is the output "as it came"); `onLine` says which stream a line
 *   came from. Lines end in `\n` in the log (CRLF becomes LF; a last line without newline gets one).
 * - When the shell exits, whatever it left in its process group (background jobs, daemons) is
 *   SIGKILLed at once, as GitHub Actions cleans up orphan processes; the step is over when the
 *   shell is. A process that left the group (setsid) but still holds the output pipes is waited
 *   for at most DRAIN_AFTER_EXIT_MS, then its pipes are closed.
 * - Timeout/cancel: SIGTERM to the group, SIGKILL to the group `killGraceMs` later (or as soon as
 *   the shell has exited).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_LINE_LENGTH, LineSplitter } from './lines';
import { signalGroup, USE_PROCESS_GROUPS } from './processTree';

export interface ShellStepOptions {
  /** Already prepared (`prepareScript`): no `${{ }}` left; expression values come through `env`. */
  script: string;
  /** A program name (looked up on the PATH of `env`) or path. Default 'bash'. */
  shell?: string;
  cwd: string;
  /** The full environment of the child (nothing of this process is added). */
  env: Record<string, string>;
  /** Per attempt; on expiry the whole process tree is killed and the outcome is 'timed_out'. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL to the process group on timeout/cancel (default 5000). */
  killGraceMs?: number;
  /** Cancellation: same tree kill, outcome 'cancelled'. */
  signal?: AbortSignal;
  /** Both streams' lines go here as they come (opened for append on the first line; parent dirs created). */
  logFile?: string;
  /** Applied to every line before it is written or reported. */
  mask?: (line: string) => string;
  /**
   * For the pieces of a line longer than maxLineLength: masks what is safe to write now and
   * returns the rest for the next piece, so a secret cut across two pieces is still masked.
   */
  maskPrefix?: (text: string) => { masked: string; rest: string };
  /** Every complete line (after mask), in order per stream. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** A longer line is split into pieces of this many characters (default 64 KiB). */
  maxLineLength?: number;
  /** Called right after the shell started, with its pid (the id of its process group). */
  onSpawn?: (pid: number) => void;
}

export interface ShellStepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  durationMs: number;
  /** Why the step could not run or its output could not be handled, in words. */
  error?: string;
}

export const DEFAULT_SHELL = 'bash';
export const DEFAULT_KILL_GRACE_MS = 5000;
/** After the shell exits and its group is killed, how long a process that escaped the group may keep the output pipes open. */
export const DRAIN_AFTER_EXIT_MS = 1000;
/** Scripts at least this long (bytes) are passed as a file: Linux limits one argument to 128 KiB. */
const MAX_INLINE_SCRIPT_BYTES = 128 * 1024 - 1;
/** setTimeout's largest delay; longer timeouts are capped to it (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The flags a shell gets before `-c <script>` (or before the script path). */
export function shellFlags(shell: string): string[] {
  switch (path.basename(shell)) {
    case 'bash':
      return ['--noprofile', '--norc', '-eo', 'pipefail'];
    case 'zsh':
    case 'ksh':
    case 'mksh':
      return ['-eo', 'pipefail'];
    case 'sh':
    case 'dash':
    case 'ash':
      return ['-e'];
    default:
      return [];
  }
}

/** The arguments of the shell for an inline script: e.g. `['--noprofile', '--norc', '-eo', 'pipefail', '-c', script]`. */
export function shellArgs(shell: string, script: string): string[] {
  return [...shellFlags(shell), '-c', script];
}

export function runShellStep(opts: ShellStepOptions): Promise<ShellStepResult> {
  const shell = opts.shell ?? DEFAULT_SHELL;
  if (Buffer.byteLength(opts.script, 'utf8') < MAX_INLINE_SCRIPT_BYTES) {
    return runProcess(opts, shell, shellArgs(shell, opts.script));
  }
  return runFromFile(opts, shell);
}

async function runFromFile(opts: ShellStepOptions, shell: string): Promise<ShellStepResult> {
  const started = performance.now();
  let dir: string;
  try {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'orch-script-'));
  } catch (e) {
    return failed(started, `cannot write the script to a temporary file: ${messageOf(e)}`);
  }
  try {
    const file = path.join(dir, 'script');
    await fs.promises.writeFile(file, opts.script, { mode: 0o600 });
    return await runProcess(opts, shell, [...shellFlags(shell), file]);
  } catch (e) {
    return failed(started, `cannot write the script to a temporary file: ${messageOf(e)}`);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function failed(started: number, error: string): ShellStepResult {
  return { exitCode: null, signal: null, outcome: 'failed', durationMs: performance.now() - started, error };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function runProcess(opts: ShellStepOptions, shell: string, args: string[]): Promise<ShellStepResult> {
  const started = performance.now();
  const abort = opts.signal;
  if (abort?.aborted) {
    return Promise.resolve({ exitCode: null, signal: null, outcome: 'cancelled', durationMs: 0, error: 'cancelled before it started' });
  }
  let child: ChildProcess;
  try {
    child = spawn(shell, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: USE_PROCESS_GROUPS });
  } catch (e) {
    // Thrown synchronously: ENOTDIR (cwd is a file), invalid arguments (NUL bytes), ...
    return describeSpawnError(e, shell, opts).then((error) => failed(started, error));
  }
  if (child.pid !== undefined) {
    try {
      opts.onSpawn?.(child.pid);
    } catch {
      // a record that cannot be written does not stop the step
    }
  }
  return new Promise<ShellStepResult>((resolve) => {
    const { mask, onLine, logFile } = opts;
    const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    let exited = false;
    let spawnFailed = false;
    let describing = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let killReason: 'timed_out' | 'cancelled' | undefined;
    let handlerFailed = false;
    const errors: string[] = [];
    let openStreams = 0;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let logFd: number | undefined;
    let logFailed = logFile === undefined;
    /** Log text of the lines produced by the chunk being handled: one write per chunk. */
    let batch = '';

    const signalTree = (sig: NodeJS.Signals): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      if (USE_PROCESS_GROUPS) signalGroup(pid, sig);
      else child.kill(sig);
    };

    const terminate = (): void => {
      if (exited || graceTimer !== undefined) return;
      signalTree('SIGTERM');
      if (graceMs <= 0) signalTree('SIGKILL');
      else graceTimer = setTimeout(() => signalTree('SIGKILL'), Math.min(graceMs, MAX_TIMER_MS));
    };

    const onAbort = (): void => {
      if (exited) return;
      killReason ??= 'cancelled';
      terminate();
    };

    const writeLog = (text: string): void => {
      if (logFailed) return;
      try {
        if (logFd === undefined) {
          fs.mkdirSync(path.dirname(logFile!), { recursive: true });
          logFd = fs.openSync(logFile!, 'a');
        }
        const buf = Buffer.from(text, 'utf8');
        let off = 0;
        while (off < buf.length) off += fs.writeSync(logFd, buf, off);
      } catch (e) {
        logFailed = true;
        errors.push(`cannot write the log file ${logFile}: ${messageOf(e)}`);
      }
    };

    /** Runs the splitter on a chunk (or its end), then writes what it produced in one go. */
    const handle = (work: () => void): void => {
      if (handlerFailed) return;
      try {
        work();
      } catch (e) {
        // A throwing mask/onLine: stop the step rather than write an unmasked line or lose lines silently.
        handlerFailed = true;
        errors.push(`output handling failed: ${messageOf(e)}`);
        terminate();
      }
      if (batch.length > 0) {
        writeLog(batch);
        batch = '';
      }
    };

    const finish = (): void => {
      if (settled || !exited || openStreams > 0 || describing) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      abort?.removeEventListener('abort', onAbort);
      if (logFd !== undefined) {
        try {
          fs.closeSync(logFd);
        } catch (e) {
          errors.push(`cannot close the log file ${logFile}: ${messageOf(e)}`);
        }
      }
      let outcome: ShellStepResult['outcome'];
      if (spawnFailed) outcome = 'failed';
      else if (killReason !== undefined) outcome = killReason;
      else if (handlerFailed) outcome = 'failed';
      else outcome = exitCode === 0 ? 'succeeded' : 'failed';
      const result: ShellStepResult = { exitCode, signal: exitSignal, outcome, durationMs: performance.now() - started };
      if (errors.length > 0) result.error = errors.join('; ');
      resolve(result);
    };

    const attach = (stream: Readable | null, name: 'stdout' | 'stderr'): void => {
      if (stream === null) return;
      openStreams += 1;
      let carry = '';
      const splitter = new LineSplitter(opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH, (piece, continued) => {
        const raw = carry + piece;
        carry = '';
        let line: string;
        if (continued && opts.maskPrefix) {
          const part = opts.maskPrefix(raw);
          carry = part.rest;
          if (part.masked === '') return;
          line = part.masked;
        } else line = mask === undefined ? raw : mask(raw);
        // `::heartbeat::` is silent (workflow-format.md): it resets the stuck clock, not the log.
        if (!logFailed && line.trim() !== '::heartbeat::') batch += `${line}\n`;
        onLine?.(line, name);
      });
      stream.on('data', (chunk: Buffer) => handle(() => splitter.write(chunk)));
      stream.on('error', () => undefined); // 'close' follows
      stream.on('close', () => {
        handle(() => splitter.end());
        openStreams -= 1;
        finish();
      });
    };
    attach(child.stdout, 'stdout');
    attach(child.stderr, 'stderr');

    child.on('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      exitSignal = sig;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      // Orphans (background jobs) die with the step.
      signalTree('SIGKILL');
      if (openStreams > 0) {
        drainTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, DRAIN_AFTER_EXIT_MS);
      }
      finish();
    });

    child.on('error', (err) => {
      if (child.pid !== undefined || exited) {
        errors.push(messageOf(err));
        return;
      }
      // The process never started ('close' follows, no 'exit').
      spawnFailed = true;
      exited = true;
      describing = true;
      void describeSpawnError(err, shell, opts).then((text) => {
        errors.push(text);
        describing = false;
        finish();
      });
    });

    if (child.pid !== undefined) {
      const timeoutMs = opts.timeoutMs;
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timeoutTimer = setTimeout(
          () => {
            killReason ??= 'timed_out';
            terminate();
          },
          Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS),
        );
      }
      abort?.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** A spawn error in words; ENOENT is ambiguous (missing shell or missing cwd), so the cwd is checked. */
async function describeSpawnError(err: unknown, shell: string, opts: ShellStepOptions): Promise<string> {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') {
    const cwdProblem = await fs.promises.stat(opts.cwd).then(
      (st) => (st.isDirectory() ? undefined : `working directory ${opts.cwd} is not a directory`),
      (e: NodeJS.ErrnoException) =>
        e.code === 'ENOENT' || e.code === 'ENOTDIR'
          ? `working directory ${opts.cwd} does not exist`
          : `working directory ${opts.cwd} cannot be used: ${e.message}`,
    );
    if (cwdProblem !== undefined) return cwdProblem;
    if (code === 'EACCES') return `cannot run ${shell}: permission denied (not executable, or the working directory ${opts.cwd} is not accessible)`;
    if (shell.includes('/')) return `shell ${shell} does not exist`;
    const envPath = opts.env.PATH;
    return envPath === undefined
      ? `${shell} not found: the step's environment has no PATH`
      : `${shell} not found on PATH (${envPath})`;
  }
  if (code === 'E2BIG') return `cannot run ${shell}: the script and its environment are too large for one process (E2BIG)`;
  return `cannot run ${shell}: ${messageOf(err)}`;
}
