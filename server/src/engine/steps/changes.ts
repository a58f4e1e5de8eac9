/**
 * What a step changed in its folder's git repository, for `changes: required`: a mark taken
 * before the step (HEAD, and each entry of `git status` with its file's size and mtime) compared
 * with the state after it. A file counts as changed when a commit since the mark touched it, or
 * when its status entry appeared, went away, or its size or mtime moved. Ignored files do not
 * count. `GIT_OPTIONAL_LOCKS=0`: reading never takes the index lock nor rewrites the index, so
 * parallel steps and the user's own git commands are not disturbed.
 *
 * In a shared working tree (`workspace: shared`, the default) whatever else changes the tree
 * meanwhile (a parallel step, the user) counts as well. A worktree step's own record of its
 * changed files can replace this (changedFiles is the one entry point).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TreeMark {
  /** The repository's top folder. */
  readonly top: string;
  readonly head: string | null;
  /** path (relative to top) → `XY size:mtime` */
  readonly entries: ReadonlyMap<string, string>;
}

export class NotGitError extends Error {}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function git(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(String(stderr).trim().split('\n')[0] || err.message));
      else resolve(stdout);
    });
  });
}

/**
 * The state of cwd's repository now; NotGitError outside one. `env`: no secrets in it. `skip`: a
 * folder whose files never count (the sessions' own logs, in case no .gitignore keeps them out).
 */
export async function markTree(cwd: string, env: NodeJS.ProcessEnv, skip?: string): Promise<TreeMark> {
  let top: string;
  try {
    top = (await git(cwd, env, ['rev-parse', '--show-toplevel'])).trim();
  } catch {
    throw new NotGitError(`'changes: required' needs a git repository, and ${cwd} is not in one: run git init, or remove changes`);
  }
  const head = await git(top, env, ['rev-parse', '--verify', '-q', 'HEAD']).then(
    (h) => h.trim() || null,
    () => null,
  );
  const rel = skip ? path.relative(real(top), real(skip)) : '';
  const exclude = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? ['--', '.', `:(exclude)${rel}`] : [];
  const raw = await git(top, env, ['status', '--porcelain=v1', '-z', '--untracked-files=all', ...exclude]);
  const entries = new Map<string, string>();
  const parts = raw.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length < 4) continue;
    const xy = p.slice(0, 2);
    const file = p.slice(3);
    if (xy.includes('R') || xy.includes('C')) i++; // the source path follows
    const st = fs.lstatSync(path.join(top, file), { throwIfNoEntry: false });
    entries.set(file, `${xy} ${st ? `${st.size}:${st.mtimeMs}` : 'gone'}`);
  }
  return { top, head, entries };
}

/** The files (relative to the repository's top) changed in cwd's repository since the mark. */
export async function changedFiles(cwd: string, since: TreeMark, env: NodeJS.ProcessEnv, skip?: string): Promise<string[]> {
  const now = await markTree(cwd, env, skip);
  const changed = new Set<string>();
  if (now.head !== since.head && now.head) {
    const range = since.head ? [since.head, now.head] : [now.head];
    const names = await git(now.top, env, since.head ? ['diff', '--name-only', '-z', ...range] : ['show', '--name-only', '-z', '--format=', ...range]);
    for (const f of names.split('\0')) if (f) changed.add(f);
  }
  for (const [f, v] of now.entries) if (since.entries.get(f) !== v) changed.add(f);
  for (const f of since.entries.keys()) if (!now.entries.has(f)) changed.add(f);
  return [...changed].sort();
}
