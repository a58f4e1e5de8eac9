/**
 * Running git for the workspaces: a fixed identity for the orchestrator's own commits (the merge
 * commit git/apply makes in the user's repository is the user's: userIdentity) and no hooks or
 * signing (a commit never runs the user's hooks), an environment without GIT_* variables (GIT_DIR,
 * GIT_INDEX_FILE, GIT_WORK_TREE...: a command can only reach the repository or worktree it is
 * pointed at) except the three that say where git's config files are, and
 * the two defences against git's own locks:
 * - `serialized(repo, f)`: one `git worktree add/remove/prune` (and branch change) at a time per
 *   repository in this process. Git writes `.git/worktrees/<id>/` without a lock, so two adds that
 *   start together can read each other's half-written files.
 * - `git(..., { retryLocks: true })`: a command that fails on a lock another process holds
 *   (`index.lock`, a ref's `.lock`, `config.lock`, `packed-refs.lock`) is run again after a short
 *   wait, up to ~10 s: the holder (the user's own git, another runner) is always transient.
 */
import { execFile } from 'node:child_process';

export const IDENTITY = { name: 'Synapse Orchestrator', email: 'orchestrator@localhost' } as const;

/** `-c` options for every command: no hooks, no signing, no pager, no auto gc. */
const CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgSign=false', '-c', 'tag.gpgSign=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', '-c', 'core.quotePath=false', '-c', 'rerere.enabled=false'];

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(message);
  }
}

/** Where git reads its config: kept, so that git reads the same files as the user's own git. */
const CONFIG_LOCATION = new Set(['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM']);

export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!/^GIT_/.test(k) || CONFIG_LOCATION.has(k)) env[k] = v;
  return {
    ...env,
    GIT_AUTHOR_NAME: IDENTITY.name,
    GIT_AUTHOR_EMAIL: IDENTITY.email,
    GIT_COMMITTER_NAME: IDENTITY.name,
    GIT_COMMITTER_EMAIL: IDENTITY.email,
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0', // `status` and friends never take the index lock just to refresh it
    LC_ALL: 'C',
  };
}

export interface Identity {
  readonly name: string;
  readonly email: string;
}

/** Who a commit is by: its author and its committer. */
export interface CommitIdentity {
  readonly author: Identity;
  readonly committer: Identity;
}

export interface GitOptions {
  /** Retry when another process holds one of git's lock files. */
  readonly retryLocks?: boolean;
  /** The author and committer of a commit the command makes (default: IDENTITY, the orchestrator's). */
  readonly identity?: CommitIdentity;
  readonly input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 for `diff --quiet`). */
  readonly okCodes?: readonly number[];
}

export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

const LOCK_ERROR = /Unable to create '[^']*\.lock'|could not lock config file|cannot lock ref|Unable to create .*index\.lock|unable to write new index file|failed to read .*worktrees\/.*(commondir|gitdir|HEAD)/i;

/** Whether a failure is another process holding one of git's locks (worth a retry). */
export function isLockError(stderr: string): boolean {
  return LOCK_ERROR.test(stderr);
}

function runOnce(cwd: string, args: readonly string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve) => {
    const who = opts.identity;
    const env = who ? { ...gitEnv(), GIT_AUTHOR_NAME: who.author.name, GIT_AUTHOR_EMAIL: who.author.email, GIT_COMMITTER_NAME: who.committer.name, GIT_COMMITTER_EMAIL: who.committer.email } : gitEnv();
    const child = execFile('git', [...CONFIG, ...args], { cwd, env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ stdout, stderr, code });
    });
    // A git that exits before reading its input (e.g. not a repository) closes the pipe: that EPIPE
    // is not ours to throw (the exit code says what happened).
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs `git args` in `cwd`; throws a GitError (first line of stderr) on failure. */
export async function git(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  const deadline = Date.now() + 10_000;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const r = await runOnce(cwd, args, opts);
    if (r.code === 0 || opts.okCodes?.includes(r.code)) return r;
    if (opts.retryLocks && isLockError(r.stderr) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, wait + Math.floor(Math.random() * wait)));
      continue;
    }
    const first = r.stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? `exit code ${r.code}`;
    throw new GitError(`git ${args[0] ?? ''} failed: ${first.replace(/^(fatal|error): /, '')}`, args, r.code, r.stderr, r.stdout);
  }
}

/** stdout of `git args`, trimmed of its final newline. */
export async function gitText(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<string> {
  return (await git(cwd, args, opts)).stdout.replace(/\n$/, '');
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `f` after every earlier `serialized` call for the same repository (its common git dir) has ended. */
export function serialized<T>(repo: string, f: () => Promise<T>): Promise<T> {
  const prev = queues.get(repo) ?? Promise.resolve();
  const run = prev.then(f, f);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(repo, tail);
  void tail.then(() => {
    if (queues.get(repo) === tail) queues.delete(repo);
  });
  return run;
}

/** A git action whose git command failed unexpectedly ends `failed` with git's one line, not as an internal error. */
export function failingGitAsStep<A extends unknown[], R extends { status: string }>(name: string, f: (...a: A) => Promise<R>, failed: (reason: string) => R): (...a: A) => Promise<R> {
  return async (...a: A) => {
    try {
      return await f(...a);
    } catch (e) {
      if (e instanceof GitError) return failed(`${name}: ${e.message}`);
      throw e;
    }
  };
}

/**
 * The identity `git commit` in the user's repository would use: GIT_AUTHOR_* / GIT_COMMITTER_*
 * of the environment, else `author.*` / `committer.*`, else `user.*` of git config (its files, as
 * the user's git reads them), else $EMAIL for the email; the orchestrator's own name or email
 * (IDENTITY) only where git has none (git itself would guess one from the system, or refuse).
 */
export async function userIdentity(top: string, env: NodeJS.ProcessEnv = process.env): Promise<CommitIdentity> {
  const config = new Map<string, string>();
  const r = await git(top, ['config', '--null', '--get-regexp', '^(user|author|committer)\\.(name|email)$'], { okCodes: [1] });
  for (const entry of r.stdout.split('\0')) {
    const nl = entry.indexOf('\n'); // key, newline, value
    if (nl > 0) config.set(entry.slice(0, nl).toLowerCase(), entry.slice(nl + 1)); // the last value wins, as in git
  }
  const pick = (...values: (string | undefined)[]): string | undefined => values.find((v) => v !== undefined && v.trim() !== '');
  const who = (role: 'author' | 'committer'): Identity => ({
    name: pick(env[`GIT_${role.toUpperCase()}_NAME`], config.get(`${role}.name`), config.get('user.name')) ?? IDENTITY.name,
    email: pick(env[`GIT_${role.toUpperCase()}_EMAIL`], config.get(`${role}.email`), config.get('user.email'), env.EMAIL) ?? IDENTITY.email,
  });
  return { author: who('author'), committer: who('committer') };
}
