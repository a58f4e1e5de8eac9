/**
 * `orchestrator prune` and retention through the REAL built CLI in temp git repositories: usage
 * errors (exit 2, one line), --dry-run and --json shapes, oldest first, worktrees and branches
 * removed with their session, never a live session nor one waiting for approval (also when its
 * runner died), the race with a runner resuming the session (both orders, each forced at its exact
 * point with a fifo the prune waits on: ORCHESTRATOR_TEST_PAUSE_DIR), the race with a runner
 * starting a session (held where its folder has no lock, then no event), and retention in
 * config.yaml pruning after each session. Waits are for files the steps write, never for time.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanupRepos } from '../engine/helpers';
import { makeGitRepo, orchestratorBranches, worktreeList, type GitRepo } from '../engine/gitRepo';
import { assertUsageError, cliEnv, type CliResult, expectJson as json, killTrees, processAlive, processesWithEnv, runCli, sessionFolders, waitFor } from './cliProcess';

after(cleanupRepos);
const marks: string[] = [];
after(() => {
  for (const m of marks) fs.rmSync(m, { recursive: true, force: true });
});

interface Report {
  dryRun: boolean;
  removed: { id: string; status: string; workflow: string; lastActivity: string; bytes: number; worktrees: string[]; branches: string[]; why: string[] }[];
  skipped: { id: string; reason: string }[];
  failed: { id: string; error: string }[];
  freedBytes: number;
  kept: number;
}

/** A git repository with a few workflows, and a folder for the steps' marks. */
function setup(extraEnv: Record<string, string> = {}): { r: GitRepo; mark: string; cli: (...args: string[]) => Promise<CliResult>; env: NodeJS.ProcessEnv } {
  const mark = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-prune-mark-'));
  marks.push(mark);
  const r = makeGitRepo('name: ok\nsteps:\n  - id: a\n    run: echo hi\n');
  const env = cliEnv(r.home, extraEnv);
  const wait = (file: string) => `while [ ! -e ${JSON.stringify(path.join(mark, file))} ]; do sleep 0.02; done`;
  r.write('fail.workflow.yaml', 'name: fail\nsteps:\n  - id: a\n    run: exit 1\n');
  r.write('edit.workflow.yaml', 'name: edit\nsteps:\n  - id: edit\n    workspace: worktree\n    run: echo edited >> src/a.txt\n');
  r.write('hold.workflow.yaml', `name: hold\nsteps:\n  - id: edit\n    workspace: worktree\n    run: |\n      echo held >> src/a.txt\n      touch ${JSON.stringify(path.join(mark, 'hold.started'))}\n      ${wait('hold.release')}\n`);
  r.write('live.workflow.yaml', `name: live\nsteps:\n  - id: a\n    run: |\n      touch ${JSON.stringify(path.join(mark, 'live.started'))}\n      ${wait('live.release')}\n`);
  r.write('approval.workflow.yaml', 'name: approval\nsteps:\n  - id: ship\n    approval: Ship it?\n');
  r.write('racer.workflow.yaml', `name: racer\nsteps:\n  - id: a\n    run: |\n      if [ ! -e ${JSON.stringify(path.join(mark, 'go'))} ]; then exit 1; fi\n      touch ${JSON.stringify(path.join(mark, 'racer.started'))}\n      ${wait('racer.release')}\n`);
  return { r, mark, env, cli: (...args) => runCli(args, { cwd: r.root, env, timeoutMs: 90_000 }) };
}

async function runOnce(cli: (...args: string[]) => Promise<CliResult>, file: string): Promise<string> {
  const res = await cli('run', file, '--json');
  assert.ok(res.code === 0 || res.code === 1, res.stderr);
  return (JSON.parse(res.stdout) as { id: string }).id;
}

async function detached(cli: (...args: string[]) => Promise<CliResult>, file: string): Promise<string> {
  const res = await cli('run', file, '--detach', '--json');
  assert.equal(res.code, 0, res.stderr);
  return (JSON.parse(res.stdout) as { id: string }).id;
}

