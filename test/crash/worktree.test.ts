/**
 * kill -9 of `orchestrator run` while a worktree step runs, then `orchestrator resume`: the step
 * runs again in a clean worktree (nothing of the killed attempt in it), its branch holds only the
 * second attempt's commit, and nothing the dead runner left stays locked or registered. The
 * leftovers a runner killed inside git itself would leave (git's "initializing" worktree lock, a
 * ref's .lock, an index.lock in the worktree's record, the record of a worktree whose folder is
 * gone) are planted before the resume, which must clean them all. The user's tree is byte-identical.
 *
 * Every wait is for a line in a file (the step's own marks), never a time window.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, cliEnv, runCli, sessionFolders, waitFor } from '../cli/cliProcess';
import { cleanupRepos } from '../engine/helpers';
import { fingerprint, makeGitRepo, showAt, worktreeList } from '../engine/gitRepo';

after(cleanupRepos);

function workflow(mark: string): string {
  return `name: crash
steps:
  - id: slow
    workspace: worktree
    env: { MARK: ${JSON.stringify(mark)} }
    run: |
      echo "attempt $$" >> src/a.txt
      echo "start $$" >> "$MARK/exec.log"
      while [ ! -e "$MARK/release" ]; do sleep 0.02; done
      echo "end $$" >> "$MARK/exec.log"
  - id: then
    needs: slow
    run: echo then
`;
}

function lockFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.lock') || e.name === 'locked') out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

describe('kill -9 during a worktree step, then resume', () => {
  it('runs the step again in a clean worktree and leaves nothing locked', async () => {
    const mark = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-wt-mark-'));
    const r = makeGitRepo(workflow(mark), { dirty: true });
    const home = r.home;
    const before = fingerprint(r);
    const starts = (): string[] => (fs.existsSync(path.join(mark, 'exec.log')) ? fs.readFileSync(path.join(mark, 'exec.log'), 'utf8') : '').split('\n').filter((l) => l.startsWith('start'));

    const runner = spawn(process.execPath, [CLI, 'run', 'wf.workflow.yaml', '--quiet'], { cwd: r.root, env: cliEnv(home), stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    await waitFor(() => starts().length === 1, 'the step to start');
    runner.kill('SIGKILL');
    await exited;
    const [id] = sessionFolders(r.root);
    const wt = path.join(r.root, '.orchestrator', 'worktrees', id, 'slow');
    assert.ok(fs.existsSync(path.join(wt, '.git')), 'the killed attempt left its worktree');

    // What a runner killed inside git would also leave.
    execFileSync('git', ['worktree', 'lock', '--reason', 'initializing', wt], { cwd: r.root });
    const admin = fs.readFileSync(path.join(wt, '.git'), 'utf8').trim().replace(/^gitdir: /, '');
    fs.writeFileSync(path.join(admin, 'index.lock'), '');
    fs.writeFileSync(path.join(r.root, '.git', 'refs', 'heads', 'orchestrator', id, 'slow.lock'), '');
    const ghost = path.join(r.root, '.git', 'worktrees', 'ghost');
    fs.mkdirSync(ghost, { recursive: true });
    fs.writeFileSync(path.join(ghost, 'gitdir'), path.join(r.root, '.orchestrator', 'worktrees', id, 'ghost', '.git') + '\n');
    fs.writeFileSync(path.join(ghost, 'locked'), 'initializing');

    const resumed = runCli(['resume', id, '--quiet'], { cwd: r.root, env: cliEnv(home), timeoutMs: 120_000 });
    await waitFor(() => starts().length === 2, 'the resumed step to start');
    fs.writeFileSync(path.join(mark, 'release'), '');
    const res = await resumed;
    assert.equal(res.code, 0, res.stderr);

    const state = JSON.parse(fs.readFileSync(path.join(r.root, '.orchestrator', 'sessions', id, 'state.json'), 'utf8')) as { status: string; steps: Record<string, { status: string; outputs: Record<string, string> }> };
    assert.equal(state.status, 'succeeded');
    const commit = state.steps.slow.outputs.commit;
    const second = starts()[1].split(' ')[1];
    assert.equal(showAt(r, commit, 'src/a.txt'), `a1\na2\na3\nattempt ${second}\n`, 'a clean worktree: only the second attempt edited it');
    assert.equal(r.git('rev-parse', `orchestrator/${id}/slow`).trim(), commit);
    assert.deepEqual(worktreeList(r), [fs.realpathSync(r.root)], 'nothing registered');
    assert.deepEqual(lockFiles(path.join(r.root, '.git')), [], 'no lock left in .git');
    assert.deepEqual(fingerprint(r), before);
    fs.rmSync(mark, { recursive: true, force: true });
  });
});
