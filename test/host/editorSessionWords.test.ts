/**
 * Issue 10, part 5, through the REAL built host over stdio:
 * - checkDefinition says whether a session's workflow file changed since it started (the engine's
 *   comparison), and resume / retryStep of a session at rest refuse a changed file until the
 *   client chooses (`reload` or `stored`), and then do what was chosen;
 * - summaries carry the step counts (`1/3 done · 1 failed · 1 cancelled` is made of them);
 * - `pausing`: a pause asked (from the editor or from `orchestrator pause`) is pushed at once,
 *   while the running step still runs.
 * Steps that must still be running wait for a marker file the test writes; nothing sleeps.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CheckDefinitionRequest, GetSessionRequest, ListSessionsRequest, PauseSessionRequest, ResumeSessionRequest, RetryStepRequest, StartSessionRequest, stepsText } from '../../server/src/protocol';
import { cliEnv, makeRepo, runCli, waitFor } from '../cli/cliProcess';
import { SessionsClient } from './sessionClient';

const { root, home } = makeRepo('orch-host-words');
const cli = (...args: string[]) => runCli(args, { cwd: root, env: cliEnv(home), timeoutMs: 60_000 });
const isAtRest = (s: string): boolean => s !== 'running' && s !== 'waiting';
const read = (f: string): string => (fs.existsSync(path.join(root, f)) ? fs.readFileSync(path.join(root, f), 'utf8') : '');

const workflow = (name: string, b: string, cId = 'c') => `name: ${name}
steps:
  - id: a
    run: echo a
  - id: b
    needs: a
    run: ${b}
  - id: ${cId}
    needs: b
    run: echo c
`;

/** A session of `<name>.workflow.yaml` that failed at b (b exits 3), run from the CLI. */
async function failed(name: string): Promise<string> {
  fs.writeFileSync(path.join(root, `${name}.workflow.yaml`), workflow(name, 'exit 3'));
  const r = await cli('run', `${name}.workflow.yaml`, '--quiet');
  assert.equal(r.code, 1, r.stderr);
  const list = JSON.parse((await cli('list', '--json')).stdout) as { id: string; workflow: string }[];
  return list.find((s) => s.workflow === name)!.id;
}

/** The session once its step b has run `attempt` times and it is at rest again (the host's get). */
async function settled(host: SessionsClient, id: string, attempt: number): Promise<{ status: string; owner?: unknown }> {
  return waitFor(async () => {
    const d = await host.request(GetSessionRequest, { id });
    return d.steps.b.attempt === attempt && isAtRest(d.status) && !d.owner ? d : undefined;
  }, `session ${id} to run b again and come to rest`);
}

describe('the host: resume of a changed workflow file, step counts, pausing', () => {
  let host: SessionsClient;
  before(async () => {
    host = await SessionsClient.start(root, { env: { HOME: home } });
  });
  after(async () => {
    await host.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('checkDefinition, then resume refuses a changed file without a choice and takes it with reload', async () => {
    const id = await failed('fixme');
    const file = 'fixme.workflow.yaml';
    assert.deepEqual(await host.request(CheckDefinitionRequest, { id }), { file, status: 'unchanged', added: [], removed: [], reloadable: false });
    fs.writeFileSync(path.join(root, file), workflow('fixme', 'echo fixed > b.fixed'));
    assert.deepEqual(await host.request(CheckDefinitionRequest, { id }), { file, status: 'changed', added: [], removed: [], reloadable: true });

    await assert.rejects(host.request(ResumeSessionRequest, { id }), (e: Error) => {
      assert.match(e.message, new RegExp(`the workflow file ${file} changed since session ${id} started: .*--reload.*--stored`));
      return true;
    });
    await assert.rejects(host.request(RetryStepRequest, { id, step: 'b' }), /changed since session/);
    assert.equal(read('b.fixed'), '', 'nothing ran');

    await host.request(ResumeSessionRequest, { id, reload: true });
    assert.equal((await settled(host, id, 2)).status, 'succeeded');
    assert.equal(read('b.fixed'), 'fixed\n', 'the changed definition ran');
    // The session took the file: nothing to ask any more.
    assert.equal((await host.request(CheckDefinitionRequest, { id })).status, 'unchanged');
  });

  it('stored: the definition the session started with runs again (retryStep at rest too)', async () => {
    const id = await failed('keep');
    fs.writeFileSync(path.join(root, 'keep.workflow.yaml'), workflow('keep', 'echo fixed > keep.fixed'));
    await host.request(RetryStepRequest, { id, step: 'b', stored: true });
    assert.equal((await settled(host, id, 2)).status, 'failed');
    assert.equal(read('keep.fixed'), '');
  });

  it('other step ids: checkDefinition names them; a file with errors is invalid, with its errors', async () => {
    const id = await failed('renamed');
    const file = path.join(root, 'renamed.workflow.yaml');
    fs.writeFileSync(file, workflow('renamed', 'echo ok', 'c2'));
    assert.deepEqual(await host.request(CheckDefinitionRequest, { id }), { file: 'renamed.workflow.yaml', status: 'changed', added: ['c2'], removed: ['c'], reloadable: false });
    fs.writeFileSync(file, workflow('renamed', 'echo ok').replace('needs: b', 'needs: nope'));
    const bad = await host.request(CheckDefinitionRequest, { id });
    assert.equal(bad.status, 'invalid');
    assert.match(bad.errors?.[0] ?? '', /unknown-need/);
    fs.rmSync(file);
    assert.equal((await host.request(CheckDefinitionRequest, { id })).status, 'missing');
  });

  it('summaries carry the step counts: a failed session whose one step succeeded is 1/3 done · 1 failed · 1 cancelled', async () => {
    const id = await failed('counted');
    const s = (await host.request(ListSessionsRequest, {})).find((x) => x.id === id)!;
    assert.equal(stepsText(s.counts, s.total, { atRest: true }), '1/3 done · 1 failed · 1 cancelled');
  });

  for (const by of ['the editor', 'orchestrator pause in a terminal'] as const) {
    it(`pausing is pushed as soon as a pause is asked by ${by}, while the step still runs`, async () => {
      const marker = `release-${by === 'the editor' ? 'editor' : 'cli'}`;
      fs.writeFileSync(path.join(root, 'hold.workflow.yaml'), `name: hold\nsteps:\n  - id: hold\n    run: |\n      touch "started-$ORCHESTRATOR_SESSION_ID"\n      while [ ! -e ${marker} ]; do sleep 0.05; done\n  - id: next\n    needs: hold\n    run: echo next\n`);
      const from = host.mark();
      const { id } = await host.request(StartSessionRequest, { uri: pathToFileURL(path.join(root, 'hold.workflow.yaml')).href, inputs: {} });
      await waitFor(() => fs.existsSync(path.join(root, `started-${id}`)), 'the step to start');
      let pausing: Promise<unknown> | undefined;
      if (by === 'the editor') {
        const r = await host.request(PauseSessionRequest, { id });
        assert.equal(r.pausing, true, JSON.stringify(r));
      } else pausing = cli('pause', id); // it waits for the session to come to rest
      const seen = await host.waitForChange(id, (s) => s.pausing === true, 'a pausing summary', { from });
      assert.equal(seen.status, 'running');
      assert.equal((await host.request(ListSessionsRequest, {})).find((s) => s.id === id)?.pausing, true);
      fs.writeFileSync(path.join(root, marker), '');
      const end = await host.waitForChange(id, (s) => s.status === 'paused', 'paused', { from });
      assert.ok(!end.pausing);
      await pausing;
    });
  }
});