/** SIGKILLs a session's runner (from its lock) and the step processes it left; waits until they are gone. */
async function killRunner(root: string, id: string, steps: string[] = []): Promise<void> {
  const lock = JSON.parse(fs.readFileSync(path.join(root, '.orchestrator', 'sessions', id, 'lock'), 'utf8')) as { pid: number };
  process.kill(lock.pid, 'SIGKILL');
  const left = steps.flatMap((s) => processesWithEnv('ORCHESTRATOR_STEP_TOKEN', `${id}/${s}/1`));
  killTrees(left);
  await waitFor(() => !processAlive(lock.pid) && left.every((p) => !processAlive(p)), `the runner of ${id} to die`);
}

describe('orchestrator prune: usage', () => {
  it('says what is wrong in one line, exit 2', async () => {
    const { cli } = setup();
    assertUsageError(await cli('prune'), /nothing says what to prune: give --older-than D, --keep N or --max-size SIZE \(or --status S\), or set retention: \{ keep, max_age, max_size \} in \.orchestrator\/config\.yaml/);
    assertUsageError(await cli('prune', '--older-than', 'soon'), /--older-than is not a duration: write e\.g\. 12h, 7d or 30d, not 'soon'/);
    assertUsageError(await cli('prune', '--keep', 'x'), /--keep takes a whole number of sessions, not 'x'/);
    assertUsageError(await cli('prune', '--max-size', 'big'), /--max-size is not a size: write e\.g\. 500MB or 2GB, not 'big'/);
    assertUsageError(await cli('prune', '--status', 'running'), /prune never removes running sessions/);
    assertUsageError(await cli('prune', '--status', 'waiting'), /prune never removes waiting sessions/);
    assertUsageError(await cli('prune', '--status', 'nope'), /the status to prune is one of paused, succeeded, failed, cancelled, timed_out, interrupted, not 'nope'/);
  });
});

