/**
 * The scheduler (runner.ts): needs, concurrency, `if` conditions, matrix fan-out, on_error.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { SessionEvent, StepState } from '../../server/src/engine/types';
import { assertRebuilds, cleanupRepos, events, finish, linesOf, makeRepo, runToRest, start, statuses, waitFor, type Repo } from './helpers';

after(cleanupRepos);

/** `start <id> <ms>` / `end <id> <ms>` lines written by the steps, as intervals. */
function intervals(repo: Repo, file: string): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  for (const line of linesOf(repo, file)) {
    const [kind, id, ms] = line.split(' ');
    const cur = out.get(id) ?? { start: NaN, end: NaN };
    if (kind === 'start') cur.start = Number(ms);
    else if (kind === 'end') cur.end = Number(ms);
    out.set(id, cur);
  }
  for (const [id, iv] of out) assert.ok(Number.isFinite(iv.start) && Number.isFinite(iv.end), `step ${id} wrote no start or no end: ${JSON.stringify(iv)}`);
  return out;
}

/** Most intervals open at once (an end and a start at the same ms do not overlap). */
function maxOverlap(ivs: Iterable<{ start: number; end: number }>): number {
  const points: [number, number][] = [];
  for (const iv of ivs) points.push([iv.start, 1], [iv.end, -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (open += d));
  return max;
}

/**
 * A step that a failure kept from starting: it never started, and it is left for a resume to run
 * (`pending`, or `cancelled` with a "not started" reason so that always() steps after it can run).
 */
function assertNotStarted(s: StepState, evs: SessionEvent[]): void {
  assert.equal(s.attempt, 0, `${s.id} started`);
  assert.ok(!evs.some((e) => e.type === 'step.started' && e.step === s.id), `${s.id} has a step.started event`);
  if (s.status === 'cancelled') assert.match(s.reason ?? '', /^not started/);
  else assert.equal(s.status, 'pending', `${s.id} is ${s.status}`);
}

const timed = (id: string, body: string): string => `
  - id: ${id}
    run: |
      echo "start ${id} $(date +%s%3N)" >> times.txt
      ${body}
      echo "end ${id} $(date +%s%3N)" >> times.txt`;

describe('needs and concurrency', () => {
  it('runs independent steps in parallel up to `concurrency`, never more, and dependents after their needs', async () => {
    const repo = makeRepo(`
name: parallel
concurrency: 2
steps:
${['a', 'b', 'c', 'd'].map((id) => timed(id, `until [ -e go-${id} ]; do sleep 0.01; done`)).join('')}
  - id: last
    needs: [a, b, c, d]
    run: |
      echo "start last $(date +%s%3N)" >> times.txt
      echo "end last $(date +%s%3N)" >> times.txt
`);
    // Each of a..d runs until the test lets it go (go-<id>), and the test lets one go only once
    // two run: so two always run side by side, and a third start would overlap them.
    const s = await start(repo);
    const startedIds = (): string[] => linesOf(repo, 'times.txt').filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1]);
    const released: string[] = [];
    while (released.length < 4) {
      const running = Math.min(2, 4 - released.length);
      await waitFor(`${running} of a..d to run`, () => startedIds().length - released.length >= running);
      const next = startedIds().find((id) => !released.includes(id))!;
      fs.writeFileSync(repo.path(`go-${next}`), '');
      released.push(next);
    }
    const r = await finish(repo, s);
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    for (const id of ['a', 'b', 'c', 'd', 'last']) assert.equal(r.state.steps[id].status, 'succeeded');
    const iv = intervals(repo, 'times.txt');
    assert.deepEqual([...iv.keys()].sort(), ['a', 'b', 'c', 'd', 'last']);
    const four = ['a', 'b', 'c', 'd'].map((id) => iv.get(id)!);
    assert.equal(maxOverlap(four), 2, `expected exactly 2 steps at once: ${JSON.stringify(Object.fromEntries(iv))}`);
    const lastStart = iv.get('last')!.start;
    for (const x of four) assert.ok(lastStart >= x.end, 'last started before a step it needs ended');
  });

  it('with concurrency 1 runs one step at a time, in needs order', async () => {
    const repo = makeRepo(`
name: serial
concurrency: 1
steps:
${timed('a', 'sleep 0.05')}
${timed('b', 'sleep 0.05')}
    needs: c
${timed('c', 'sleep 0.05')}
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded');
    const iv = intervals(repo, 'times.txt');
    assert.equal(maxOverlap(iv.values()), 1);
    assert.ok(iv.get('b')!.start >= iv.get('c')!.end, 'b ran before the step it needs');
  });
});

describe('if', () => {
  it('success(), failure(), always(), false conditions, inputs and step outputs', async () => {
    const repo = makeRepo(`
name: conditions
inputs:
  mode: { default: fast }
concurrency: 4
steps:
  - id: a
    run: |
      echo a >> ran.txt
      echo "flag=yes" >> "$ORCHESTRATOR_OUTPUT"
  - id: on_success
    needs: a
    if: success()
    run: echo on_success >> ran.txt
  - id: on_failure
    needs: a
    if: failure()
    run: echo on_failure >> ran.txt
  - id: on_always
    needs: a
    if: always()
    run: echo on_always >> ran.txt
  - id: slow_only
    needs: a
    if: inputs.mode == 'slow'
    run: echo slow_only >> ran.txt
  - id: fast_only
    if: \${{ inputs.mode == 'fast' }}
    run: echo fast_only >> ran.txt
  - id: after_skipped
    needs: slow_only
    run: echo after_skipped >> ran.txt
  - id: after_skipped_always
    needs: slow_only
    if: always()
    run: echo after_skipped_always >> ran.txt
  - id: flag_yes
    needs: a
    if: steps.a.outputs.flag == 'yes'
    run: echo flag_yes >> ran.txt
  - id: flag_no
    needs: a
    if: steps.a.outputs.flag == 'no'
    run: echo flag_no >> ran.txt
  - id: status_check
    needs: [a, slow_only]
    if: always() && steps.a.status == 'succeeded' && steps.slow_only.status == 'skipped'
    run: echo status_check >> ran.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'succeeded', JSON.stringify(statuses(st)));
    assert.deepEqual(statuses(st), {
      a: 'succeeded',
      on_success: 'succeeded',
      on_failure: 'skipped',
      on_always: 'succeeded',
      slow_only: 'skipped',
      fast_only: 'succeeded',
      after_skipped: 'skipped',
      after_skipped_always: 'succeeded',
      flag_yes: 'succeeded',
      flag_no: 'skipped',
      status_check: 'succeeded',
    });
    assert.deepEqual(linesOf(repo, 'ran.txt').sort(), ['a', 'after_skipped_always', 'fast_only', 'flag_yes', 'on_always', 'on_success', 'status_check'].sort());
    assert.match(st.steps.slow_only.reason ?? '', /condition is false/);
    assert.match(st.steps.after_skipped.reason ?? '', /did not succeed/);
    // A skipped step never started: no attempt, no log.
    assert.equal(st.steps.slow_only.attempt, 0);
    assert.ok(!events(repo, r.id).some((e) => e.type === 'step.started' && e.step === 'slow_only'));
  });

  it('a skipped step listed after its dependents still counts as done for them', async () => {
    const repo = makeRepo(`
name: skipped-later-in-file
inputs:
  mode: { default: fast }
steps:
  - id: y
    needs: x
    if: always()
    run: echo y >> ran.txt
  - id: z
    needs: x
    run: echo z >> ran.txt
  - id: x
    if: inputs.mode == 'slow'
    run: echo x >> ran.txt
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded', `${r.state.reason ?? ''} ${JSON.stringify(statuses(r.state))}`);
    assert.deepEqual(statuses(r.state), { y: 'succeeded', z: 'skipped', x: 'skipped' });
    assert.deepEqual(linesOf(repo, 'ran.txt'), ['y']);
  });

  it('after a failure: failure() and always() run, success() and plain dependents do not', async () => {
    const repo = makeRepo(`
name: failing
concurrency: 4
steps:
  - id: a
    run: |
      echo a >> ran.txt
      exit 3
  - id: on_failure
    needs: a
    if: failure()
    run: echo on_failure >> ran.txt
  - id: on_always
    needs: a
    if: always()
    run: echo on_always >> ran.txt
  - id: on_success
    needs: a
    if: success()
    run: echo on_success >> ran.txt
  - id: plain
    needs: a
    run: echo plain >> ran.txt
  - id: notify
    needs: plain
    if: failure()
    run: echo notify >> ran.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'failed');
    assert.equal(st.steps.a.status, 'failed');
    assert.equal(st.steps.a.exitCode, 3);
    assert.equal(st.steps.on_failure.status, 'succeeded');
    assert.equal(st.steps.on_always.status, 'succeeded');
    for (const id of ['on_success', 'plain']) assertNotStarted(st.steps[id], events(repo, r.id));
    assert.equal(st.steps.notify.status, 'succeeded', 'failure() sees a failure further upstream');
    assert.deepEqual(linesOf(repo, 'ran.txt').sort(), ['a', 'notify', 'on_always', 'on_failure']);
    assert.match(st.reason ?? '', /\ba\b/);
  });
});

