/**
 * Helpers for the init and secrets tests: real git repositories in temp folders (each with a
 * private HOME), the built CLI with something on its stdin, and what git would commit.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, cliEnv, type CliResult } from './cliProcess';

export interface GitTemp {
  root: string;
  home: string;
  env: NodeJS.ProcessEnv;
  git(...args: string[]): string;
  write(rel: string, text: string, mode?: number): string;
  read(rel: string): string;
}

const made: string[] = [];

/** A real git repository (git init) with a private HOME outside it. */
export function gitTemp(prefix: string, opts: { git?: boolean } = {}): GitTemp {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  made.push(base);
  const root = path.join(base, 'repo');
  const home = path.join(base, 'home');
  fs.mkdirSync(root);
  fs.mkdirSync(home);
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: home, GIT_AUTHOR_NAME: 'U', GIT_AUTHOR_EMAIL: 'u@example.com', GIT_COMMITTER_NAME: 'U', GIT_COMMITTER_EMAIL: 'u@example.com' } });
  if (opts.git !== false) git('init', '-q', '-b', 'main');
  return {
    root,
    home,
    env: cliEnv(home),
    git,
    write: (rel, text, mode) => {
      const p = path.join(root, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
      if (mode !== undefined) fs.chmodSync(p, mode);
      return p;
    },
    read: (rel) => fs.readFileSync(path.join(root, rel), 'utf8'),
  };
}

export function removeTemps(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Runs the CLI with `input` on its stdin (a pipe: not a terminal). */
export function runCliWith(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading it (a bad name)
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`orchestrator ${args.join(' ')} did not finish\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
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

/** What `git add -A` would take under `.orchestrator/` (untracked files, one by one). */
export function committable(t: GitTemp): string[] {
  return t
    .git('status', '--porcelain', '--untracked-files=all', '--', '.orchestrator')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .sort();
}

/** Whether git ignores a path, asked of git itself (`git check-ignore`, the index counts). */
export function gitIgnores(t: GitTemp, rel: string): boolean {
  try {
    t.git('check-ignore', '-q', rel);
    return true;
  } catch {
    return false;
  }
}

/** Every file under a folder (absolute), following no links. */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** Bytes, mode, inode and mtime of every file under `.orchestrator/`: equal means nothing was written. */
export function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const dir = path.join(root, '.orchestrator');
  for (const f of allFiles(dir)) {
    const st = fs.statSync(f);
    out[path.relative(root, f)] = `${st.ino} ${st.mode} ${st.mtimeMs} ${fs.readFileSync(f, 'base64')}`;
  }
  return out;
}
