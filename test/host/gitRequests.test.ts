/**
 * Issue 12, part 6, through the REAL built host over stdio on a real git repository:
 * `orchestrator/git/show` (the diff view's two sides; other commits and paths outside the
 * repository refused), `orchestrator/git/apply` (git/apply's code: a refusal is a result with the
 * reason; ff lands the step's commit) and `orchestrator/git/discard` (the step's branch goes;
 * refused while the runner is live). The live step waits for a marker file the test writes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { GetSessionRequest, GitApplyRequest, GitDiscardRequest, GitShowRequest, ListSessionsRequest, StartSessionRequest } from '../../server/src/protocol';
import { cliEnv, runCli, waitFor } from '../cli/cliProcess';
import { cleanupRepos } from '../engine/helpers';
import { makeGitRepo } from '../engine/gitRepo';
import { SessionsClient } from './sessionClient';

const WORKFLOW = `name: edit
steps:
  - id: edit
    workspace: worktree
    run: printf 'a1\\nA2\\na3\\n' > src/a.txt && echo new > new.txt && rm src/b.txt
  - id: plain
    needs: edit
    run: echo plain
`;

const WAITS = `name: waits
steps:
  - id: hold
    workspace: worktree
    run: while [ ! -f "$GO" ]; do sleep 0.05; done
`;

describe('the host: a session\'s git work (show, apply, discard)', () => {
  const repo = makeGitRepo(WORKFLOW);
  let host: SessionsClient;
  let id = '';
  let commit = '';
  let base = '';

  before(async () => {
    const r = await runCli(['run', repo.file, '--quiet'], { cwd: repo.root, env: cliEnv(repo.home), timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    host = await SessionsClient.start(repo.root, { env: { HOME: repo.home } });
    const list = JSON.parse((await runCli(['list', '--json'], { cwd: repo.root, env: cliEnv(repo.home), timeoutMs: 60_000 })).stdout) as { id: string }[];
    id = list[0].id;
    const d = await host.request(GetSessionRequest, { id });
    commit = d.steps.edit.outputs.commit;
    base = d.steps.edit.outputs.base;
    assert.deepEqual(d.steps.edit.outputs.changed_files.split('\n').sort(), ['new.txt', 'src/a.txt', 'src/b.txt']);
  });
  after(async () => {
    await host?.stop();
    cleanupRepos();
  });

  it('shows a file at the base and at the step\'s commit; a side where it does not exist is empty', async () => {
    assert.deepEqual(await host.request(GitShowRequest, { id, commit: base, path: 'src/a.txt' }), { exists: true, text: 'a1\na2\na3\n' });
    assert.deepEqual(await host.request(GitShowRequest, { id, commit, path: 'src/a.txt' }), { exists: true, text: 'a1\nA2\na3\n' });
    assert.deepEqual(await host.request(GitShowRequest, { id, commit: base, path: 'new.txt' }), { exists: false, text: '' });
    assert.deepEqual(await host.request(GitShowRequest, { id, commit, path: 'src/b.txt' }), { exists: false, text: '' });
  });

  it('refuses commits that are not the session\'s and paths outside the repository', async () => {
    const other = repo.git('hash-object', '-w', '--stdin').trim() || 'x';
    await assert.rejects(host.request(GitShowRequest, { id, commit: other, path: 'src/a.txt' }), /is not one of session/);
    await assert.rejects(host.request(GitShowRequest, { id, commit: '0'.repeat(40), path: 'src/a.txt' }), /is not one of session/);
    await assert.rejects(host.request(GitShowRequest, { id, commit, path: '../outside.txt' }), /outside the repository/);
    await assert.rejects(host.request(GitShowRequest, { id, commit, path: '/etc/passwd' }), /not relative to the repository/);
    await assert.rejects(host.request(GitShowRequest, { id, commit, path: '.git/config' }), /inside \.git/);
  });

  it('apply: a refusal is a result with git/apply\'s reason, and nothing changed; then ff lands the commit', async () => {
    const head = repo.git('rev-parse', 'HEAD').trim();
    repo.write('src/a.txt', 'mine\n');
    const refused = await host.request(GitApplyRequest, { id, step: 'edit', mode: 'ff' });
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.reason, /^git\/apply refused: your uncommitted changes touch 1 file\(s\) the step changed: src\/a\.txt/);
    assert.equal(repo.git('rev-parse', 'HEAD').trim(), head);
    assert.equal(repo.read('src/a.txt'), 'mine\n');
    repo.git('checkout', '--', 'src/a.txt');
    const done = await host.request(GitApplyRequest, { id, step: 'edit', mode: 'ff' });
    assert.deepEqual(done.ok ? { ...done, changedFiles: done.changedFiles.sort() } : done, { ok: true, mode: 'ff', commit, branch: 'main', changedFiles: ['new.txt', 'src/a.txt', 'src/b.txt'] });
    assert.equal(repo.git('rev-parse', 'HEAD').trim(), commit);
    assert.equal(repo.read('new.txt'), 'new\n');
  });

  it('discard: refused while the runner is live; then the step\'s branch goes (once); a step without a branch is refused', async () => {
    fs.writeFileSync(repo.path('waits.workflow.yaml'), WAITS);
    const go = repo.path('go.marker');
    const live = await SessionsClient.start(repo.root, { env: { HOME: repo.home, GO: go } });
    try {
      const { id: running } = await live.request(StartSessionRequest, { uri: pathToFileURL(repo.path('waits.workflow.yaml')).href, inputs: {} });
      await waitFor(async () => (await live.request(GetSessionRequest, { id: running })).steps.hold.status === 'running', 'the step hold to run');
      await assert.rejects(live.request(GitDiscardRequest, { id: running, step: 'hold' }), /is running .*pause or cancel it/);
      fs.writeFileSync(go, '');
      await waitFor(async () => {
        const d = await live.request(GetSessionRequest, { id: running });
        return d.status === 'succeeded' && !d.owner;
      }, 'the waiting session to end');
    } finally {
      await live.stop();
    }
    const branch = `orchestrator/${id}/edit`;
    assert.equal(repo.git('branch', '--list', branch).trim(), branch);
    const listed = async (h: SessionsClient) => (await h.request(ListSessionsRequest, {})).find((s) => s.id === id);
    assert.deepEqual((await listed(host))?.git, { branches: ['edit'], appliable: ['edit'], result: 'edit' });
    const from = host.mark();
    assert.deepEqual(await host.request(GitDiscardRequest, { id, step: 'edit' }), { branch, deleted: true });
    assert.equal(repo.git('branch', '--list', branch).trim(), '');
    // The row stops offering Discard and Apply: the summary, pushed again, has no branch left.
    const pushed = await host.waitForChange(id, (s) => s.git === undefined, 'the summary without the discarded branch', { from });
    assert.equal(pushed.status, 'succeeded');
    assert.equal((await listed(host))?.git, undefined);
    assert.deepEqual(await host.request(GitDiscardRequest, { id, step: 'edit' }), { branch, deleted: false });
    await assert.rejects(host.request(GitDiscardRequest, { id, step: 'plain' }), /has no branch of its own/);
    await assert.rejects(host.request(GitDiscardRequest, { id, step: 'nope' }), /there is no step 'nope'/);
  });

  it('a host started later leaves out branches gone meanwhile (here: deleted with git), and so does a later list', async () => {
    const r = makeGitRepo(WORKFLOW);
    for (let n = 0; n < 2; n++) {
      const run = await runCli(['run', r.file, '--quiet'], { cwd: r.root, env: cliEnv(r.home), timeoutMs: 60_000 });
      assert.equal(run.code, 0, run.stderr);
    }
    const ids = (JSON.parse((await runCli(['list', '--json'], { cwd: r.root, env: cliEnv(r.home), timeoutMs: 60_000 })).stdout) as { id: string }[]).map((s) => s.id);
    const [gone, kept] = ids;
    r.git('branch', '-D', `orchestrator/${gone}/edit`);
    const later = await SessionsClient.start(r.root, { env: { HOME: r.home } });
    try {
      const pushed = await later.waitForChange(gone, (s) => s.git === undefined, 'the summary without the branch deleted with git');
      assert.equal(pushed.status, 'succeeded');
      const list = await later.request(ListSessionsRequest, {});
      assert.equal(list.find((s) => s.id === gone)?.git, undefined);
      assert.deepEqual(list.find((s) => s.id === kept)?.git?.branches, ['edit'], 'a session whose branch is there keeps it');
      // Deleted with git while this host runs: the next list (the editor's Refresh) leaves it out.
      r.git('branch', '-D', `orchestrator/${kept}/edit`);
      assert.equal((await later.request(ListSessionsRequest, {})).find((s) => s.id === kept)?.git, undefined);
    } finally {
      await later.stop();
    }
  });
});