describe('matrix', () => {
  it('fans out one instance per value, passes matrix.X to the script, and dependents wait for every instance', async () => {
    const repo = makeRepo(`
name: matrix
concurrency: 4
steps:
  - id: t
    matrix:
      os: [a, b]
    run: |
      echo "start t-\${{ matrix.os }} $(date +%s%3N)" >> times.txt
      # Both instances run before either ends; b then waits until the test lets it go.
      until [ "$(grep -c '^start t-' times.txt)" -ge 2 ]; do sleep 0.01; done
      if [ "\${{ matrix.os }}" = b ]; then until [ -e release-b ]; do sleep 0.01; done; fi
      echo "os is \${{ matrix.os }}"
      echo "seen=\${{ matrix.os }}" >> "$ORCHESTRATOR_OUTPUT"
      echo "end t-\${{ matrix.os }} $(date +%s%3N)" >> times.txt
  - id: after
    needs: t
    run: |
      echo "start after $(date +%s%3N)" >> times.txt
      echo "t was \${{ steps.t.status }}" > after.txt
      echo "end after $(date +%s%3N)" >> times.txt
`);
    const s = await start(repo);
    // The slow instance (b) goes on only once the runner has seen a finish.
    await waitFor('t[os=a] to finish', () => events(repo, s.id).some((e) => e.type === 'step.finished' && e.step === 't[os=a]'));
    fs.writeFileSync(repo.path('release-b'), '');
    const r = await finish(repo, s);
    const st = r.state;
    assert.equal(st.status, 'succeeded', JSON.stringify(statuses(st)));
    assert.deepEqual(st.order, ['t[os=a]', 't[os=b]', 'after']);
    for (const id of ['t[os=a]', 't[os=b]']) {
      assert.equal(st.steps[id].stepId, 't');
      assert.equal(st.steps[id].status, 'succeeded');
    }
    assert.equal(st.steps['t[os=a]'].outputs.seen, 'a');
    assert.equal(st.steps['t[os=b]'].outputs.seen, 'b');
    const iv = intervals(repo, 'times.txt');
    assert.deepEqual([...iv.keys()].sort(), ['after', 't-a', 't-b']);
    assert.ok(iv.get('after')!.start >= iv.get('t-b')!.end, 'after started before the slow instance ended');
    assert.ok(iv.get('after')!.start >= iv.get('t-a')!.end);
    assert.ok(iv.get('t-b')!.start < iv.get('t-a')!.end, 'the instances did not run side by side');
    assert.equal(repo.read('after.txt'), 't was succeeded\n');
    // Each instance has its own log, with its own matrix value.
    assert.match(fs.readFileSync(r.started.paths.stepLog('t[os=a]', 1), 'utf8'), /^os is a$/m);
    assert.match(fs.readFileSync(r.started.paths.stepLog('t[os=b]', 1), 'utf8'), /^os is b$/m);
    assertRebuilds(repo, r.id);
  });
});

