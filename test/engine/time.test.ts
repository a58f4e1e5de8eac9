/**
 * Time: retries with backoff, per-attempt timeouts, the session deadline, stuck steps and stale
 * approvals.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { FakeClock } from '../../server/src/engine/clock';
import { controlSession } from '../../server/src/engine/sessions';
import { stuckInSession } from '../../server/src/engine/stuck';
import { loadSession } from '../../server/src/store/sessionStore';
import { alive, assertRebuilds, cleanupRepos, events, finish, makeRepo, pidIn, runToRest, start, statuses, waitFor } from './helpers';

after(cleanupRepos);

/** A script that writes its shell's pid, a child's and a grandchild's, then sleeps. */
const SLEEPER = `
      echo $$ > shell.pid
      sleep 30 &
      echo $! > child.pid
      bash -c 'sleep 30 & echo $! > grandchild.pid; wait' &
      wait`;

async function assertTreeGone(repo: ReturnType<typeof makeRepo>): Promise<void> {
  await waitFor('grandchild.pid', () => repo.read('grandchild.pid') !== undefined, 2000);
  const pids = ['shell.pid', 'child.pid', 'grandchild.pid'].map((f) => pidIn(repo, f));
  // The group is SIGKILLed as the step ends; the kernel needs a moment. (alive(): process.kill(pid, 0)
  // throws ESRCH, or the process is a zombie: dead, but some sandboxes' pid 1 never reaps orphans.)
  await waitFor(`processes ${pids.join(', ')} to be gone`, () => pids.every((p) => !alive(p)), 2000);
}