describe('orchestrator prune', () => {
  it('--dry-run lists oldest first and removes nothing; then the same sessions go, with their branches', async () => {
    const { r, cli } = setup();
    const first = await runOnce(cli, 'edit.workflow.yaml');
    const second = await runOnce(cli, 'fail.workflow.yaml');
    const third = await runOnce(cli, 'wf.workflow.yaml');
    assert.deepEqual(orchestratorBranches(r), [`orchestrator/${first}/edit`]);
    const before = sessionFolders(r.root).sort();

    const dry = json<Report>(await cli('prune', '--keep', '1', '--dry-run', '--json'));
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.removed.map((s) => [s.id, s.status, s.workflow, s.why]), [
      [first, 'succeeded', 'edit', ['beyond the newest 1']],
      [second, 'failed', 'fail', ['beyond the newest 1']],
    ]);
    assert.deepEqual(dry.removed[0].branches, [`orchestrator/${first}/edit`]);
    assert.deepEqual(dry.removed[0].worktrees, []);
    for (const s of dry.removed) {
      assert.ok(s.bytes > 0);
      assert.ok(!Number.isNaN(Date.parse(s.lastActivity)));
    }
    assert.equal(dry.freedBytes, dry.removed[0].bytes + dry.removed[1].bytes);
    assert.equal(dry.kept, 1);
    assert.deepEqual(dry.skipped, []);
    assert.deepEqual(sessionFolders(r.root).sort(), before);
    const text = await cli('prune', '--keep', '1', '--dry-run');
    assert.match(text.stdout, /would remove 2 sessions with 0 worktrees and 1 branch, which would free [\d.]+ KiB; 1 kept \(nothing was removed/);

    const real = json<Report>(await cli('prune', '--keep', '1', '--json'));
    assert.equal(real.dryRun, false);
    assert.deepEqual(real.removed.map((s) => s.id), [first, second]);
    assert.equal(real.freedBytes, dry.freedBytes);
    assert.deepEqual(sessionFolders(r.root), [third]);
    assert.deepEqual(orchestratorBranches(r), []);
    const none = await cli('prune', '--keep', '1');
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'nothing to prune (1 session kept)\n');
  });

  it("removes an interrupted session's worktree, git's record of it and its branch", async () => {
    const { r, mark, cli } = setup();
    const id = await detached(cli, 'hold.workflow.yaml');
    await waitFor(() => fs.existsSync(path.join(mark, 'hold.started')), 'the worktree step to start');
    await killRunner(r.root, id, ['edit']);
    assert.equal(worktreeList(r).filter((w) => w.includes('.orchestrator')).length, 1);
    assert.deepEqual(orchestratorBranches(r), [`orchestrator/${id}/edit`]);

    const res = json<Report>(await cli('prune', '--status', 'interrupted', '--json'));
    assert.deepEqual(res.removed.map((s) => [s.id, s.status, s.why]), [[id, 'interrupted', ['status interrupted']]]);
    assert.deepEqual(res.removed[0].worktrees, [path.join('.orchestrator', 'worktrees', id, 'edit')]);
    assert.deepEqual(res.removed[0].branches, [`orchestrator/${id}/edit`]);
    assert.ok(res.removed[0].bytes > fs.statSync(r.path('src', 'a.txt')).size, 'the worktree counts in the space freed');
    assert.deepEqual(worktreeList(r).filter((w) => w.includes('.orchestrator')), []);
    assert.deepEqual(orchestratorBranches(r), []);
    assert.deepEqual(sessionFolders(r.root), []);
    assert.equal(fs.existsSync(r.path('.orchestrator', 'worktrees', id)), false);
  });

  it('never removes a live session, one waiting for approval, or one whose runner died at an open approval', async () => {
    const { r, mark, cli } = setup();
    const old = await runOnce(cli, 'wf.workflow.yaml');
    const live = await detached(cli, 'live.workflow.yaml');
    await waitFor(() => fs.existsSync(path.join(mark, 'live.started')), 'the live step to start');
    const waiting = await detached(cli, 'approval.workflow.yaml');
    await waitFor(async () => (json<{ status: string }>(await cli('show', waiting, '--json')).status === 'waiting' ? true : undefined), 'the approval to wait');
    const orphan = await detached(cli, 'approval.workflow.yaml');
    await waitFor(async () => (json<{ status: string }>(await cli('show', orphan, '--json')).status === 'waiting' ? true : undefined), 'the second approval to wait');
    await killRunner(r.root, orphan);
    assert.equal(json<{ status: string }>(await cli('show', orphan, '--json')).status, 'interrupted');

    const res = json<Report>(await cli('prune', '--keep', '0', '--json'));
    assert.deepEqual(res.removed.map((s) => s.id), [old]);
    const reasons = Object.fromEntries(res.skipped.map((s) => [s.id, s.reason]));
    assert.deepEqual(reasons, { [live]: 'running', [waiting]: 'waiting for approval', [orphan]: 'waiting for approval' });
    assert.deepEqual(json<Report>(await cli('prune', '--status', 'interrupted', '--json')).removed, []);
    assert.deepEqual(sessionFolders(r.root).sort(), [live, orphan, waiting].sort());

    fs.writeFileSync(path.join(mark, 'live.release'), '');
    assert.equal((await cli('approve', waiting, 'ship')).code, 0);
    await waitFor(async () => (json<{ status: string }[]>(await cli('list', '--json')).every((s) => s.status !== 'running' && s.status !== 'waiting') ? true : undefined), 'the sessions to end');
  });
});