describe('on_error', () => {
  it('fail: no new steps, running ones finish, blocked steps do not run, always() still runs, the session fails', async () => {
    const repo = makeRepo(`
name: on-error-fail
concurrency: 4
steps:
  - id: slow
    run: |
      # Runs until the runner has recorded bad's failure (its step.finished is in the log).
      until grep '"type":"step.finished"' ".orchestrator/sessions/$ORCHESTRATOR_SESSION_ID/log.jsonl" | grep -q '"step":"bad"'; do sleep 0.01; done
      echo slow >> ran.txt
  - id: bad
    run: |
      echo bad >> ran.txt
      exit 1
  - id: after_bad
    needs: bad
    run: echo after_bad >> ran.txt
  - id: after_slow
    needs: slow
    run: echo after_slow >> ran.txt
  - id: cleanup
    needs: [slow, bad]
    if: always()
    run: echo cleanup >> ran.txt
  - id: after_always
    needs: [cleanup, after_bad]
    if: always()
    run: echo after_always >> ran.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'failed', JSON.stringify(statuses(st)));
    assert.equal(st.steps.slow.status, 'succeeded');
    assert.equal(st.steps.bad.status, 'failed');
    assert.equal(st.steps.cleanup.status, 'succeeded');
    assert.equal(st.steps.after_always.status, 'succeeded', 'an always() step after a step that never started still runs');
    // Steps the failure kept from starting never ran; they are left for a resume.
    for (const id of ['after_bad', 'after_slow']) assertNotStarted(st.steps[id], events(repo, r.id));
    assert.deepEqual(linesOf(repo, 'ran.txt'), ['bad', 'slow', 'cleanup', 'after_always']);
    assert.match(st.reason ?? '', /step bad failed/);
    // The session ends only once the running step has ended.
    const evs = events(repo, r.id);
    const slowEnd = evs.findIndex((e) => e.type === 'step.finished' && e.step === 'slow');
    const end = evs.findIndex((e) => e.type === 'session.finished');
    assert.ok(slowEnd !== -1 && slowEnd < end);
    assert.equal(evs.filter((e) => e.type === 'session.finished').length, 1);
    assertRebuilds(repo, r.id);
  });

  it('continue: dependents run and the session succeeds', async () => {
    const repo = makeRepo(`
name: on-error-continue
steps:
  - id: bad
    on_error: continue
    run: |
      echo bad >> ran.txt
      exit 7
  - id: after_bad
    needs: bad
    run: echo after_bad >> ran.txt
  - id: fine
    run: echo fine >> ran.txt
`);
    const r = await runToRest(repo);
    const st = r.state;
    assert.equal(st.status, 'succeeded', JSON.stringify(statuses(st)));
    assert.equal(st.steps.bad.status, 'failed');
    assert.equal(st.steps.bad.exitCode, 7);
    assert.equal(st.steps.after_bad.status, 'succeeded');
    assert.deepEqual(linesOf(repo, 'ran.txt').sort(), ['after_bad', 'bad', 'fine']);
  });

  it('defaults.on_error: continue applies to every step', async () => {
    const repo = makeRepo(`
name: default-continue
defaults:
  on_error: continue
steps:
  - id: bad
    run: exit 1
  - id: after_bad
    needs: bad
    run: echo after_bad >> ran.txt
`);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded');
    assert.equal(r.state.steps.bad.status, 'failed');
    assert.deepEqual(linesOf(repo, 'ran.txt'), ['after_bad']);
  });
});
