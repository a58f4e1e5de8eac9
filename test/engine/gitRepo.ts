/**
 * Real git repositories for the worktree tests: a temp repository with a few commits, the user's
 * own uncommitted and untracked changes, and a fingerprint of everything the orchestrator must
 * never touch (working files, the index's bytes and entries, stash, HEAD, current branch).
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeRepo, type Repo } from './helpers';

/** git in `cwd` with a test identity (the user's; the orchestrator's commits use their own). */
export function sh(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'User', GIT_AUTHOR_EMAIL: 'user@example.com', GIT_COMMITTER_NAME: 'User', GIT_COMMITTER_EMAIL: 'user@example.com', GIT_OPTIONAL_LOCKS: '0' },
    ...(input !== undefined ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface GitRepo extends Repo {
  git(...args: string[]): string;
  write(rel: string, text: string): void;
}

/**
 * A repository with a first commit (src/a.txt, src/b.txt, shared.txt, .gitignore ignoring
 * `*.log` and `build/`), the workflow file untracked, and `dirty`: the user's own work in
 * progress (a modified tracked file, a staged file, an untracked file, a stash entry).
 */
export function makeGitRepo(workflow: string, opts: { dirty?: boolean; commit?: boolean } = {}): GitRepo {
  const repo = makeRepo(workflow);
  fs.rmSync(path.join(repo.root, '.git'), { recursive: true, force: true });
  const r: GitRepo = {
    ...repo,
    git: (...args) => sh(repo.root, args),
    write: (rel, text) => {
      fs.mkdirSync(path.dirname(repo.path(rel)), { recursive: true });
      fs.writeFileSync(repo.path(rel), text);
    },
  };
  r.git('init', '-q', '-b', 'main');
  if (opts.commit === false) return r;
  r.write('src/a.txt', 'a1\na2\na3\n');
  r.write('src/b.txt', 'b1\nb2\nb3\n');
  r.write('shared.txt', 'one\ntwo\nthree\n');
  r.write('.gitignore', '*.log\nbuild/\n');
  r.git('add', 'src', 'shared.txt', '.gitignore');
  r.git('commit', '-q', '-m', 'first');
  if (opts.dirty) {
    r.write('notes.txt', 'notes v1\n');
    r.git('add', 'notes.txt');
    r.git('commit', '-q', '-m', 'notes');
    r.write('notes.txt', 'notes v2 (stashed)\n');
    r.git('stash', 'push', '-q', '-m', 'user stash');
    r.write('notes.txt', 'notes v3 (uncommitted)\n');
    r.write('staged.txt', 'staged\n');
    r.git('add', 'staged.txt');
    r.write('untracked.txt', 'untracked\n');
    r.write('debug.log', 'ignored\n');
  }
  return r;
}

function walk(dir: string, rel: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (p === '.git' || p === '.orchestrator') continue;
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) walk(abs, p, out);
    else out.push(`${p} ${crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')}`);
  }
}

/** Everything of the user's that must not change: files (hashed), index bytes and entries, stash, HEAD, branch, status. */
export function fingerprint(r: GitRepo): Record<string, unknown> {
  const files: string[] = [];
  walk(r.root, '', files);
  const status = r.git('status', '--porcelain=v1', '--untracked-files=all').split('\n').filter((l) => l && !l.includes('.orchestrator/'));
  return {
    files,
    index: crypto.createHash('sha256').update(fs.readFileSync(path.join(r.root, '.git', 'index'))).digest('hex'),
    lsFiles: r.git('ls-files', '-s'),
    stash: r.git('stash', 'list'),
    stashRef: fs.existsSync(path.join(r.root, '.git', 'refs', 'stash')) ? r.git('rev-parse', 'refs/stash').trim() : '',
    head: r.git('rev-parse', 'HEAD').trim(),
    branch: r.git('symbolic-ref', 'HEAD').trim(),
    status,
  };
}

/** `git worktree list --porcelain` paths. */
export function worktreeList(r: GitRepo): string[] {
  return r
    .git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

/** Branch names under orchestrator/. */
export function orchestratorBranches(r: GitRepo): string[] {
  return r.git('for-each-ref', '--format=%(refname:short)', 'refs/heads/orchestrator/').split('\n').filter((l) => l);
}

/** A file's content at a commit, or undefined. */
export function showAt(r: GitRepo, commit: string, file: string): string | undefined {
  try {
    return r.git('show', `${commit}:${file}`);
  } catch {
    return undefined;
  }
}
