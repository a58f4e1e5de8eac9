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

/**
 * A script that writes its shell's pid, a child's and a grandchild's, then sleeps far longer than
 * any test waits: only a kill ends it (a run that waited for it fails at finish's hang guard).
 */
const SLEEPER = `
      echo $$ > shell.pid
      sleep 300 &
      echo $! > child.pid
      bash -c 'sleep 300 & echo $! > grandchild.pid; wait' &
      wait`;

/** The tree was built (grandchild.pid is written last) and every process of it is gone. */
async function assertTreeGone(repo: ReturnType<typeof makeRepo>): Promise<void> {
  assert.ok(repo.read('grandchild.pid') !== undefined, 'the step was stopped before its tree was built');
  const pids = ['shell.pid', 'child.pid', 'grandchild.pid'].map((f) => pidIn(repo, f));
  // The group is SIGKILLed as the step ends; the kernel needs a moment. (alive(): process.kill(pid, 0)
  // throws ESRCH, or the process is a zombie: dead, but some sandboxes' pid 1 never reaps orphans.)
  await waitFor(`processes ${pids.join(', ')} to be gone`, () => pids.every((p) => !alive(p)));
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
  it('a step over its per-attempt timeout is timed_out and its whole process tree is gone', async () => {
    // The timeout must come after the step built its tree: on a busy machine that can take longer
    // than 300 ms, so the timeout grows until the tree was built in time.
    let repo: ReturnType<typeof makeRepo>;
    let r: Awaited<ReturnType<typeof runToRest>>;
    let ms = 300;
    for (;;) {
      repo = makeRepo(`
name: timeout
steps:
  - id: slow
    timeout: ${ms}ms
    run: |${SLEEPER}
`);
      r = await runToRest(repo);
      if (repo.read('grandchild.pid') !== undefined || ms >= 20_000) break;
      ms *= 4;
    }
    assert.equal(r.state.steps.slow.status, 'timed_out');
    assert.match(r.state.steps.slow.reason ?? '', new RegExp(`timed out after ${ms}ms`));
    assert.equal(r.state.status, 'failed');
    await assertTreeGone(repo);
    assertRebuilds(repo, r.id);
  });
});

describe('deadline', () => {
  it('cancels running steps, ends timed_out, keeps what finished (FakeClock: the deadline passes once the slow step runs)', async () => {
    const clock = new FakeClock();
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
    const s = await start(repo, {}, { clock });
    // `slow` needs `quick`: once slow's tree is built, quick has finished and slow runs.
    await waitFor('the slow step to build its tree', () => repo.read('grandchild.pid') !== undefined);
    await clock.advance(699);
    assert.equal(loadSession(repo.root, s.id).state.status, 'running', 'stopped before the deadline');
    await clock.advance(1);
    const r = await finish(repo, s);
    const st = r.state;
    assert.equal(st.status, 'timed_out', JSON.stringify(statuses(st)));
    assert.match(st.reason ?? '', /deadline/);
    assert.equal(st.steps.quick.status, 'succeeded');
    assert.deepEqual(st.steps.quick.outputs, { done: 'yes' });
    assert.equal(st.steps.slow.status, 'cancelled');
    assert.equal(st.steps.later.status, 'cancelled');
    assert.equal(st.steps.later.attempt, 0);
    assert.ok(!fs.existsSync(repo.path('later-ran')));
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
    await waitFor('step.stuck', () => events(repo, s.id).some((e) => e.type === 'step.stuck'));
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

  it('FakeClock: ::heartbeat:: and output lines are heard (the flag clears, step.heartbeat), a silent step stays flagged', async () => {
    // Each step waits for a marker file from the test before it speaks, so what the runner has
    // heard when the clock moves is certain; step.heartbeat is the runner saying it heard a step again.
    const clock = new FakeClock();
    const repo = makeRepo(`
name: stuck-heard
concurrency: 3
defaults:
  stuck_after: 300ms
steps:
  - id: silent
    run: |
      touch silent.started
      until [ -e release ]; do sleep 0.02; done
  - id: beating
    run: |
      touch beating.started
      until [ -e beat ]; do sleep 0.02; done
      echo "::heartbeat::"
      until [ -e release ]; do sleep 0.02; done
  - id: chatty
    run: |
      touch chatty.started
      until [ -e talk ]; do sleep 0.02; done
      echo "line 1"
      until [ -e release ]; do sleep 0.02; done
`);
    const s = await start(repo, {}, { clock });
    const ids = ['silent', 'beating', 'chatty'];
    await waitFor('the steps to start', () => ids.every((id) => fs.existsSync(repo.path(`${id}.started`))));
    const stuckSteps = (): string[] => events(repo, s.id).filter((e) => e.type === 'step.stuck').map((e) => e.step!).sort();
    const heardSteps = (): string[] => events(repo, s.id).filter((e) => e.type === 'step.heartbeat').map((e) => e.step!).sort();
    await clock.advance(299);
    assert.deepEqual(stuckSteps(), [], 'flagged before stuck_after');
    await clock.advance(1);
    await waitFor('all three flagged', () => stuckSteps().length === 3);
    assert.deepEqual(stuckSteps(), ['beating', 'chatty', 'silent']);
    fs.writeFileSync(repo.path('beat'), '');
    fs.writeFileSync(repo.path('talk'), '');
    await waitFor('beating and chatty heard again', () => heardSteps().length === 2);
    assert.deepEqual(heardSteps(), ['beating', 'chatty']);
    const live = loadSession(repo.root, s.id).state;
    assert.deepEqual(ids.map((id) => [id, live.steps[id].stuck]), [['silent', true], ['beating', false], ['chatty', false]]);
    assert.deepEqual(stuckInSession(live, clock.now()).map((x) => x.step), ['silent']);
    fs.writeFileSync(repo.path('release'), '');
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded');
    assert.deepEqual(stuckSteps(), ['beating', 'chatty', 'silent'], 'each flagged once');
    assert.equal(r.state.steps.silent.stuck, false, 'the flag is cleared when the step ends');
    assert.doesNotMatch(fs.existsSync(r.started.paths.stepLog('beating', 1)) ? fs.readFileSync(r.started.paths.stepLog('beating', 1), 'utf8') : '', /heartbeat/, '::heartbeat:: is not logged');
    assert.equal(fs.readFileSync(r.started.paths.stepLog('chatty', 1), 'utf8'), 'line 1\n');
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
    await waitFor('step.stuck', () => events(repo, s.id).some((e) => e.type === 'step.stuck' && e.step === 'gate'));
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