describe('retry', () => {
  it('a step that fails twice then succeeds: succeeded at attempt 3, after waits of 100 and 200 ms', async () => {
    const repo = makeRepo(`
name: retry
steps:
  - id: flaky
    retry: { max_attempts: 3, backoff: 100ms, factor: 2 }
    run: |
      n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
      echo $n > count
      echo "attempt $n at $(date +%s%3N)" >> attempts.txt
      echo "attempt $ORCHESTRATOR_ATTEMPT"
      [ $n -ge 3 ]
  - id: after
    needs: flaky
    run: echo after >> attempts.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'succeeded', `${st.reason ?? ''} ${JSON.stringify(statuses(st))}`);
    assert.equal(st.steps.flaky.status, 'succeeded');
    assert.equal(st.steps.flaky.attempt, 3);
    assert.equal(repo.read('count'), '3\n');
    const evs = events(repo, r.id);
    const retrying = evs.filter((e) => e.type === 'step.retrying' && e.step === 'flaky');
    assert.deepEqual(
      retrying.map((e) => [e.attempt, (e.data as { delayMs: number }).delayMs]),
      [
        [1, 100],
        [2, 200],
      ],
    );
    assert.deepEqual(
      evs.filter((e) => e.type === 'step.started' && e.step === 'flaky').map((e) => e.attempt),
      [1, 2, 3],
    );
    // The waits really happened, between the attempts.
    const at = (repo.read('attempts.txt') ?? '').split('\n').filter((l) => l.startsWith('attempt')).map((l) => Number(l.split(' ')[3]));
    assert.equal(at.length, 3);
    assert.ok(at[1] - at[0] >= 100, `second attempt ${at[1] - at[0]} ms after the first`);
    assert.ok(at[2] - at[1] >= 200, `third attempt ${at[2] - at[1]} ms after the second`);
    assert.equal((repo.read('attempts.txt') ?? '').split('\n').filter((l) => l === 'after').length, 1);
    // One log per attempt.
    for (const n of [1, 2, 3]) assert.match(fs.readFileSync(r.started.paths.stepLog('flaky', n), 'utf8'), new RegExp(`^attempt ${n}$`, 'm'));
    assertRebuilds(repo, r.id);
  });

  it('a step that always fails: failed after max_attempts', async () => {
    const repo = makeRepo(`
name: retry-fail
steps:
  - id: broken
    retry: { max_attempts: 3, backoff: 50ms, factor: 3, max_backoff: 100ms }
    run: |
      echo x >> runs.txt
      exit 4
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'failed');
    assert.equal(r.state.steps.broken.status, 'failed');
    assert.equal(r.state.steps.broken.attempt, 3);
    assert.equal(r.state.steps.broken.exitCode, 4);
    assert.equal((repo.read('runs.txt') ?? '').split('\n').filter(Boolean).length, 3);
    const delays = events(repo, r.id)
      .filter((e) => e.type === 'step.retrying')
      .map((e) => (e.data as { delayMs: number }).delayMs);
    assert.deepEqual(delays, [50, 100], 'the second wait is capped by max_backoff (50 × 3 > 100)');
  });

  it('with a FakeClock the runner waits for the clock between attempts', async () => {
    const clock = new FakeClock();
    const repo = makeRepo(`
name: retry-fake
steps:
  - id: flaky
    retry: { max_attempts: 2, backoff: 10m }
    run: |
      n=$(( $(cat count 2>/dev/null || echo 0) + 1 ))
      echo $n > count
      [ $n -ge 2 ]
`);
    const s = await start(repo, {}, { clock });
    await waitFor('the first attempt to fail', () => events(repo, s.id).some((e) => e.type === 'step.retrying'));
    assert.equal((events(repo, s.id).find((e) => e.type === 'step.retrying')?.data as { delayMs: number }).delayMs, 600_000);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(repo.read('count'), '1\n', 'the retry did not wait for its backoff');
    await clock.advance(599_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(repo.read('count'), '1\n', 'the retry came before its backoff ended');
    await clock.advance(1_000);
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded');
    assert.equal(r.state.steps.flaky.attempt, 2);
  });
});

describe('timeout', () => {
  it('a step over its per-attempt timeout is timed_out quickly and its whole process tree is gone', async () => {
    const repo = makeRepo(`
name: timeout
steps:
  - id: slow
    timeout: 300ms
    run: |${SLEEPER}
`);
    const t0 = Date.now();
    const r = await runToRest(repo);
    const elapsed = Date.now() - t0;
    assert.equal(r.state.steps.slow.status, 'timed_out');
    assert.match(r.state.steps.slow.reason ?? '', /timed out after 300ms/);
    assert.equal(r.state.status, 'failed');
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    await assertTreeGone(repo);
    assertRebuilds(repo, r.id);
  });
});

describe('deadline', () => {
  it('cancels running steps, ends timed_out, keeps what finished', async () => {
    const repo = makeRepo(`
name: deadline
deadline: 700ms
concurrency: 4
steps:
  - id: quick
    run: echo "done=yes" >> "$ORCHESTRATOR_OUTPUT"
  - id: slow
    needs: quick
    run: |${SLEEPER}
  - id: later
    needs: slow
    run: touch later-ran
`);
    const t0 = Date.now();
    const r = await runToRest(repo);
    const elapsed = Date.now() - t0;
    const st = r.state;
    assert.equal(st.status, 'timed_out', JSON.stringify(statuses(st)));
    assert.match(st.reason ?? '', /deadline/);
    assert.equal(st.steps.quick.status, 'succeeded');
    assert.deepEqual(st.steps.quick.outputs, { done: 'yes' });
    assert.equal(st.steps.slow.status, 'cancelled');
    assert.equal(st.steps.later.status, 'cancelled');
    assert.equal(st.steps.later.attempt, 0);
    assert.ok(!fs.existsSync(repo.path('later-ran')));
    assert.ok(elapsed >= 650 && elapsed < 10_000, `took ${elapsed} ms`);
    await assertTreeGone(repo);
  });
});

describe('stuck', () => {
  it('FakeClock: a silent step is flagged once the clock passes stuck_after, and it keeps running', async () => {
    const clock = new FakeClock();
    const repo = makeRepo(`
name: stuck-fake
steps:
  - id: silent
    stuck_after: 10s
    run: |
      touch started
      while [ ! -e release ]; do sleep 0.02; done
      echo finished
`);
    const s = await start(repo, {}, { clock });
    await waitFor('the step to start', () => fs.existsSync(repo.path('started')));
    await clock.advance(9_000);
    assert.ok(!events(repo, s.id).some((e) => e.type === 'step.stuck'), 'flagged before stuck_after');
    await clock.advance(2_000);
    await waitFor('step.stuck', () => events(repo, s.id).some((e) => e.type === 'step.stuck'), 2000);
    const stuck = events(repo, s.id).find((e) => e.type === 'step.stuck')!;
    assert.equal(stuck.step, 'silent');
    assert.ok((stuck.data as { silentMs: number }).silentMs >= 10_000);
    const live = loadSession(repo.root, s.id);
    assert.equal(live.state.steps.silent.status, 'running');
    assert.equal(live.state.steps.silent.stuck, true);
    assert.deepEqual(
      stuckInSession(live.state, clock.now()).map((x) => [x.step, x.kind]),
      [['silent', 'silent']],
    );
    fs.writeFileSync(repo.path('release'), '');
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded');
    assert.equal(r.state.steps.silent.stuck, false);
    assert.equal(events(repo, s.id).filter((e) => e.type === 'step.stuck').length, 1);
    assertRebuilds(repo, s.id);
  });

  it('real clock: a step silent for 1 s is flagged, one printing ::heartbeat:: every 100 ms is not', async () => {
    const repo = makeRepo(`
name: stuck-real
concurrency: 2
defaults:
  stuck_after: 300ms
steps:
  - id: silent
    run: sleep 1
  - id: beating
    run: |
      for i in $(seq 1 10); do echo "::heartbeat::"; sleep 0.1; done
  - id: chatty
    needs: [silent, beating]
    run: |
      for i in $(seq 1 8); do echo "line $i"; sleep 0.1; done
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded');
    const flagged = events(repo, r.id).filter((e) => e.type === 'step.stuck').map((e) => e.step);
    assert.deepEqual(flagged, ['silent']);
    assert.equal(r.state.steps.silent.stuck, false, 'the flag is cleared when the step ends');
    assertRebuilds(repo, r.id);
  });

  it('an approval waiting longer than stuck_after is flagged', async () => {
    const repo = makeRepo(`
name: stale-approval
steps:
  - id: gate
    approval: Go?
    stuck_after: 300ms
`);
    const s = await start(repo);
    await waitFor('the session to wait', () => loadSession(repo.root, s.id).state.status === 'waiting');
    assert.deepEqual(stuckInSession(loadSession(repo.root, s.id).state), []);
    await waitFor('step.stuck', () => events(repo, s.id).some((e) => e.type === 'step.stuck' && e.step === 'gate'), 3000);
    const live = loadSession(repo.root, s.id).state;
    assert.equal(live.status, 'waiting');
    assert.deepEqual(
      stuckInSession(live).map((x) => [x.step, x.kind]),
      [['gate', 'approval']],
    );
    await controlSession(repo.root, s.id, { type: 'approve', step: 'gate' });
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded');
    assertRebuilds(repo, s.id);
  });
});