describe('orchestrator prune racing a runner that resumes the session', () => {
  it('prune chose it, then a runner took it: the session is kept, the runner runs', async () => {
    const { r, mark, cli, env } = setup();
    const id = await runOnce(cli, 'racer.workflow.yaml'); // fails: no "go" yet
    const pause = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-prune-pause-'));
    marks.push(pause);
    execFileSync('mkfifo', [path.join(pause, 'prune-chosen.fifo')]);
    const pruning = runCli(['prune', '--status', 'failed', '--json'], { cwd: r.root, env: { ...env, ORCHESTRATOR_TEST_PAUSE_DIR: pause }, timeoutMs: 90_000 });
    await waitFor(() => fs.existsSync(path.join(pause, 'prune-chosen.reached')), 'prune to choose the session');

    fs.writeFileSync(path.join(mark, 'go'), '');
    assert.equal((await cli('resume', id, '--detach')).code, 0); // returns once its runner owns the session
    await waitFor(() => fs.existsSync(path.join(mark, 'racer.started')), 'the resumed step to start');
    fs.writeFileSync(path.join(pause, 'prune-chosen.fifo'), 'go');

    const res = json<Report>(await pruning);
    assert.deepEqual(res.removed, []);
    assert.deepEqual(res.skipped.map((s) => s.id), [id]);
    assert.match(res.skipped[0].reason, /^running \(owned by process \d+ on host .+\)$/);
    assert.deepEqual(sessionFolders(r.root), [id]);
    fs.writeFileSync(path.join(mark, 'racer.release'), '');
    await waitFor(async () => (json<{ status: string }>(await cli('show', id, '--json')).status === 'succeeded' ? true : undefined), 'the resumed session to succeed');
  });

  it('prune took its lock, then a runner tried to resume it: the resume is refused, the session removed', async () => {
    const { r, mark, cli, env } = setup();
    const id = await runOnce(cli, 'racer.workflow.yaml');
    const pause = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-prune-pause-'));
    marks.push(pause);
    execFileSync('mkfifo', [path.join(pause, 'prune-locked.fifo')]);
    const pruning = runCli(['prune', '--status', 'failed', '--json'], { cwd: r.root, env: { ...env, ORCHESTRATOR_TEST_PAUSE_DIR: pause }, timeoutMs: 90_000 });
    await waitFor(() => fs.existsSync(path.join(pause, 'prune-locked.reached')), 'prune to take the session lock');
    const prunePid = Number(fs.readFileSync(path.join(pause, 'prune-locked.reached'), 'utf8'));

    fs.writeFileSync(path.join(mark, 'go'), '');
    const resumed = await cli('resume', id);
    assertUsageError(resumed, new RegExp(`session ${id} is running: it is owned by process ${prunePid} `));
    fs.writeFileSync(path.join(pause, 'prune-locked.fifo'), 'go');

    const res = json<Report>(await pruning);
    assert.deepEqual(res.removed.map((s) => s.id), [id]);
    assert.deepEqual(sessionFolders(r.root), []);
    assert.equal(fs.existsSync(path.join(mark, 'racer.started')), false, 'the step never ran again');
  });
});

