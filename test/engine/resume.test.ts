/**
 * Resume semantics (sessions.md, "Resume") and bad input at start.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { InputError, resumeSession, startSession } from '../../server/src/engine/sessions';
import { acquireLock } from '../../server/src/store/lock';
import { loadSession, sessionPaths, sessionsDir } from '../../server/src/store/sessionStore';
import { cleanupRepos, count, events, finish, makeRepo, runOpts, runToRest, statuses, writeWorkflow, type Repo } from './helpers';

after(cleanupRepos);

/** a → b → c, a → e; b fails until the file `fixed` exists. Every step counts its runs. */
const workflow = (cScript = 'echo c >> c.count') => `
name: resume
concurrency: 4
steps:
  - id: a
    run: echo a >> a.count
  - id: b
    needs: a
    run: |
      echo b >> b.count
      [ -e fixed ]
  - id: c
    needs: b
    run: ${cScript}
  - id: e
    needs: a
    run: echo e >> e.count
`;

const runs = (repo: Repo): Record<string, number> => Object.fromEntries(['a', 'b', 'c', 'e'].map((s) => [s, count(repo, `${s}.count`)]));

async function failedSession(): Promise<{ repo: Repo; id: string }> {
  const repo = makeRepo(workflow());
  const r = await runToRest(repo);
  assert.equal(r.state.status, 'failed', JSON.stringify(statuses(r.state)));
  assert.equal(r.state.steps.b.status, 'failed');
  assert.equal(r.state.steps.c.attempt, 0);
  assert.deepEqual(runs(repo), { a: 1, b: 1, c: 0, e: 1 });
  return { repo, id: r.id };
}

describe('resume', () => {
  it('runs again only the failed steps and the pending ones after them; --from STEP runs STEP and what follows', async () => {
    const { repo, id } = await failedSession();
    fs.writeFileSync(repo.path('fixed'), '');
    const resumed = await resumeSession(id, runOpts(repo));
    assert.deepEqual(resumed.warnings, []);
    assert.ok(resumed.reset.includes('b'));
    assert.ok(!resumed.reset.includes('a') && !resumed.reset.includes('e'));
    const r = await finish(repo, resumed);
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    assert.deepEqual(runs(repo), { a: 1, b: 2, c: 1, e: 1 });
    assert.equal(r.state.steps.b.attempt, 2, 'attempts keep counting across a resume');
    assert.equal(events(repo, id).filter((e) => e.type === 'session.resumed').length, 1);

    // A succeeded session has nothing to resume...
    await assert.rejects(resumeSession(id, runOpts(repo)), (e: Error) => e instanceof InputError && /succeeded/.test(e.message));
    // ...but --from b runs b and everything downstream of it again.
    const from = await resumeSession(id, { ...runOpts(repo), from: 'b' });
    assert.deepEqual([...from.reset].sort(), ['b', 'c']);
    const r2 = await finish(repo, from);
    assert.equal(r2.state.status, 'succeeded');
    assert.deepEqual(runs(repo), { a: 1, b: 3, c: 2, e: 1 });

    await assert.rejects(resumeSession(id, { ...runOpts(repo), from: 'nope' }), (e: Error) => e instanceof InputError && /no step 'nope'/.test(e.message));
  });

  it('a changed workflow file: a warning and the stored definition; --reload takes the new one when the ids match', async () => {
    const { repo, id } = await failedSession();
    fs.writeFileSync(repo.path('fixed'), '');
    const before = loadSession(repo.root, id).state.workflow.hash;
    writeWorkflow(repo, workflow('echo c-v2 >> c.count'));

    // Without --reload: the stored definition, and a warning saying so.
    const plain = await resumeSession(id, runOpts(repo));
    assert.ok(plain.warnings.some((w) => /changed since the session started/.test(w) && /--reload/.test(w)), JSON.stringify(plain.warnings));
    const r = await finish(repo, plain);
    assert.equal(r.state.status, 'succeeded');
    assert.equal(repo.read('c.count'), 'c\n', 'the stored definition of c ran');
    assert.equal(r.state.workflow.hash, before);

    // --reload (with --from, the session has succeeded): the new definition.
    const reloaded = await resumeSession(id, { ...runOpts(repo), from: 'c', reload: true });
    assert.deepEqual(reloaded.warnings, []);
    const r2 = await finish(repo, reloaded);
    assert.equal(r2.state.status, 'succeeded');
    assert.equal(repo.read('c.count'), 'c\nc-v2\n', 'the new definition of c ran');
    assert.notEqual(r2.state.workflow.hash, before);
    assert.match(r2.state.workflow.compiled.steps.find((s) => s.id === 'c')?.run ?? '', /c-v2/);
    // The new definition is in the log too: a rebuild from the log agrees.
    assert.equal(loadSession(repo.root, id).state.workflow.hash, r2.state.workflow.hash);
  });

  it('--reload refuses a file whose step ids changed, and leaves the session as it was', async () => {
    const { repo, id } = await failedSession();
    const before = fs.readFileSync(sessionPaths(repo.root, id).log);
    writeWorkflow(repo, workflow().replace('id: e', 'id: f').replace('needs: a\n    run: echo e', 'needs: a\n    run: echo e'));
    await assert.rejects(resumeSession(id, { ...runOpts(repo), reload: true }), (e: Error) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /same step ids/);
      assert.match(e.message, /adds f/);
      assert.match(e.message, /removes e/);
      return true;
    });
    assert.deepEqual(fs.readFileSync(sessionPaths(repo.root, id).log), before, 'the log changed');
    const after = loadSession(repo.root, id);
    assert.equal(after.state.status, 'failed');
    assert.equal(after.owner, undefined, 'the lock was not released');
    assert.ok(!fs.existsSync(sessionPaths(repo.root, id).lock));
  });

  it('a session owned by a live process is refused with a message naming its pid and host', async () => {
    const { repo, id } = await failedSession();
    const lock = await acquireLock(sessionPaths(repo.root, id).lock);
    try {
      await assert.rejects(resumeSession(id, runOpts(repo)), (e: Error) => {
        assert.match(e.message, new RegExp(`\\b${process.pid}\\b`));
        assert.ok(e.message.includes(os.hostname()), e.message);
        return true;
      });
      assert.equal(count(repo, 'b.count'), 1, 'a step ran');
    } finally {
      lock.release();
    }
    // Once the owner lets go, resume works.
    fs.writeFileSync(repo.path('fixed'), '');
    const r = await finish(repo, await resumeSession(id, runOpts(repo)));
    assert.equal(r.state.status, 'succeeded');
  });
});

