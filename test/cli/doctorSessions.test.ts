/**
 * `orchestrator doctor` on what dead runners leave, made to happen for real: `orchestrator run` is
 * killed with SIGKILL while its step runs (as test/crash/leftovers.test.ts does), which leaves a
 * stale lock (the session is interrupted: to resume) and the step's process group running (the
 * runner recorded it in steps/<step>/<attempt>.proc). Doctor finds both; `--fix stop-processes:ID`
 * stops the group, `--fix resume:ID` resumes the session. A recorded pid now used by an unrelated
 * process (another start time) is neither reported nor killed. Leftover worktrees: a worktree step's
 * runner killed and the session cancelled (cancel removes the worktree; the test puts it back, as a
 * cleanup cut short would leave it), then its folder removed by hand (its branch stays); the fixes
 * remove each with the engine's own workspace code.
 *
 * Every wait is for an event (a line in a file, a record, a process's end), never a time window.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { listProcesses, procInfo } from '../../server/src/store/liveness';
import { CLI, cliEnv, killTrees, processAlive, runCli, sessionFolders, waitFor } from './cliProcess';
import { cleanupRepos, makeRepo, type Repo } from '../engine/helpers';
import { makeGitRepo, orchestratorBranches, worktreeList } from '../engine/gitRepo';

after(cleanupRepos);

interface Check {
  id: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: { description: string; action?: string };
}
interface Report {
  ok: boolean;
  checks: Check[];
  fixes?: { action: string; ok: boolean; message: string }[];
}

async function doctor(r: Repo, args: string[] = []): Promise<{ code: number | null; report: Report }> {
  const res = await runCli(['doctor', '--json', ...args], { cwd: r.root, env: cliEnv(r.home), timeoutMs: 120_000 });
  assert.ok(res.code === 0 || res.code === 1, res.stderr);
  return { code: res.code, report: JSON.parse(res.stdout) as Report };
}
const find = (report: Report, id: string): Check | undefined => report.checks.find((c) => c.id === id);
const groupAlive = (pgid: number): boolean => listProcesses().some((p) => p.pgid === pgid && p.state !== 'Z');

const GATE = 'while [ ! -e "$MARK/release" ]; do sleep 0.02; done';

/** Starts `run`, waits until its step started and the runner recorded the step's process, kills the runner with SIGKILL. */
async function killWhileRunning(r: Repo, mark: string, step: string): Promise<{ id: string; stepPid: number }> {
  const runner = spawn(process.execPath, [CLI, 'run', r.file, '--quiet'], { cwd: r.root, env: cliEnv(r.home), stdio: 'ignore' });
  const exited = new Promise((resolve) => runner.once('exit', resolve));
  const stepPid = await waitFor(() => {
    const text = fs.existsSync(path.join(mark, 'exec.log')) ? fs.readFileSync(path.join(mark, 'exec.log'), 'utf8') : '';
    const m = /^start (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  }, 'the step to start');
  const [id] = await waitFor(() => {
    const ids = sessionFolders(r.root);
    return ids.length > 0 && fs.existsSync(path.join(r.root, '.orchestrator', 'sessions', ids[0], 'steps', step, '1.proc')) ? ids : undefined;
  }, "the runner's record of the step's process");
  runner.kill('SIGKILL');
  await exited;
  assert.ok(processAlive(stepPid), 'the step outlives its runner');
  return { id, stepPid };
}

function markDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-doctor-mark-'));
  return d;
}

