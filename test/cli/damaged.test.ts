/**
 * A session whose log.jsonl is damaged, through the REAL built CLI: `list` and `show` (text and
 * --json) say so with the line and what it lost, `resume` says what it runs again, and a session
 * whose first line is damaged is still listed, with nothing advising to delete it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cliEnv, makeRepo, runCli, type CliResult } from './cliProcess';

const WORKFLOW = `name: dmg
steps:
  - id: a
    run: echo run >> a.count
  - id: b
    needs: a
    run: echo b
`;

const repo = makeRepo('orch-cli-damaged');
const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: repo.root, env: cliEnv(repo.home), timeoutMs: 60_000 });

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit 0 expected, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Runs the workflow, removes state.json and damages the log line that `pick` chooses. */
async function damagedSession(pick: (line: string, n: number) => boolean): Promise<{ id: string; line: number }> {
  ok(await cli('run', 'dmg.workflow.yaml', '--quiet'));
  const id = (JSON.parse(ok(await cli('list', '--json')).stdout) as { id: string }[])[0].id;
  const dir = path.join(repo.root, '.orchestrator', 'sessions', id);
  fs.rmSync(path.join(dir, 'state.json'));
  const lines = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n');
  const n = lines.findIndex((l, i) => l !== '' && pick(l, i + 1));
  lines[n] = lines[n].replace('"seq":', '"seq";');
  fs.writeFileSync(path.join(dir, 'log.jsonl'), lines.join('\n'));
  return { id, line: n + 1 };
}

before(() => {
  assert.ok(fs.existsSync(CLI), `${CLI} does not exist: run npm run build first`);
  fs.writeFileSync(path.join(repo.root, 'dmg.workflow.yaml'), WORKFLOW);
});
after(() => fs.rmSync(repo.root, { recursive: true, force: true }));

describe('a damaged log through the CLI', () => {
  it("list, show and resume when step a's step.finished line is damaged", async () => {
    const { id, line } = await damagedSession((l) => l.includes('"type":"step.finished"') && l.includes('"step":"a"'));
    const list = ok(await cli('list'));
    assert.match(list.stdout, new RegExp(`${id}\\s+interrupted \\(damaged log\\)\\s+dmg`));
    assert.match(list.stderr, new RegExp(`warning: log\\.jsonl of session ${id} is damaged: line ${line} lost event ${line}: step\\.finished of step a; a is treated as not finished: resume runs it again`));
    const summary = (JSON.parse(ok(await cli('list', '--json')).stdout) as { id: string; status: string; damaged?: unknown }[]).find((s) => s.id === id);
    assert.equal(summary?.status, 'interrupted');
    assert.deepEqual(summary?.damaged, [{ line, lost: `event ${line}: step.finished of step a`, seq: line, type: 'step.finished', step: 'a' }]);

    const show = ok(await cli('show', id));
    assert.match(show.stdout, new RegExp(`^log: damaged — line ${line} lost event ${line}: step\\.finished of step a$`, 'm'));
    assert.match(show.stdout, /^a\s+running\s+1\s+.*its end was not recorded \(log\.jsonl line \d+ is damaged\): treated as not finished; resume runs it again/m);
    const detail = JSON.parse(ok(await cli('show', id, '--json')).stdout) as { status: string; damaged?: { line: number }[] };
    assert.equal(detail.status, 'interrupted');
    assert.deepEqual(detail.damaged?.map((d) => d.line), [line]);

    const resumed = ok(await cli('resume', id, '--quiet'));
    assert.match(resumed.stderr, /damaged: line \d+ lost event \d+: step\.finished of step a; a is treated as not finished: resume runs it again/);
    assert.equal(fs.readFileSync(path.join(repo.root, 'a.count'), 'utf8'), 'run\nrun\n', 'a ran again');
    const after = JSON.parse(ok(await cli('show', id, '--json')).stdout) as { status: string; damaged?: unknown[] };
    assert.equal(after.status, 'succeeded');
    assert.equal(after.damaged?.length, 1, 'the log is still damaged, and says so');
  });

  it('a damaged first line: still listed (not "stopped while creating it"), shown, and resume refuses in one line without advising to delete', async () => {
    const { id } = await damagedSession((_l, n) => n === 1);
    const list = ok(await cli('list'));
    assert.match(list.stdout, new RegExp(`${id}\\s+succeeded \\(damaged log\\)\\s+\\(unknown: log\\.jsonl damaged\\)\\s+2/2`));
    assert.doesNotMatch(list.stderr, /delete|stopped while creating/);
    const show = ok(await cli('show', id));
    assert.match(show.stdout, /^log: damaged — line 1 lost event 1: session\.started \(the workflow and inputs\)$/m);
    assert.match(show.stdout, /^a\s+succeeded/m);
    const resumed = await cli('resume', id);
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`^orchestrator: session ${id} cannot be resumed: line 1 of its log\\.jsonl, the session\\.started event, is damaged`, 'm'));
    assert.doesNotMatch(resumed.stderr, /delete|^\s+at /m);
  });
});
