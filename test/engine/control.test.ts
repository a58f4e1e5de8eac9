/**
 * Control commands sent to a live runner (control.jsonl): pause, cancel, approve, reject.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { controlSession, InputError, resumeSession } from '../../server/src/engine/sessions';
import { loadSession } from '../../server/src/store/sessionStore';
import { alive, assertRebuilds, cleanupRepos, count, events, finish, makeRepo, pidIn, runOpts, start, statuses, waitFor } from './helpers';

after(cleanupRepos);

describe('pause', () => {
  it('lets the running step finish, starts nothing new, rests paused; resume finishes without re-running what succeeded', async () => {
    const repo = makeRepo(`
name: pause
concurrency: 1
steps:
  - id: a
    run: |
      echo a >> a.count
      touch a.started
      until [ -e a.go ]; do sleep 0.01; done
      echo "v=from-a" >> "$ORCHESTRATOR_OUTPUT"
  - id: b
    run: echo b >> b.count
  - id: c
    needs: a
    run: echo "\${{ steps.a.outputs.v }}" >> c.count
`);
    const s = await start(repo);
    await waitFor('a to start', () => fs.existsSync(repo.path('a.started')));
    const sent = await controlSession(repo.root, s.id, { type: 'pause', by: 'test' });
    assert.equal(sent.applied, 'sent');
    // a ends only now, after the pause is in control.jsonl (the runner hears of that first).
    fs.writeFileSync(repo.path('a.go'), '');
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'paused', JSON.stringify(statuses(r.state)));
    assert.equal(r.state.steps.a.status, 'succeeded', 'the running step finished');
    assert.equal(r.state.steps.b.status, 'pending', 'nothing new started');
    assert.equal(r.state.steps.c.status, 'pending');
    assert.equal(count(repo, 'a.count'), 1);
    assert.equal(count(repo, 'b.count'), 0);
    assert.equal(count(repo, 'c.count'), 0);
    assert.ok(events(repo, s.id).some((e) => e.type === 'session.paused'));
    assert.equal(loadSession(repo.root, s.id).owner, undefined, 'the runner let go of the lock');

    const resumed = await resumeSession(s.id, runOpts(repo));
    assert.deepEqual(resumed.reset, []);
    const r2 = await finish(repo, resumed);
    assert.equal(r2.state.status, 'succeeded', JSON.stringify(statuses(r2.state)));
    assert.equal(count(repo, 'a.count'), 1, 'a ran again');
    assert.equal(count(repo, 'b.count'), 1);
    assert.equal(repo.read('c.count'), 'from-a\n', 'c got the output a produced before the pause');
    assert.equal(r2.state.steps.a.attempt, 1);
    assertRebuilds(repo, s.id);
  });
});

describe('cancel', () => {
  it('kills running steps (whole tree), cancels pending ones, rests cancelled', async () => {
    const repo = makeRepo(`
name: cancel
concurrency: 2
steps:
  - id: sleeper
    run: |
      echo $$ > shell.pid
      sleep 300 &
      echo $! > child.pid
      wait
  - id: quick
    run: echo ok
  - id: after
    needs: sleeper
    run: touch after-ran
`);
    const s = await start(repo);
    await waitFor('the sleeper to start its child', () => repo.read('child.pid') !== undefined);
    await waitFor('quick to finish', () => events(repo, s.id).some((e) => e.type === 'step.finished' && e.step === 'quick'));
    const pids = [pidIn(repo, 'shell.pid'), pidIn(repo, 'child.pid')];
    // The sleeper sleeps 300 s: a cancel that waited for it would fail finish's hang guard.
    const sent = await controlSession(repo.root, s.id, { type: 'cancel', by: 'tester' });
    assert.equal(sent.applied, 'sent');
    const r = await finish(repo, s);
    const st = r.state;
    assert.equal(st.status, 'cancelled', JSON.stringify(statuses(st)));
    assert.equal(st.steps.sleeper.status, 'cancelled');
    assert.equal(st.steps.quick.status, 'succeeded');
    assert.equal(st.steps.after.status, 'cancelled');
    assert.equal(st.steps.after.attempt, 0);
    assert.match(st.reason ?? '', /tester/);
    assert.ok(!fs.existsSync(repo.path('after-ran')));
    await waitFor(`processes ${pids.join(', ')} to be gone`, () => pids.every((p) => !alive(p)));
    assertRebuilds(repo, s.id);
  });

  it('a session at rest is cancelled in place; a finished one cannot be', async () => {
    const repo = makeRepo(`
name: cancel-at-rest
steps:
  - id: a
    run: |
      touch a.started
      until [ -e a.go ]; do sleep 0.01; done
  - id: b
    needs: a
    run: echo b
`);
    const s = await start(repo);
    await waitFor('a to start', () => fs.existsSync(repo.path('a.started')));
    await controlSession(repo.root, s.id, { type: 'pause' });
    fs.writeFileSync(repo.path('a.go'), '');
    assert.equal((await finish(repo, s)).state.status, 'paused');
    const done = await controlSession(repo.root, s.id, { type: 'cancel' });
    assert.equal(done.applied, 'done');
    const st = loadSession(repo.root, s.id).state;
    assert.equal(st.status, 'cancelled');
    assert.equal(st.steps.a.status, 'succeeded');
    assert.equal(st.steps.b.status, 'cancelled');
    await assert.rejects(controlSession(repo.root, s.id, { type: 'cancel' }), InputError);
    assertRebuilds(repo, s.id);
  });
});

describe('approvals', () => {
  const wf = `
name: approvals
inputs:
  target: { default: staging }
steps:
  - id: build
    run: echo build >> ran.txt
  - id: gate
    needs: build
    approval: Deploy to \${{ inputs.target }}?
  - id: deploy
    needs: gate
    run: echo deploy >> ran.txt
`;

  it('waits for an answer; approve → the step succeeds and dependents run', async () => {
    const repo = makeRepo(wf);
    const s = await start(repo);
    await waitFor('the session to wait', () => loadSession(repo.root, s.id).state.status === 'waiting');
    const waiting = loadSession(repo.root, s.id).state;
    assert.equal(waiting.steps.gate.status, 'waiting');
    assert.equal(waiting.steps.gate.approval?.question, 'Deploy to staging?');
    assert.equal(waiting.steps.deploy.status, 'pending');
    assert.equal(repo.read('ran.txt'), 'build\n');
    await assert.rejects(controlSession(repo.root, s.id, { type: 'approve', step: 'deploy' }), /not waiting for approval/);
    const sent = await controlSession(repo.root, s.id, { type: 'approve', step: 'gate', by: 'alice' });
    assert.equal(sent.applied, 'sent');
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    assert.equal(r.state.steps.gate.status, 'succeeded');
    assert.equal(r.state.steps.gate.approval?.answer, 'approved');
    assert.equal(r.state.steps.gate.approval?.by, 'alice');
    assert.equal(r.state.steps.deploy.status, 'succeeded');
    assert.equal(repo.read('ran.txt'), 'build\ndeploy\n');
    assertRebuilds(repo, s.id);
  });

  it('reject with a reason → the step fails with the reason and the session fails', async () => {
    const repo = makeRepo(wf);
    const s = await start(repo);
    await waitFor('the session to wait', () => loadSession(repo.root, s.id).state.status === 'waiting');
    await controlSession(repo.root, s.id, { type: 'reject', step: 'gate', by: 'bob', reason: 'not on a Friday' });
    const r = await finish(repo, s);
    const st = r.state;
    assert.equal(st.status, 'failed', JSON.stringify(statuses(st)));
    assert.equal(st.steps.gate.status, 'failed');
    assert.match(st.steps.gate.reason ?? '', /not on a Friday/);
    assert.match(st.steps.gate.reason ?? '', /bob/);
    assert.equal(st.steps.gate.approval?.answer, 'rejected');
    assert.equal(st.steps.gate.approval?.reason, 'not on a Friday');
    assert.match(st.reason ?? '', /gate/);
    assert.notEqual(st.steps.deploy.status, 'succeeded');
    assert.equal(st.steps.deploy.attempt, 0);
    assert.equal(repo.read('ran.txt'), 'build\n');
    assertRebuilds(repo, s.id);
  });
});
