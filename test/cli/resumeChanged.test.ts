/**
 * `orchestrator resume ID` when the workflow file changed since the session started (issue 10,
 * part 5): it never silently reruns the old definition. Without --reload/--stored it says the file
 * changed and how to choose (exit 2; with --json also the comparison on stdout); on a terminal it
 * asks. Also: `list` says what the steps came to (`1/3 done · 1 failed · 1 cancelled`, counts in
 * --json) and `pausing` while a pause waits for a running step. Real CLI processes, real files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertUsageError, CLI, cliEnv, makeRepo, runCli, waitFor } from './cliProcess';

const FILE = 'fix.workflow.yaml';
const workflow = (b: string, extra = '') => `name: fixme
steps:
  - id: a
    run: echo a >> a.count
  - id: b
    needs: a
    run: ${b}
  - id: c
    needs: b
    run: echo c >> c.count
${extra}`;
const BROKEN = workflow('exit 3');
const FIXED = workflow('echo fixed >> b.count');

const repos: string[] = [];
after(() => {
  for (const r of repos) fs.rmSync(r, { recursive: true, force: true });
});

/** A repository with a session of BROKEN that failed at b; returns a CLI runner in it. */
async function failedSession(): Promise<{ root: string; id: string; cli: (...args: string[]) => ReturnType<typeof runCli>; write: (text: string) => void; logSize: () => number }> {
  const { root, home } = makeRepo('orch-resume-changed');
  repos.push(root);
  const write = (text: string): void => fs.writeFileSync(path.join(root, FILE), text);
  write(BROKEN);
  const cli = (...args: string[]) => runCli(args, { cwd: root, env: cliEnv(home), timeoutMs: 60_000 });
  const r = await cli('run', FILE, '--quiet');
  assert.equal(r.code, 1, r.stderr);
  const [s] = JSON.parse((await cli('list', '--json')).stdout) as { id: string }[];
  const logSize = (): number => fs.statSync(path.join(root, '.orchestrator', 'sessions', s.id, 'log.jsonl')).size;
  return { root, id: s.id, cli, write, logSize };
}

const read = (root: string, f: string): string => (fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f), 'utf8') : '');