describe('bad input at start', () => {
  const sessionFolders = (repo: Repo): string[] => (fs.existsSync(sessionsDir(repo.root)) ? fs.readdirSync(sessionsDir(repo.root)) : []);

  it('a workflow that does not validate: InputError listing the problems, no session folder', async () => {
    const repo = makeRepo(`
name: broken
steps:
  - id: a
    needs: nope
    run: echo a
  - id: a
    run: echo again
`);
    await assert.rejects(startSession(repo.file, {}, runOpts(repo)), (e: Error) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /unknown-need/);
      assert.match(e.message, /duplicate-id/);
      assert.match(e.message, /wf\.workflow\.yaml:\d+:\d+/);
      return true;
    });
    assert.deepEqual(sessionFolders(repo), []);
    await assert.rejects(startSession(repo.path('missing.yaml'), {}, runOpts(repo)), (e: Error) => e instanceof InputError && /cannot read/.test(e.message));
  });

  it('missing, unknown and badly typed inputs: InputError with a clear message, no session folder', async () => {
    const repo = makeRepo(`
name: inputs
inputs:
  name: { required: true, description: who to greet }
  count: { type: number, default: 1 }
  loud: { type: boolean, default: false }
  color: { enum: [red, green], default: red }
steps:
  - id: a
    run: echo "\${{ inputs.name }} \${{ inputs.count }}"
`);
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /input 'name' is required \(who to greet\)/],
      [{ name: 'x', count: 'ten' }, /input 'count' must be a number, not 'ten'/],
      [{ name: 'x', count: ' ' }, /input 'count' must be a number/],
      [{ name: 'x', loud: 'yes' }, /input 'loud' must be true or false/],
      [{ name: 'x', color: 'blue' }, /input 'color' must be one of red, green/],
      [{ name: 'x', colour: 'red' }, /unknown input 'colour'/],
    ];
    for (const [given, message] of cases) {
      await assert.rejects(startSession(repo.file, given, runOpts(repo)), (e: Error) => {
        assert.ok(e instanceof InputError, `${JSON.stringify(given)}: ${String(e)}`);
        assert.match(e.message, message);
        return true;
      });
    }
    assert.deepEqual(sessionFolders(repo), []);
    // And good ones are typed.
    const r = await runToRest(repo, { name: 'x', count: '2.5', loud: 'TRUE' });
    assert.equal(r.state.status, 'succeeded');
    assert.deepEqual(r.state.inputs, { name: 'x', count: 2.5, loud: true, color: 'red' });
  });

  it('a start that fails after validation (an unreadable secret): InputError, no session folder, nothing locked', async () => {
    const repo = makeRepo(`
name: secrets-broken
steps:
  - id: a
    run: echo a
`);
    // A secret that cannot be read (even by root): a symlink pointing at itself (ELOOP).
    fs.mkdirSync(repo.path('.orchestrator', 'secrets'), { recursive: true });
    fs.symlinkSync('LOOP', repo.path('.orchestrator', 'secrets', 'LOOP'));
    await assert.rejects(startSession(repo.file, {}, runOpts(repo)), (e: Error) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /secret LOOP/);
      return true;
    });
    assert.deepEqual(sessionFolders(repo), [], 'a half-made session was left behind');
    // Fixed, it starts.
    fs.unlinkSync(repo.path('.orchestrator', 'secrets', 'LOOP'));
    assert.equal((await runToRest(repo)).state.status, 'succeeded');
  });
});
