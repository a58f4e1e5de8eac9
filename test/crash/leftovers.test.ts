/**
 * Resume never runs a step twice (docs/sessions.md): `orchestrator run` is killed with SIGKILL while
 * a step runs; its step keeps running (it leads its own process group). `orchestrator resume` must
 * stop that leftover before it runs the step again: afterwards exactly one execution of the step
 * ran to its end and no process of the old group is left.
 *
 * The step appends `start <pid>` when it starts and `end <pid>` when it ends, and between the two it
 * waits for the file `release`, which the test creates only once the resumed execution started. So
 * nothing here waits for a time window: every wait is for a line in exec.log or a process's end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { listProcesses, procInfo } from '../../server/src/store/liveness';
import { CLI, cliEnv, killTrees, makeRepo, processAlive, runCli, sessionFolders, waitFor, type CliResult } from '../cli/cliProcess';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

const WAIT = 'while [ ! -e release ]; do sleep 0.02; done';

/**
 * `slow` waits for `release`; `then` runs after it. `scrub`: the step's shell replaces itself with a
 * process with an empty environment. `deaf`: the step and its children ignore SIGTERM.
 */
function workflow(how: 'plain' | 'scrub' | 'deaf' = 'plain'): string {
  const body =
    how === 'scrub'
      ? [`echo "start $$" >> exec.log`, `exec env -i /bin/sh -c '${WAIT}; echo "end $$" >> exec.log'`]
      : [...(how === 'deaf' ? [`trap '' TERM`] : []), `echo "start $$" >> exec.log`, WAIT, `echo "end $$" >> exec.log`];
  return ['name: leftover', 'steps:', '  - id: slow', '    run: |', ...body.map((l) => `      ${l}`), '  - id: then', '    needs: slow', '    run: echo then >> exec.log', ''].join('\n');
}

interface Repo {
  root: string;
  cli(args: string[]): Promise<CliResult>;
  lines(): string[][];
}