describe('orchestrator prune racing a runner that starts a session', () => {
  // The runner is held at each point of its start where its folder could look abandoned: made and
  // locked under a temp name (not a session yet), then renamed into place, locked, before its first
  // event. prune --keep 0 runs there.
  const staged = (root: string): string[] => fs.readdirSync(path.join(root, '.orchestrator', 'sessions')).filter((n) => n.startsWith('.new-'));
  for (const point of ['session-staged', 'session-locked']) {
    it(`a runner held at ${point}: prune --keep 0 removes the old session, not the starting one, which then runs to the end`, async () => {
      const { r, cli, env } = setup();
      r.write('quick.workflow.yaml', 'name: quick\nsteps:\n  - id: a\n    run: echo quick\n');
      const old = await runOnce(cli, 'fail.workflow.yaml');
      const pause = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-prune-pause-'));
      marks.push(pause);
      execFileSync('mkfifo', [path.join(pause, `${point}.fifo`)]);
      const starting = runCli(['run', 'quick.workflow.yaml', '--json'], { cwd: r.root, env: { ...env, ORCHESTRATOR_TEST_PAUSE_DIR: pause }, timeoutMs: 90_000 });
      await waitFor(() => fs.existsSync(path.join(pause, `${point}.reached`)), `the runner to reach ${point}`);
      const fresh = sessionFolders(r.root).filter((f) => f !== old);
      if (point === 'session-staged') {
        assert.deepEqual(fresh, [], 'not a session yet');
        assert.equal(staged(r.root).length, 1, 'its folder is made and locked under a temp name');
      } else assert.equal(fresh.length, 1, 'the starting session has its folder');

      const res = json<Report>(await cli('prune', '--keep', '0', '--json'));
      assert.deepEqual(res.removed.map((s) => s.id), [old]);
      assert.deepEqual(sessionFolders(r.root), fresh, 'the starting session is kept');
      assert.equal(staged(r.root).length, point === 'session-staged' ? 1 : 0, 'a staged folder with a live lock is kept');

      fs.writeFileSync(path.join(pause, `${point}.fifo`), 'go');
      const done = await starting;
      assert.equal(done.code, 0, done.stderr);
      const id = (JSON.parse(done.stdout) as { id: string }).id;
      if (point === 'session-locked') assert.equal(id, fresh[0]);
      assert.deepEqual(sessionFolders(r.root), [id]);
      assert.deepEqual(staged(r.root), []);
      assert.equal(json<{ status: string }>(await cli('show', id, '--json')).status, 'succeeded');
    });
  }

  it('a folder without lock and events is removed whatever its age; a staged folder of a dead runner too, one of a live runner not', async () => {
    const { r, cli } = setup();
    const dir = path.join(r.root, '.orchestrator', 'sessions');
    fs.mkdirSync(path.join(dir, '20261207-101010-lockless'), { recursive: true });
    // A staged folder whose runner died: its lock names a pid that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(dead.stdout.toString());
    const deadStage = path.join(dir, `.new-20261207-101011-dead-${deadPid}-0123abcd`);
    fs.mkdirSync(deadStage);
    fs.writeFileSync(path.join(deadStage, 'lock'), JSON.stringify({ pid: deadPid, host: os.hostname(), token: 'deadbeef0000', acquiredAt: new Date().toISOString() }));
    // One whose process is alive (this test) and has no lock yet: kept.
    const liveStage = path.join(dir, `.new-20261207-101012-live-${process.pid}-0123abcd`);
    fs.mkdirSync(liveStage);
    const res = json<Report>(await cli('prune', '--keep', '5', '--json'));
    assert.deepEqual(res.removed, []);
    assert.deepEqual(sessionFolders(r.root), []);
    assert.equal(fs.existsSync(deadStage), false);
    assert.equal(fs.existsSync(liveStage), true);
  });
});

describe('retention in config.yaml', () => {
  it('prunes after each session ends, never the one that just ended; a bad value is a warning, not a failure', async () => {
    const { r, cli } = setup();
    r.write('.orchestrator/config.yaml', '# retention\nretention:\n  keep: 1\n');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await runOnce(cli, 'wf.workflow.yaml'));
    assert.deepEqual(sessionFolders(r.root), [ids[2]]);

    r.write('.orchestrator/config.yaml', 'retention:\n  keep: 0\n');
    const next = await runOnce(cli, 'fail.workflow.yaml');
    assert.deepEqual(sessionFolders(r.root), [next], 'keep 0 removes the others, not the session that just ended');

    r.write('.orchestrator/config.yaml', 'retention:\n  max_age: soon\n');
    const res = await cli('run', 'wf.workflow.yaml');
    assert.equal(res.code, 0, 'the session still succeeds');
    assert.match(res.stderr, /^orchestrator: warning: retention: sessions were not pruned: the configuration has a problem, so its retention settings are not used: .+config\.yaml:2:12: retention\.max_age must be a duration such as 30d, 12h or 90m, not 'soon' \(fix it, or give the rules as flags\)$/m);
    assert.equal(sessionFolders(r.root).length, 2);

    // `prune` without flags uses the same retention; the environment overrides the file.
    r.write('.orchestrator/config.yaml', 'retention:\n  keep: 5\n');
    assert.deepEqual(json<Report>(await cli('prune', '--json')).removed, []);
    const byEnv = json<Report>(await runCli(['prune', '--json'], { cwd: r.root, env: cliEnv(r.home, { ORCHESTRATOR_RETENTION_KEEP: '1' }) }));
    assert.deepEqual(byEnv.removed.map((s) => s.id), [next]);
  });
});
