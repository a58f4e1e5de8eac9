/**
 * Worktree benchmark (`npm run bench:worktree`): creating and removing a step's worktree in a
 * repository of 10,000 files, as a ratio to a bare `git worktree add` + `git worktree remove` in
 * the same run (goal ≤ 1.2×), and the same with 8 steps at once.
 *
 * - one step: ours is what a worktree step pays around its command: finding the repository
 *   (`gitRepoOf`), `createWorktree` (clearing a leftover, the add, the ignore file) and
 *   `removeWorktree` (remove --force --force, our scoped prune). The bare run is `git worktree add
 *   -b <branch> <dir> HEAD` then `git worktree remove <dir>`. Runs alternate, medians reported.
 * - 8 steps at once: ours serializes the adds and removes per repository (in-process mutex); the
 *   bare baseline is 8 `git worktree add` processes started together (then 8 removes), and also 8
 *   one after another. Bare parallel adds can fail on git's own races: how many did is printed.
 * - For context (not in the ratio): committing a step's change (`git add --all` over the 10,000
 *   files, commit, diff) after touching 10 files.
 * Prints a table; exits non-zero only when something is broken, never because of a timing.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { branchName, commitWorktree, createWorktree, gitRepoOf, removeWorktree, worktreeDir } from '../../server/src/engine/workspace/worktrees';

const quick = process.argv.includes('--quick');
const FILES = 10_000;
const ROUNDS = quick ? 3 : 7;
/** Rounds of the 8-at-once comparison (each is 24 worktrees made and removed): `--parallel-rounds N`. */
const argRounds = process.argv.indexOf('--parallel-rounds');
const PAR_ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : quick ? 2 : 5;
const PARALLEL = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const env = { ...process.env, GIT_AUTHOR_NAME: 'B', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'B', GIT_COMMITTER_EMAIL: 'b@x' };

function gitSync(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function gitAsync(cwd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile('git', args, { cwd, env }, (err) => resolve(!err)));
}