function repo(wf: string, files: Record<string, string> = {}): Repo {
  const { root, home } = makeRepo('orch-leftover');
  made.push(root);
  fs.writeFileSync(path.join(root, 'wf.yaml'), wf);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(root, 'exec.log'), '');
  return {
    root,
    cli: (args) => runCli(args, { cwd: root, env: cliEnv(home), timeoutMs: 60_000 }),
    lines: () => fs.readFileSync(path.join(root, 'exec.log'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')),
  };
}

const starts = (r: Repo): number[] => r.lines().filter(([k]) => k === 'start').map(([, pid]) => Number(pid));
const ends = (r: Repo): number[] => r.lines().filter(([k]) => k === 'end').map(([, pid]) => Number(pid));
const groupMembers = (pgid: number): number[] => listProcesses().filter((p) => p.pgid === pgid && p.state !== 'Z').map((p) => p.pid);

/** Starts `run wf.yaml`, waits until `slow` started, kills the runner with SIGKILL. Returns the session id and the step shell's pid. */
async function killedWhileRunning(r: Repo): Promise<{ id: string; stepPid: number }> {
  const runner = spawn(process.execPath, [CLI, 'run', 'wf.yaml', '--quiet'], { cwd: r.root, env: cliEnv(path.join(r.root, '.home')), stdio: 'ignore' });
  const exited = new Promise((resolve) => runner.once('exit', resolve));
  const stepPid = await waitFor(() => starts(r)[0], 'the step to start');
  // The runner records the step's process right after the spawn returns; on a busy machine the step
  // can print before that. Kill once the record is there: a step that also clears its environment
  // (the 'scrub' case) is findable only by it (between spawn and record, only the mark finds it).
  const [id] = await waitFor(() => {
    const ids = sessionFolders(r.root);
    return ids.length > 0 && fs.existsSync(path.join(r.root, '.orchestrator', 'sessions', ids[0], 'steps', 'slow', '1.proc')) ? ids : undefined;
  }, "the step's process record");
  runner.kill('SIGKILL');
  await exited;
  assert.ok(processAlive(stepPid), "the step's shell outlives its runner (it leads its own process group)");
  return { id, stepPid };
}

/** Resumes `id` (in the foreground, or detached as the editor does), releases the step once its new execution started, waits for the end. */
async function resumeAndRelease(r: Repo, id: string, oldPid: number, how: 'foreground' | 'detached'): Promise<void> {
  const resumed = r.cli(how === 'foreground' ? ['resume', id, '--quiet'] : ['resume', id, '--detach']);
  const newPid = await waitFor(() => starts(r)[1], 'the resumed step to start');
  assert.notEqual(newPid, oldPid);
  assert.deepEqual(groupMembers(oldPid), [], 'nothing of the old execution runs beside the new one');
  fs.writeFileSync(path.join(r.root, 'release'), '');
  const res = await resumed;
  assert.equal(res.code, 0, res.stderr);
  if (how === 'foreground') assert.match(res.stderr, /stopped what the session's dead runner left running: step slow \(attempt 1\)/);
  else await waitFor(async () => JSON.parse((await r.cli(['show', id, '--json'])).stdout).status === 'succeeded', 'the detached runner to finish');
  const shown = JSON.parse((await r.cli(['show', id, '--json'])).stdout) as { status: string; steps: Record<string, { status: string; attempt: number }> };
  assert.equal(shown.status, 'succeeded');
  assert.deepEqual(starts(r), [oldPid, newPid]);
  assert.deepEqual(ends(r), [newPid], 'exactly one execution ran to its end: the resumed one');
  assert.equal(r.lines().filter(([k]) => k === 'then').length, 1);
  assert.deepEqual(groupMembers(oldPid), [], 'no process of the old group is left');
  assert.deepEqual(fs.readdirSync(path.join(r.root, '.orchestrator', 'sessions', id, 'steps', 'slow')).filter((f) => f.endsWith('.proc')), [], 'no process record is left');
}

describe('resume after the runner was killed while a step ran', { timeout: 120_000 }, () => {
  it('stops the old execution (found by its record and its mark) before running the step again', async () => {
    const r = repo(workflow());
    const { id, stepPid } = await killedWhileRunning(r);
    await resumeAndRelease(r, id, stepPid, 'foreground');
  });

  it('finds the old execution by the mark in its environment when the runner died before recording it', async () => {
    const r = repo(workflow());
    const { id, stepPid } = await killedWhileRunning(r);
    fs.rmSync(path.join(r.root, '.orchestrator', 'sessions', id, 'steps', 'slow', '1.proc'));
    await resumeAndRelease(r, id, stepPid, 'foreground');
  });

  it('finds the old execution by its record when it cleared its environment; the detached resume (the editor\'s) does it too', async () => {
    const r = repo(workflow('scrub'));
    const { id, stepPid } = await killedWhileRunning(r);
    await resumeAndRelease(r, id, stepPid, 'detached');
  });

  it('a leftover that ignores SIGTERM gets SIGKILL after the grace', async () => {
    const r = repo(workflow('deaf'));
    const { id, stepPid } = await killedWhileRunning(r);
    await resumeAndRelease(r, id, stepPid, 'foreground');
  });

  it('stops an agent step\'s program (a command provider) the same way', async () => {
    // The agent program reads its prompt, then behaves as the shell step above (its cwd is the repository).
    const agent = `#!/usr/bin/env bash\ncat > /dev/null\necho "start $$" >> exec.log\n${WAIT}\necho "end $$" >> exec.log\necho answer\n`;
    const wf = ['name: leftover-agent', 'agents:', '  a: { provider: waiter }', 'steps:', '  - id: slow', '    agent: a', '    prompt: wait', '  - id: then', '    needs: slow', '    run: echo then >> exec.log', ''].join('\n');
    const r = repo(wf, { 'agent.sh': agent, '.orchestrator/config.yaml': 'providers:\n  waiter:\n    type: command\n    command: [./agent.sh]\n    prompt: stdin\n' });
    const { id, stepPid } = await killedWhileRunning(r);
    await resumeAndRelease(r, id, stepPid, 'foreground');
  });

  it('cancel of the session stops what its dead runner left running', async () => {
    const r = repo(workflow());
    const { id, stepPid } = await killedWhileRunning(r);
    const res = await r.cli(['cancel', id]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(groupMembers(stepPid), [], 'the old step was stopped');
    fs.writeFileSync(path.join(r.root, 'release'), '');
    assert.deepEqual(ends(r), []);
  });

  it('a resume while the runner lives is refused and leaves the running step alone', async () => {
    const r = repo(workflow());
    const runner = spawn(process.execPath, [CLI, 'run', 'wf.yaml', '--quiet'], { cwd: r.root, env: cliEnv(path.join(r.root, '.home')), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
    const stepPid = await waitFor(() => starts(r)[0], 'the step to start');
    const [id] = sessionFolders(r.root);
    const res = await r.cli(['resume', id]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /is running: it is owned by process \d+/);
    assert.ok(processAlive(stepPid), 'the running step was not touched');
    fs.writeFileSync(path.join(r.root, 'release'), '');
    assert.equal(await exited, 0);
    assert.deepEqual(starts(r), [stepPid]);
    assert.deepEqual(ends(r), [stepPid]);
  });

  it('a recorded pid now used by an unrelated process (another start time) is not killed', async () => {
    const r = repo(workflow());
    const { id, stepPid } = await killedWhileRunning(r);
    killTrees([stepPid]); // the old step ended...
    await waitFor(() => groupMembers(stepPid).length === 0, 'the old step to end');
    // ...and its pid went to an unrelated process: the record names that pid with the old start time.
    const unrelated = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const pid = unrelated.pid!;
    try {
      const record = path.join(r.root, '.orchestrator', 'sessions', id, 'steps', 'slow', '1.proc');
      const rec = JSON.parse(fs.readFileSync(record, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(record, JSON.stringify({ ...rec, pid, procStart: procInfo(pid)!.start - 1, host: os.hostname() }));
      fs.writeFileSync(path.join(r.root, 'release'), '');
      const res = await r.cli(['resume', id, '--quiet']);
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /stopped/);
      assert.ok(processAlive(pid), 'the unrelated process lives');
      assert.ok(!fs.existsSync(record), 'the stale record is removed');
    } finally {
      unrelated.kill('SIGKILL');
    }
  });
});