describe('orchestrator doctor: what dead runners leave', { timeout: 240_000 }, () => {
  it('a dead runner: its stale lock (resume it) and its step left running (stop it); the fixes stop the step, then resume the session', async () => {
    const mark = markDir();
    const wf = `name: leftover\nsteps:\n  - id: slow\n    env: { MARK: ${JSON.stringify(mark)} }\n    run: |\n      echo "start $$" >> "$MARK/exec.log"\n      ${GATE}\n      echo "end $$" >> "$MARK/exec.log"\n`;
    const r = makeRepo(wf);
    let stepPid = 0;
    try {
      let id: string;
      ({ id, stepPid } = await killWhileRunning(r, mark, 'slow'));
      const lock = JSON.parse(fs.readFileSync(path.join(r.root, '.orchestrator', 'sessions', id, 'lock'), 'utf8')) as { pid: number };

      let { code, report } = await doctor(r);
      assert.equal(code, 1, 'a step left running fails');
      const dead = find(report, `dead-runner:${id}`)!;
      assert.equal(dead.status, 'warn');
      assert.match(dead.detail, new RegExp(`^workflow leftover: its runner \\(process ${lock.pid} on host .*\\) died and left its lock; resume it to finish it$`));
      assert.deepEqual(dead.fix, { description: `resume it (orchestrator resume ${id}), or delete it (orchestrator delete ${id})`, action: `resume:${id}` });
      const procs = find(report, `step-processes:${id}`)!;
      assert.equal(procs.status, 'fail');
      assert.match(procs.detail, new RegExp(`of step slow \\(attempt 1\\) still run.* \\(process group ${stepPid}\\)$`));
      assert.equal(procs.fix?.action, `stop-processes:${id}`);
      assert.ok(processAlive(stepPid), 'doctor only looks');

      ({ code, report } = await doctor(r, ['--fix', `stop-processes:${id}`]));
      assert.deepEqual(report.fixes, [{ action: `stop-processes:${id}`, ok: true, message: `stopped what session ${id}'s dead runner left running: step slow (attempt 1)` }]);
      assert.equal(groupAlive(stepPid), false, 'the step and its group are gone');
      assert.equal(find(report, `step-processes:${id}`), undefined);
      assert.equal(find(report, 'step-processes')?.status, 'pass');
      assert.equal(find(report, `dead-runner:${id}`)?.status, 'warn', 'still to resume');
      assert.equal(code, 0, 'an interrupted session is a warning');
      assert.equal(fs.readFileSync(path.join(mark, 'exec.log'), 'utf8').includes('end'), false, 'the old step never reached its end');

      fs.writeFileSync(path.join(mark, 'release'), '');
      ({ code, report } = await doctor(r, ['--fix', `resume:${id}`]));
      assert.equal(report.fixes?.[0].ok, true, report.fixes?.[0].message);
      assert.match(report.fixes[0].message, new RegExp(`^resumed session ${id} in a background runner \\(process \\d+\\)`));
      await waitFor(async () => {
        const shown = await runCli(['show', id, '--json'], { cwd: r.root, env: cliEnv(r.home) });
        return (JSON.parse(shown.stdout) as { status: string }).status === 'succeeded';
      }, 'the resumed session to succeed');
      ({ code, report } = await doctor(r));
      assert.equal(code, 0);
      assert.equal(find(report, 'sessions')?.status, 'pass');
      assert.equal(find(report, `dead-runner:${id}`), undefined);
    } finally {
      if (stepPid) killTrees([stepPid]);
      fs.rmSync(mark, { recursive: true, force: true });
    }
  });

  it('a step whose record is missing is found by the session\'s mark in its environment, and stopped', async () => {
    const mark = markDir();
    const wf = `name: marked\nsteps:\n  - id: slow\n    env: { MARK: ${JSON.stringify(mark)} }\n    run: |\n      echo "start $$" >> "$MARK/exec.log"\n      ${GATE}\n`;
    const r = makeRepo(wf);
    let stepPid = 0;
    try {
      let id: string;
      ({ id, stepPid } = await killWhileRunning(r, mark, 'slow'));
      fs.rmSync(path.join(r.root, '.orchestrator', 'sessions', id, 'steps', 'slow', '1.proc'));
      let { report } = await doctor(r);
      assert.equal(find(report, `step-processes:${id}`)?.status, 'fail');
      ({ report } = await doctor(r, ['--fix', 'all']));
      assert.deepEqual(report.fixes?.map((f) => [f.action, f.ok]), [[`stop-processes:${id}`, true]]);
      assert.equal(groupAlive(stepPid), false);
    } finally {
      if (stepPid) killTrees([stepPid]);
      fs.rmSync(mark, { recursive: true, force: true });
    }
  });

  it('a recorded pid now used by an unrelated process (another start time) is not reported, and the fix does not kill it', async () => {
    const mark = markDir();
    const wf = `name: reused\nsteps:\n  - id: slow\n    env: { MARK: ${JSON.stringify(mark)} }\n    run: |\n      echo "start $$" >> "$MARK/exec.log"\n      ${GATE}\n`;
    const r = makeRepo(wf);
    const unrelated = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    try {
      const { id, stepPid } = await killWhileRunning(r, mark, 'slow');
      killTrees([stepPid]);
      await waitFor(() => !groupAlive(stepPid), 'the old step to end');
      // The record now names a live, unrelated process (its own group leader) with the old start time.
      const pid = unrelated.pid!;
      const record = path.join(r.root, '.orchestrator', 'sessions', id, 'steps', 'slow', '1.proc');
      const rec = JSON.parse(fs.readFileSync(record, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(record, JSON.stringify({ ...rec, pid, procStart: procInfo(pid)!.start - 1, host: os.hostname() }));

      let { report } = await doctor(r);
      assert.equal(find(report, `step-processes:${id}`), undefined, JSON.stringify(report.checks));
      assert.equal(find(report, 'step-processes')?.status, 'pass');
      ({ report } = await doctor(r, ['--fix', `stop-processes:${id}`]));
      assert.deepEqual(report.fixes, [{ action: `stop-processes:${id}`, ok: true, message: `nothing of session ${id} was left running` }]);
      assert.ok(processAlive(pid), 'the unrelated process lives');
    } finally {
      unrelated.kill('SIGKILL');
      fs.rmSync(mark, { recursive: true, force: true });
    }
  });

  it('a live runner\'s step is its own: not reported, and stop-processes is refused', async () => {
    const mark = markDir();
    const wf = `name: live\nsteps:\n  - id: slow\n    env: { MARK: ${JSON.stringify(mark)} }\n    run: |\n      echo "start $$" >> "$MARK/exec.log"\n      ${GATE}\n`;
    const r = makeRepo(wf);
    const runner = spawn(process.execPath, [CLI, 'run', r.file, '--quiet'], { cwd: r.root, env: cliEnv(r.home), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
    try {
      const stepPid = await waitFor(() => {
        const m = /^start (\d+)$/m.exec(fs.existsSync(path.join(mark, 'exec.log')) ? fs.readFileSync(path.join(mark, 'exec.log'), 'utf8') : '');
        return m ? Number(m[1]) : undefined;
      }, 'the step to start');
      const [id] = sessionFolders(r.root);
      const { code, report } = await doctor(r, ['--fix', `stop-processes:${id}`]);
      assert.equal(code, 1, 'a refused fix is a failure');
      assert.equal(report.fixes?.[0].ok, false);
      assert.match(report.fixes[0].message, /has a live runner: its steps are its own/);
      assert.equal(find(report, `step-processes:${id}`), undefined);
      assert.equal(find(report, `dead-runner:${id}`), undefined);
      assert.ok(processAlive(stepPid));
      fs.writeFileSync(path.join(mark, 'release'), '');
      assert.equal(await exited, 0);
    } finally {
      fs.writeFileSync(path.join(mark, 'release'), '');
      fs.rmSync(mark, { recursive: true, force: true });
    }
  });

  it('leftover worktrees: of a session at rest (its runner died, then it was cancelled) and of a session whose folder is gone; the fixes remove them', async () => {
    const mark = markDir();
    const wf = `name: wt\nsteps:\n  - id: slow\n    workspace: worktree\n    env: { MARK: ${JSON.stringify(mark)} }\n    run: |\n      echo "start $$" >> "$MARK/exec.log"\n      ${GATE}\n`;
    const r = makeGitRepo(wf);
    try {
      const { id, stepPid } = await killWhileRunning(r, mark, 'slow');
      const cancelled = await runCli(['cancel', id], { cwd: r.root, env: cliEnv(r.home) });
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.equal(groupAlive(stepPid), false, 'cancel stopped the step');
      const wt = path.join(r.root, '.orchestrator', 'worktrees', id, 'slow');
      assert.ok(!fs.existsSync(wt), 'cancelling the dead runner\'s session removed its worktree, as a runner does at its end');
      assert.ok(!worktreeList(r).some((w) => w.includes(id)), "and git's record of it");
      assert.deepEqual(orchestratorBranches(r), [`orchestrator/${id}/slow`], 'its branch stays');
      // A leftover all the same (a cleanup cut short): the worktree put back by hand.
      r.git('worktree', 'add', wt, `orchestrator/${id}/slow`);

      let { code, report } = await doctor(r);
      let c = find(report, `worktrees:${id}`)!;
      assert.equal(c.status, 'warn');
      assert.match(c.detail, new RegExp(`^1 worktree in \\.orchestrator/worktrees/${id}/ \\(slow\\): the session is cancelled and no runner uses them$`));
      assert.equal(c.fix?.action, `remove-worktrees:${id}`);
      assert.equal(code, 0);

      ({ report } = await doctor(r, ['--fix', `remove-worktrees:${id}`]));
      assert.deepEqual(report.fixes, [{ action: `remove-worktrees:${id}`, ok: true, message: `removed 1 worktree of session ${id}` }]);
      assert.ok(!fs.existsSync(wt));
      assert.ok(!worktreeList(r).some((w) => w.includes(id)), "git's record of it went too");
      assert.deepEqual(orchestratorBranches(r), [`orchestrator/${id}/slow`], 'the branch stays until the session is deleted');
      assert.equal(find(report, 'worktrees')?.status, 'pass');

      // The session's folder removed by hand (not by delete): its branch is left over.
      fs.rmSync(path.join(r.root, '.orchestrator', 'sessions', id), { recursive: true });
      ({ report } = await doctor(r));
      c = find(report, `worktrees:${id}`)!;
      assert.equal(c.status, 'warn');
      assert.equal(c.detail, `1 branch (orchestrator/${id}/slow): its session folder is gone`);
      ({ code, report } = await doctor(r, ['--fix', 'all']));
      assert.deepEqual(report.fixes?.map((f) => [f.action, f.ok]), [[`remove-worktrees:${id}`, true]]);
      assert.deepEqual(orchestratorBranches(r), []);
      assert.equal(find(report, 'worktrees')?.status, 'pass');
      assert.equal(code, 0);
    } finally {
      fs.writeFileSync(path.join(mark, 'release'), '');
      fs.rmSync(mark, { recursive: true, force: true });
    }
  });
});