function makeRepo(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-wt-'));
  gitSync(root, ['init', '-q', '-b', 'main']);
  for (let d = 0; d < 100; d++) {
    const dir = path.join(root, 'src', `d${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES / 100; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), `file ${d}/${f}\n`.repeat(8));
  }
  fs.mkdirSync(path.join(root, '.orchestrator'));
  fs.writeFileSync(path.join(root, '.orchestrator', '.gitignore'), 'sessions/\nworktrees/\n');
  gitSync(root, ['add', '-A']);
  gitSync(root, ['commit', '-q', '-m', 'files']);
  return root;
}

async function time<T>(f: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

let n = 0;

async function bareOne(root: string): Promise<void> {
  const dir = path.join(root, '.orchestrator', 'bare', `b${n}`);
  const ok = (await gitAsync(root, ['worktree', 'add', '-q', '-b', `bare/b${n++}`, dir, 'HEAD'])) && (await gitAsync(root, ['worktree', 'remove', dir]));
  if (!ok) throw new Error('bare git worktree add/remove failed');
}

async function oursOne(root: string, session: string, step: string, base: string): Promise<void> {
  const repo = await gitRepoOf(root);
  if (!repo) throw new Error('not a repository');
  const dir = worktreeDir(root, session, step);
  await createWorktree(repo, dir, branchName(session, step), base);
  await removeWorktree(repo, dir);
}

/** 8 bare adds at once, then 8 removes at once; returns failures. */
async function bareParallel(root: string): Promise<number> {
  const ids = Array.from({ length: PARALLEL }, () => n++);
  const adds = await Promise.all(ids.map((i) => gitAsync(root, ['worktree', 'add', '-q', '-b', `bare/p${i}`, path.join(root, '.orchestrator', 'bare', `p${i}`), 'HEAD'])));
  const removes = await Promise.all(ids.map((i) => gitAsync(root, ['worktree', 'remove', '--force', path.join(root, '.orchestrator', 'bare', `p${i}`)])));
  gitSync(root, ['worktree', 'prune']);
  return [...adds, ...removes].filter((ok) => !ok).length;
}

async function bareSequential(root: string): Promise<void> {
  for (let i = 0; i < PARALLEL; i++) await bareOne(root);
}

async function oursParallel(root: string, session: string, base: string): Promise<void> {
  await Promise.all(Array.from({ length: PARALLEL }, (_, i) => oursOne(root, session, `s${i}`, base)));
}

async function main(): Promise<void> {
  const root = makeRepo();
  try {
    const base = gitSync(root, ['rev-parse', 'HEAD']).trim();
    // warm-up (page cache, git's own start-up)
    await bareOne(root);
    await oursOne(root, 'warm', 'w', base);
    const bare: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await time(() => bareOne(root)));
      ours.push(await time(() => oursOne(root, `one${i}`, 'step', base)));
    }
    console.log(`one step: bare ${median(bare).toFixed(0)} ms, ours ${median(ours).toFixed(0)} ms, ratio ${(median(ours) / median(bare)).toFixed(2)}× (runs: bare ${bare.map((t) => t.toFixed(0)).join(' ')}; ours ${ours.map((t) => t.toFixed(0)).join(' ')})`);
    const pBare: number[] = [];
    const sBare: number[] = [];
    const pOurs: number[] = [];
    let bareFailures = 0;
    for (let i = 0; i < PAR_ROUNDS; i++) {
      let failed = 0;
      pBare.push(await time(async () => (failed = await bareParallel(root))));
      bareFailures += failed;
      sBare.push(await time(() => bareSequential(root)));
      pOurs.push(await time(() => oursParallel(root, `par${i}`, base)));
      console.log(`8 at once, round ${i + 1}: bare parallel ${pBare[i].toFixed(0)} ms, bare one by one ${sBare[i].toFixed(0)} ms, ours ${pOurs[i].toFixed(0)} ms`);
    }
    // context: committing a step's change in a 10,000-file worktree
    const repo = (await gitRepoOf(root))!;
    const dir = worktreeDir(root, 'commit', 'step');
    await createWorktree(repo, dir, branchName('commit', 'step'), base);
    for (let f = 0; f < 10; f++) fs.appendFileSync(path.join(dir, 'src', `d${f}`, 'f0.txt'), 'changed\n');
    const commitMs = await time(() => commitWorktree(dir, base, 'bench'));
    await removeWorktree(repo, dir);

    const left = gitSync(root, ['worktree', 'list', '--porcelain']).split('\n').filter((l) => l.startsWith('worktree ')).length - 1;
    const rows = [
      ['one step: create + remove', median(bare), median(ours), median(ours) / median(bare), '≤ 1.2'],
      [`${PARALLEL} steps at once vs bare parallel`, median(pBare), median(pOurs), median(pOurs) / median(pBare), '≤ 1.2'],
      [`${PARALLEL} steps at once vs bare one by one`, median(sBare), median(pOurs), median(pOurs) / median(sBare), ''],
    ] as const;
    console.log(`worktree bench: ${FILES} files, ${ROUNDS} rounds (8 at once: ${PAR_ROUNDS}), ${os.availableParallelism?.() ?? os.cpus().length} CPUs, ${gitSync(root, ['--version']).trim()}`);
    console.log('| what | bare git (ms) | ours (ms) | ratio | goal |');
    console.log('|---|---:|---:|---:|---|');
    for (const [what, b, o, r, goal] of rows) console.log(`| ${what} | ${b.toFixed(0)} | ${o.toFixed(0)} | ${r.toFixed(2)}× | ${goal} |`);
    console.log(`bare parallel git worktree add/remove failures (git's own races): ${bareFailures} of ${PAR_ROUNDS * PARALLEL * 2}`);
    console.log(`context: committing 10 changed files in a ${FILES}-file worktree (add --all, commit, diff): ${commitMs.toFixed(0)} ms`);
    if (left !== 0) {
      console.error(`broken: ${left} worktree(s) still registered`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