describe('orchestrator resume of a session whose workflow file changed', () => {
  it('without a choice: says the file changed and how to choose (exit 2, one line), and resumes nothing', async () => {
    const s = await failedSession();
    s.write(FIXED);
    const before = s.logSize();
    const r = await s.cli('resume', s.id);
    assertUsageError(r, new RegExp(`the workflow file ${FILE} changed since session ${s.id} started: resume with the file as it is now \\(orchestrator resume ${s.id} --reload\\) or with the definition stored in the session \\(orchestrator resume ${s.id} --stored\\)`));
    assert.equal(s.logSize(), before, 'the session was not touched');
    assert.equal(read(s.root, 'a.count'), 'a\n');

    // --json: the same refusal, and the comparison on stdout for scripts.
    const j = await s.cli('resume', s.id, '--json');
    assert.equal(j.code, 2, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), { id: s.id, resumed: false, definition: { file: FILE, status: 'changed', added: [], removed: [], reloadable: true } });

    // --detach too: refused before any runner starts.
    assertUsageError(await s.cli('resume', s.id, '--detach'), /--reload.*--stored/);
    assert.equal(s.logSize(), before);
  });

  it('--reload runs the changed definition; --stored the one the session started with, without a warning', async () => {
    const s = await failedSession();
    s.write(FIXED);
    const stored = await s.cli('resume', s.id, '--stored', '--quiet');
    assert.equal(stored.code, 1, 'the stored definition fails again');
    assert.equal(stored.stderr, '', 'a knowing choice is not warned about');
    assert.equal(read(s.root, 'b.count'), '');

    const reloaded = await s.cli('resume', s.id, '--reload', '--quiet');
    assert.equal(reloaded.code, 0, reloaded.stderr);
    assert.equal(read(s.root, 'b.count'), 'fixed\n');
    assert.equal(read(s.root, 'c.count'), 'c\n');
    assert.equal(read(s.root, 'a.count'), 'a\n', 'a kept its result');
    assertUsageError(await s.cli('resume', s.id, '--from', 'b', '--reload', '--stored'), /--reload and --stored exclude each other/);
  });

  it('other step ids: says which, and offers the stored definition or a new session; --reload is refused', async () => {
    const s = await failedSession();
    s.write(workflow('echo fixed', '  - id: d\n    needs: c\n    run: echo d\n').replace('id: c\n    needs: b\n    run: echo c >> c.count\n', 'id: c2\n    needs: b\n    run: echo c\n').replace('needs: c\n', 'needs: c2\n'));
    const r = await s.cli('resume', s.id);
    assertUsageError(r, new RegExp(`its steps differ \\(it adds c2, d and removes c\\).*orchestrator resume ${s.id} --stored.*orchestrator run ${FILE}`));
    assertUsageError(await s.cli('resume', s.id, '--reload'), /--reload needs the same step ids: the file adds c2, d and removes c; start a new session instead/);
  });

  it('a file with errors now: says so; --stored resumes with the stored definition', async () => {
    const s = await failedSession();
    s.write(FIXED.replace('needs: b', 'needs: nope'));
    assertUsageError(await s.cli('resume', s.id), /changed since session .* and has 1 error\(s\) now \(orchestrator validate fix\.workflow\.yaml\): fix them .*--reload.*--stored/);
    const r = await s.cli('resume', s.id, '--stored', '--quiet');
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });

  it('only comments or layout changed: nothing to choose, it resumes', async () => {
    const s = await failedSession();
    s.write(`# a comment added after the session started\n${BROKEN.replace('name: fixme', 'name:   fixme')}`);
    const r = await s.cli('resume', s.id, '--quiet');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(read(s.root, 'a.count'), 'a\n');
  });

  it('on a terminal it asks, and the answer is followed', { skip: spawnSync('script', ['--version']).status !== 0 && 'util-linux script(1) is not installed' }, async () => {
    const s = await failedSession();
    s.write(FIXED);
    // script(1) gives the CLI a terminal; the answer is typed on it.
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} resume ${s.id}`, '/dev/null'], { cwd: s.root, env: cliEnv(path.join(s.root, '.home')), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    await waitFor(() => /Resume how\? \[r\/s\/q\]/.test(output), `the question (output so far: ${JSON.stringify(output)})`);
    assert.match(output, new RegExp(`The workflow file ${FILE} changed since session ${s.id} started\\.`));
    child.stdin.write('r\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, output);
    assert.equal(read(s.root, 'b.count'), 'fixed\n');
  });
});

describe('orchestrator list says what the steps came to', () => {
  it('a failed session whose one step succeeded: 1/3 done · 1 failed · 1 cancelled; --json has the counts', async () => {
    const s = await failedSession();
    const table = (await s.cli('list')).stdout;
    assert.match(table, new RegExp(`^${s.id}  failed  fixme     1/3 done · 1 failed · 1 cancelled  `, 'm'));
    const [j] = JSON.parse((await s.cli('list', '--json')).stdout) as { counts: Record<string, number>; done: number; total: number }[];
    assert.deepEqual(j.counts, { pending: 0, running: 0, succeeded: 1, failed: 1, skipped: 0, cancelled: 1, timed_out: 0, waiting: 0 });
    assert.equal(j.total, 3);
  });

  it('pausing: a paused session whose step still runs says so until the step ends', async () => {
    const { root, home } = makeRepo('orch-list-pausing');
    repos.push(root);
    fs.writeFileSync(path.join(root, 'p.workflow.yaml'), 'name: pauser\nsteps:\n  - id: hold\n    run: |\n      touch started\n      while [ ! -e release ]; do sleep 0.05; done\n  - id: next\n    needs: hold\n    run: echo next\n');
    const cli = (...args: string[]) => runCli(args, { cwd: root, env: cliEnv(home), timeoutMs: 60_000 });
    const id = (await cli('run', 'p.workflow.yaml', '--detach')).stdout.trim();
    await waitFor(() => fs.existsSync(path.join(root, 'started')), 'the step to start');
    const pause = cli('pause', id); // waits until the session is at rest
    await waitFor(() => read(root, `.orchestrator/sessions/${id}/control.jsonl`).includes('"pause"'), 'the pause request');
    assert.match((await cli('list')).stdout, new RegExp(`^${id}  pausing  pauser    0/2 done · 1 running  `, 'm'));
    assert.equal((JSON.parse((await cli('list', '--json')).stdout) as { pausing?: boolean }[])[0].pausing, true);
    fs.writeFileSync(path.join(root, 'release'), '');
    const p = await pause;
    assert.equal(p.code, 0, p.stderr);
    assert.match((await cli('list')).stdout, new RegExp(`^${id}  paused  pauser    1/2 done · 1 pending  `, 'm'));
  });
});
