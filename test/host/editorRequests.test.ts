/**
 * The host's editor requests (docs/protocol.md): a session's graph and the plan's graph, live step
 * logs (followLog / logAppended / unfollowLog), delete (and sessionRemoved, also for deletes from
 * outside the host), export and import, and the runners' defaults from
 * `initializationOptions.defaults`. Against the REAL built host (`node server/out/server.js
 * --stdio`) on throw-away repositories, with real detached runners and real bash steps. Every
 * wait has a deadline and waits on what the host pushes; nothing sleeps blindly.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  CancelSessionRequest,
  DeleteSessionRequest,
  ExportSessionRequest,
  FollowLogRequest,
  GetSessionRequest,
  ImportSessionRequest,
  ListSessionsRequest,
  PlanRequest,
  RetryStepRequest,
  SessionGraphRequest,
  StartSessionRequest,
  UnfollowLogRequest,
  type GraphDto,
  type LogText,
  type SessionDetail,
  type SessionSummary,
} from '../../server/src/protocol';
import { sessionPaths } from '../../server/src/store/sessionStore';
import { cliEnv, killTrees, makeRepo, processesWithEnv, runCli, sessionFolders, waitFor } from '../cli/cliProcess';
import { SERVER_JS } from './lspClient';
import { SessionsClient } from './sessionClient';

const WORKFLOWS: Record<string, string> = {
  // Every status a finished session can show: succeeded (also matrix instances), failed (with
  // on_error: continue, so that the session goes on), skipped.
  'shapes.workflow.yaml': `name: shapes
steps:
  - id: root
    name: The root
    run: |
      sleep 0.3
      echo root
      echo "word=root" >> "$ORCHESTRATOR_OUTPUT"
  - id: fan
    needs: root
    matrix:
      n: [1, 2]
    run: echo "fan \${{ matrix.n }}"
  - id: broken
    needs: root
    on_error: continue
    run: |
      echo "about to fail" >&2
      exit 3
  - id: off
    needs: root
    if: false
    run: echo never
  - id: join
    needs: [fan, broken]
    run: echo join
`,
  // Ten lines: the first, then (once the test creates go-<session>) nine more over about a second.
  'talk.workflow.yaml': `name: talk
steps:
  - id: talk
    run: |
      echo "talk line 1"
      until [ -e "go-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
      for i in 2 3 4 5 6 7 8 9 10; do echo "talk line $i"; sleep 0.1; done
`,
  // The followed step starts after another one, which waits for the test to create go-<session>.
  'later.workflow.yaml': `name: later
steps:
  - id: warmup
    run: |
      while [ ! -e "go-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
  - id: talk
    needs: warmup
    run: |
      for i in 1 2 3 4 5; do echo "later line $i"; sleep 0.1; done
`,
  // Attempt 1 hangs until retried; attempt 2 prints and ends.
  'retrylog.workflow.yaml': `name: retrylog
steps:
  - id: slow
    run: |
      echo "attempt $ORCHESTRATOR_ATTEMPT begins"
      if [ "$ORCHESTRATOR_ATTEMPT" = 1 ]; then sleep 300; fi
      for i in 1 2 3; do echo "attempt $ORCHESTRATOR_ATTEMPT line $i"; sleep 0.1; done
`,
  // A retry policy: attempt 1 fails once the test creates go-<session>, attempt 2 succeeds.
  'policy.workflow.yaml': `name: policy
steps:
  - id: flaky
    retry: { max_attempts: 2, backoff: 200ms }
    run: |
      echo "try $ORCHESTRATOR_ATTEMPT"
      if [ "$ORCHESTRATOR_ATTEMPT" = 1 ]; then until [ -e "go-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done; echo "giving up"; exit 1; fi
      sleep 0.2
      echo "recovered"
`,
  // Two steps printing at once, in stages the test opens: go-<session>-a1, -a2, -b.
  'pair.workflow.yaml': `name: pair
concurrency: 2
steps:
  - id: a
    run: |
      echo "a line 1"
      until [ -e "go-$ORCHESTRATOR_SESSION_ID-a1" ]; do sleep 0.01; done
      for i in 2 3 4 5; do echo "a line $i"; sleep 0.05; done
      until [ -e "go-$ORCHESTRATOR_SESSION_ID-a2" ]; do sleep 0.01; done
      for i in $(seq 6 15); do echo "a line $i"; sleep 0.05; done
  - id: b
    run: |
      echo "b line 1"
      until [ -e "go-$ORCHESTRATOR_SESSION_ID-b" ]; do sleep 0.01; done
      for i in $(seq 2 15); do echo "b line $i"; sleep 0.05; done
`,
  // Much output, fast, for about a second.
  'flood.workflow.yaml': `name: flood
steps:
  - id: flood
    run: |
      for i in $(seq 1 40); do for j in $(seq 1 100); do echo "chunk $i line $j"; done; sleep 0.02; done
`,
  'long.workflow.yaml': `name: long
steps:
  - id: long
    run: sleep 300
`,
};

/** For the host with `initializationOptions.defaults`. */
const DEFAULTS_WORKFLOWS: Record<string, string> = {
  'two.workflow.yaml': `name: two
steps:
  - id: first
    run: sleep 0.5
  - id: second
    run: sleep 0.5
`,
  // Each step runs until both have started: they end only if they run side by side.
  'two-own.workflow.yaml': `name: two-own
concurrency: 2
steps:
  - id: first
    run: |
      touch "$ORCHESTRATOR_SESSION_ID-first.started"
      until [ -e "$ORCHESTRATOR_SESSION_ID-first.started" ] && [ -e "$ORCHESTRATOR_SESSION_ID-second.started" ]; do sleep 0.01; done
  - id: second
    run: |
      touch "$ORCHESTRATOR_SESSION_ID-second.started"
      until [ -e "$ORCHESTRATOR_SESSION_ID-first.started" ] && [ -e "$ORCHESTRATOR_SESSION_ID-second.started" ]; do sleep 0.01; done
`,
  'silent.workflow.yaml': `name: silent
steps:
  - id: quiet
    run: until [ -e "go-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
`,
};

const main = makeRepo('orch-host-editor');
const other = makeRepo('orch-host-editor-import');
const third = makeRepo('orch-host-editor-defaults');
const snapshots = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-host-editor-snapshots-'));
const root = main.root;
const uriOf = (name: string, repoRoot = root): string => pathToFileURL(path.join(repoRoot, name)).href;
const isAtRest = (s: string): boolean => s !== 'running' && s !== 'waiting';
const cliIn = (repoRoot: string, home: string, ...args: string[]) => runCli(args, { cwd: repoRoot, env: cliEnv(home), timeoutMs: 60_000 });
const cli = (...args: string[]) => cliIn(root, main.home, ...args);

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

const stepLog = (id: string, step: string, attempt: number, repoRoot = root): string => sessionPaths(repoRoot, id).stepLog(step, attempt);

/** Creates go-<session><suffix>: the gated steps above wait for it. */
function go(id: string, suffix = '', repoRoot = root): void {
  fs.writeFileSync(path.join(repoRoot, `go-${id}${suffix}`), '');
}

/** What an editor following (id, step) shows: the follow's answer, then the logAppended notifications from `from` on. */
function followed(host: SessionsClient, answer: LogText, from: number): { text: string; attempt: number; notes: number; resets: number } {
  let text = answer.text;
  let attempt = answer.attempt;
  let resets = 0;
  const notes = host.logsOf(answer.id, answer.step, from);
  for (const n of notes) {
    if (n.reset) {
      resets++;
      text = n.text;
      attempt = n.attempt;
    } else {
      assert.equal(n.attempt, attempt, `an append for attempt ${n.attempt} while showing attempt ${attempt}: ${JSON.stringify(notes)}`);
      text += n.text;
    }
  }
  return { text, attempt, notes: notes.length, resets };
}

/** Where two texts differ, in words (for failure messages: logs are long). */
function difference(shown: string, file: string): string {
  let i = 0;
  while (i < shown.length && i < file.length && shown[i] === file[i]) i++;
  return `shows ${shown.length} chars, the file holds ${file.length}; they differ from offset ${i}: shown ${JSON.stringify(shown.slice(i, i + 80))}, file ${JSON.stringify(file.slice(i, i + 80))}`;
}

/** Waits until what the editor shows of (id, step) equals the step log of `attempt` on disk. */
async function showsLog(host: SessionsClient, answer: LogText, from: number, attempt: number): Promise<ReturnType<typeof followed>> {
  const file = stepLog(answer.id, answer.step, attempt);
  return host.until(
    () => {
      const f = followed(host, answer, from);
      return f.attempt === attempt && f.text === readOr(file, '\u0000missing') ? f : undefined;
    },
    () => {
      const f = followed(host, answer, from);
      return `the followed text of ${answer.step} (attempt ${f.attempt}, ${f.notes} notifications, ${f.resets} resets) to equal ${file} (attempt ${attempt}): ${difference(f.text, readOr(file, '(missing)'))}`;
    },
  );
}

async function startAndFinish(host: SessionsClient, file: string): Promise<{ id: string; end: SessionSummary }> {
  const from = host.mark();
  const { id } = await host.request(StartSessionRequest, { uri: uriOf(file), inputs: {} });
  go(id);
  const end = await host.waitForChange(id, (s) => isAtRest(s.status), 'comes to rest', { from });
  await waitFor(async () => !(await host.request(GetSessionRequest, { id })).owner, `the runner of ${id} to let go of it`, 60_000, 20);
  return { id, end };
}

async function waitForStepRunning(host: SessionsClient, id: string, step: string): Promise<SessionDetail> {
  return waitFor(async () => {
    const d = await host.request(GetSessionRequest, { id });
    return d.steps[step]?.status === 'running' ? d : undefined;
  }, `step ${step} of ${id} to run`, 60_000, 20);
}

/** Waits until the step's log file of `attempt` holds some output. */
async function printed(id: string, step: string, attempt: number, what = ''): Promise<void> {
  await waitFor(() => readOr(stepLog(id, step, attempt)).includes(what) && readOr(stepLog(id, step, attempt)).length > 0, `${step} attempt ${attempt} of ${id} to print ${JSON.stringify(what)}`, 60_000, 20);
}

function edgesOf(g: GraphDto): string[] {
  return g.edges.map((e) => `${e.from} -> ${e.to}`).sort();
}

before(() => {
  assert.ok(fs.existsSync(SERVER_JS), 'run npm run build first');
  for (const [name, text] of Object.entries(WORKFLOWS)) fs.writeFileSync(path.join(root, name), text);
  for (const [name, text] of Object.entries(DEFAULTS_WORKFLOWS)) fs.writeFileSync(path.join(third.root, name), text);
});

after(async () => {
  // Stop any runner a failed test left behind, then clean up.
  for (const repo of [main, other, third]) {
    const r = await cliIn(repo.root, repo.home, 'list', '--json').catch(() => undefined);
    if (r?.code === 0) {
      for (const s of JSON.parse(r.stdout) as SessionSummary[]) if (!isAtRest(s.status)) await cliIn(repo.root, repo.home, 'cancel', s.id).catch(() => undefined);
    }
  }
  for (const d of [main.root, other.root, third.root, snapshots]) fs.rmSync(d, { recursive: true, force: true });
});

describe('host editor requests', () => {
  let host: SessionsClient;
  before(async () => {
    host = await SessionsClient.start(root, { env: { HOME: main.home } });
  });
  after(async () => {
    await host.stop();
  });

  let shapesId = '';
  let shapesDetail: SessionDetail | undefined;

  describe('graphs', () => {
    it('the graph of a finished session: a node per step instance with its status, an edge per need', async () => {
      const { id, end } = await startAndFinish(host, 'shapes.workflow.yaml');
      shapesId = id;
      assert.equal(end.status, 'succeeded', `on_error: continue lets the session succeed: ${JSON.stringify(end)}`);
      const d = await host.request(GetSessionRequest, { id });
      shapesDetail = d;
      const g = await host.request(SessionGraphRequest, { id });

      const byId = new Map(g.nodes.map((n) => [n.id, n]));
      assert.deepEqual([...byId.keys()].sort(), [...d.order].sort(), 'one node per step instance');
      assert.equal(g.nodes.length, d.order.length, 'no duplicate nodes');
      assert.deepEqual(
        Object.fromEntries(d.order.map((s) => [s, byId.get(s)?.status])),
        { root: 'succeeded', 'fan[n=1]': 'succeeded', 'fan[n=2]': 'succeeded', broken: 'failed', off: 'skipped', join: 'succeeded' },
      );
      for (const s of d.order) {
        const n = byId.get(s)!;
        assert.equal(n.status, d.steps[s].status, `node ${s} has the step's status`);
        assert.equal(n.stepId, d.steps[s].stepId);
        assert.equal(n.kind, 'run');
        if (d.steps[s].attempt > 0) assert.equal(n.attempt, d.steps[s].attempt);
        else assert.equal(n.attempt, undefined, `${s} never ran`);
        assert.ok(n.width > 0 && n.height > 0 && n.x >= 0 && n.y >= 0, `node ${s} is laid out: ${JSON.stringify(n)}`);
        assert.ok(n.x + n.width <= g.width && n.y + n.height <= g.height, `node ${s} is inside the picture`);
      }
      assert.equal(byId.get('root')?.label, 'The root', 'the step name is the label');
      assert.ok((byId.get('root')?.durationMs ?? -1) >= 0, 'a finished step has a duration');
      assert.deepEqual(edgesOf(g), [
        'broken -> join',
        'fan[n=1] -> join',
        'fan[n=2] -> join',
        'root -> broken',
        'root -> fan[n=1]',
        'root -> fan[n=2]',
        'root -> off',
      ]);
      for (const e of g.edges) {
        assert.ok(e.points.length >= 2, `edge ${e.from} -> ${e.to} has a polyline`);
        assert.ok(byId.get(e.from)!.level < byId.get(e.to)!.level, `edge ${e.from} -> ${e.to} goes to a later level`);
      }
      assert.ok(g.title.includes('shapes') && g.title.includes(id), `the title names the workflow and the session: ${g.title}`);
    });

    it('the graph of a running session shows the running step', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('long.workflow.yaml'), inputs: {} });
      try {
        await waitForStepRunning(host, id, 'long');
        const g = await host.request(SessionGraphRequest, { id });
        assert.deepEqual(g.nodes.map((n) => [n.id, n.status, n.attempt]), [['long', 'running', 1]]);
      } finally {
        await host.request(CancelSessionRequest, { id });
        await host.waitForChange(id, (s) => isAtRest(s.status), 'is cancelled');
      }
    });

    it('the plan has the same graph, every node planned', async () => {
      const plan = await host.request(PlanRequest, { uri: uriOf('shapes.workflow.yaml') });
      assert.ok(plan.ok, JSON.stringify(plan));
      assert.ok(plan.graph, 'the plan result has a graph');
      assert.deepEqual(plan.graph.nodes.map((n) => n.id).sort(), ['broken', 'fan[n=1]', 'fan[n=2]', 'join', 'off', 'root']);
      assert.ok(plan.graph.nodes.every((n) => n.status === 'planned'), JSON.stringify(plan.graph.nodes.map((n) => n.status)));
      assert.deepEqual(plan.graph.nodes.filter((n) => n.id.startsWith('fan')).map((n) => n.stepId), ['fan', 'fan']);
      if (shapesId) assert.deepEqual(edgesOf(plan.graph), edgesOf(await host.request(SessionGraphRequest, { id: shapesId })), 'plan and session have the same edges');
      const levelOf = new Map(plan.graph.nodes.map((n) => [n.id, n.level]));
      assert.deepEqual([levelOf.get('root'), levelOf.get('fan[n=1]'), levelOf.get('broken'), levelOf.get('join')], [0, 1, 1, 2]);
    });

    it('a graph of an unknown session answers an error', async () => {
      await assert.rejects(host.request(SessionGraphRequest, { id: '20000101-000000-nope' }), /20000101-000000-nope/);
    });
  });

  describe('live step logs', () => {
    it('followLog of a running step: the text so far, then logAppended until it equals the step log', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('talk.workflow.yaml'), inputs: {} });
      await printed(id, 'talk', 1, 'talk line 1');
      const from = host.logAppended.length;
      const answer = await host.request(FollowLogRequest, { id, step: 'talk' });
      try {
        assert.equal(answer.id, id);
        assert.equal(answer.step, 'talk');
        assert.equal(answer.attempt, 1);
        assert.equal(answer.text, 'talk line 1\n', 'the answer holds what the step printed so far');
        assert.equal(answer.skippedBytes, undefined);
        go(id); // the rest is printed after the answer: it can only come as notifications
        const end = await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes');
        assert.equal(end.status, 'succeeded');
        const f = await showsLog(host, answer, from, 1);
        assert.ok(f.notes >= 1, 'output came as logAppended notifications');
        assert.equal(f.resets, 0, 'no reset: one attempt');
        assert.equal(f.text, Array.from({ length: 10 }, (_, i) => `talk line ${i + 1}\n`).join(''));
        assert.ok(host.logsOf(id, 'talk', from).every((n) => n.text.length > 0), 'no empty appends');
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'talk' });
      }
    });

    it('followLog of a step that has not started: attempt 0 and no text, then a reset when it starts', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('later.workflow.yaml'), inputs: {} });
      const from = host.logAppended.length;
      const answer = await host.request(FollowLogRequest, { id, step: 'talk' });
      try {
        assert.deepEqual(answer, { id, step: 'talk', attempt: 0, text: '' });
        fs.writeFileSync(path.join(root, `go-${id}`), '');
        assert.equal((await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes')).status, 'succeeded');
        const f = await showsLog(host, answer, from, 1);
        assert.equal(f.resets, 1, `one reset, when attempt 1 began: ${JSON.stringify(host.logsOf(id, 'talk', from))}`);
        const first = host.logsOf(id, 'talk', from)[0];
        assert.deepEqual([first.reset, first.attempt, first.text], [true, 1, ''], 'the reset comes first');
        assert.match(f.text, /^later line 1\n(.*\n)*later line 5\n$/);
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'talk' });
      }
    });

    it('retryStep of a followed running step: a reset for attempt 2, then its output; attempt 1 stays readable', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('retrylog.workflow.yaml'), inputs: {} });
      await printed(id, 'slow', 1, 'attempt 1 begins');
      const from = host.logAppended.length;
      const answer = await host.request(FollowLogRequest, { id, step: 'slow' });
      try {
        assert.equal(answer.attempt, 1);
        assert.equal(answer.text, 'attempt 1 begins\n');
        assert.deepEqual(await host.request(RetryStepRequest, { id, step: 'slow' }), { id });
        const end = await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes');
        assert.equal(end.status, 'succeeded');
        const f = await showsLog(host, answer, from, 2);
        assert.equal(f.text, 'attempt 2 begins\nattempt 2 line 1\nattempt 2 line 2\nattempt 2 line 3\n');
        const notes = host.logsOf(id, 'slow', from);
        const resets = notes.filter((n) => n.reset);
        assert.deepEqual(resets.map((n) => [n.attempt, n.text]), [[2, '']], `one reset, for attempt 2: ${JSON.stringify(notes)}`);
        assert.ok(notes.slice(notes.indexOf(resets[0]) + 1).every((n) => n.attempt === 2), 'after the reset, only attempt 2');

        // An attempt asked for by number: its own log, whatever ran since.
        const one = await host.request(FollowLogRequest, { id, step: 'slow', attempt: 1 });
        assert.deepEqual([one.attempt, one.text], [1, readOr(stepLog(id, 'slow', 1))]);
        assert.match(one.text, /^attempt 1 begins\n/);
        await host.request(UnfollowLogRequest, { id, step: 'slow', attempt: 1 });
        await assert.rejects(host.request(FollowLogRequest, { id, step: 'slow', attempt: 3 }), /step slow has no attempt 3 \(it has run 2 time/);
        await assert.rejects(host.request(FollowLogRequest, { id, step: 'slow', attempt: 0 }), /no attempt 0/);
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'slow' });
      }
    });

    it('a step retried by its retry policy: the follow moves on to attempt 2 with a reset', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('policy.workflow.yaml'), inputs: {} });
      await printed(id, 'flaky', 1, 'try 1');
      const from = host.logAppended.length;
      const answer = await host.request(FollowLogRequest, { id, step: 'flaky' });
      try {
        assert.equal(answer.attempt, 1);
        assert.match(answer.text, /^try 1\n/);
        go(id); // attempt 1 fails only now, while followed
        assert.equal((await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes')).status, 'succeeded');
        const f = await showsLog(host, answer, from, 2);
        assert.equal(f.text, 'try 2\nrecovered\n');
        const notes = host.logsOf(id, 'flaky', from);
        const reset = notes.findIndex((n) => n.reset);
        assert.ok(reset >= 0, `a reset came: ${JSON.stringify(notes)}`);
        assert.equal(notes[reset].attempt, 2);
        // Before the reset, what the editor showed was attempt 1's whole log.
        const beforeReset = answer.text + notes.slice(0, reset).map((n) => n.text).join('');
        assert.equal(beforeReset, readOr(stepLog(id, 'flaky', 1)), 'attempt 1 was shown in full before the reset');
        assert.match(beforeReset, /giving up\n$/);
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'flaky' });
      }
    });

    it('unfollowLog stops the notifications of that step; another followed step still gets its output', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('pair.workflow.yaml'), inputs: {} });
      await printed(id, 'a', 1, 'a line 1');
      await printed(id, 'b', 1, 'b line 1');
      const from = host.logAppended.length;
      const a = await host.request(FollowLogRequest, { id, step: 'a' });
      const b = await host.request(FollowLogRequest, { id, step: 'b' });
      try {
        // Some output of a arrives, then we stop following it; a prints the rest after that, then b.
        go(id, '-a1');
        await host.until(() => host.logsOf(id, 'a', from).length > 0, 'a logAppended for a');
        assert.equal(await host.request(UnfollowLogRequest, { id, step: 'a' }), null);
        const stoppedAt = host.logAppended.length;
        const shownOfA = followed(host, a, from).text;
        go(id, '-a2');
        await printed(id, 'a', 1, 'a line 15');
        go(id, '-b');

        assert.equal((await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes')).status, 'succeeded');
        await showsLog(host, b, from, 1); // b's output all arrived: a's would have too
        assert.deepEqual(host.logsOf(id, 'a', stoppedAt), [], 'no logAppended for a after unfollowLog');
        const fileOfA = readOr(stepLog(id, 'a', 1));
        assert.ok(fileOfA.startsWith(shownOfA), 'what was shown of a is the start of its log');
        assert.ok(fileOfA.length > shownOfA.length, 'a printed more after the unfollow (so the test means something)');
        // Unfollowing what is not followed is harmless.
        assert.equal(await host.request(UnfollowLogRequest, { id, step: 'a' }), null);
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'b' });
      }
    });

    it('the same step followed twice (two editor tabs): each sees the whole log; unfollows by other tabs keep it', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('flood.workflow.yaml'), inputs: {} });
      await printed(id, 'flood', 1, 'chunk 1 line 1');
      const from1 = host.logAppended.length;
      const first = await host.request(FollowLogRequest, { id, step: 'flood' });
      const seconds: { answer: LogText; from: number }[] = [];
      try {
        // More tabs open while the step prints, at odd moments (between two of its writes, or not).
        for (let k = 0; k < 30; k++) {
          await new Promise((r) => setTimeout(r, 1 + ((k * 7) % 11)));
          const answer = await host.request(FollowLogRequest, { id, step: 'flood' });
          seconds.push({ answer, from: host.logAppended.length });
        }
        for (let k = 0; k < seconds.length; k++) await host.request(UnfollowLogRequest, { id, step: 'flood' });
        assert.equal((await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes')).status, 'succeeded');
        const whole = await showsLog(host, first, from1, 1).catch((e: Error) => assert.fail(`the first tab: ${e.message}`));
        assert.equal(whole.text.split('\n').length - 1, 4000);
        for (const [k, s] of seconds.entries()) {
          assert.ok(s.answer.text.length > 0, `tab ${k + 2} got the text so far`);
          await showsLog(host, s.answer, s.from, 1).catch((e: Error) => assert.fail(`tab ${k + 2}: ${e.message}`));
        }
      } finally {
        await host.request(UnfollowLogRequest, { id, step: 'flood' });
      }
    });

    it('followLog of an unknown step, attempt or session answers an error that says what exists', async () => {
      assert.ok(shapesId, 'the graph test ran');
      await assert.rejects(host.request(FollowLogRequest, { id: shapesId, step: 'nope' }), (e: Error) => {
        assert.match(e.message, /has no step 'nope'/);
        assert.match(e.message, /root/, 'the message lists the steps');
        return true;
      });
      await assert.rejects(host.request(FollowLogRequest, { id: shapesId, step: 'root', attempt: 2 }), /step root has no attempt 2 \(it has run 1 time/);
      await assert.rejects(host.request(FollowLogRequest, { id: '20000101-000000-nope', step: 'root' }), /20000101-000000-nope/);
      // A finished step's whole log, by the matrix instance id too.
      const fan = await host.request(FollowLogRequest, { id: shapesId, step: 'fan[n=2]' });
      assert.deepEqual([fan.attempt, fan.text], [1, 'fan 2\n']);
      await host.request(UnfollowLogRequest, { id: shapesId, step: 'fan[n=2]' });
      const off = await host.request(FollowLogRequest, { id: shapesId, step: 'off' });
      assert.deepEqual([off.attempt, off.text], [0, ''], 'a skipped step has no log');
      await host.request(UnfollowLogRequest, { id: shapesId, step: 'off' });
    });
  });

  describe('export and import', () => {
    it('export a session, import it into another repository through a second host: same steps, same logs', async () => {
      assert.ok(shapesId && shapesDetail, 'the graph test ran');
      const file = path.join(snapshots, 'shapes.snapshot.json');
      const r = await host.request(ExportSessionRequest, { id: shapesId, file });
      assert.equal(path.resolve(r.file), file);
      assert.equal(r.bytes, fs.statSync(file).size);
      assert.ok(r.bytes > 0);

      const second = await SessionsClient.start(other.root, { env: { HOME: other.home } });
      try {
        assert.deepEqual(await second.request(ListSessionsRequest, {}), [], 'the other repository has no sessions yet');
        const from = second.mark();
        assert.deepEqual(await second.request(ImportSessionRequest, { file }), { id: shapesId });
        const pushed = await second.waitForChange(shapesId, () => true, 'is pushed after the import', { from });
        assert.equal(pushed.status, 'succeeded');
        assert.deepEqual((await second.request(ListSessionsRequest, {})).map((s) => s.id), [shapesId]);

        const d2 = await second.request(GetSessionRequest, { id: shapesId });
        assert.deepEqual(d2.order, shapesDetail.order);
        assert.deepEqual(d2.steps, shapesDetail.steps, 'the same steps (status, attempts, times, outputs)');
        assert.deepEqual([d2.status, d2.workflow, d2.inputs], [shapesDetail.status, shapesDetail.workflow, shapesDetail.inputs]);
        assert.equal(d2.owner, undefined);

        // The step logs came along.
        const log = await second.request(FollowLogRequest, { id: shapesId, step: 'root' });
        assert.deepEqual([log.attempt, log.text], [1, 'root\n']);
        await second.request(UnfollowLogRequest, { id: shapesId, step: 'root' });
        // And the graph is the same.
        const g1 = await host.request(SessionGraphRequest, { id: shapesId });
        const g2 = await second.request(SessionGraphRequest, { id: shapesId });
        assert.deepEqual(g2.nodes.map((n) => [n.id, n.status]), g1.nodes.map((n) => [n.id, n.status]));

        // A second import of the same session is refused, and says what to do.
        await assert.rejects(second.request(ImportSessionRequest, { file }), /already exists.*delete it first/);
      } finally {
        await second.stop();
      }
    });

    it('import of something that is not a snapshot, and export of an unknown session, answer errors', async () => {
      const bad = path.join(snapshots, 'not-a-snapshot.json');
      fs.writeFileSync(bad, '{"hello": 1}');
      await assert.rejects(host.request(ImportSessionRequest, { file: bad }), /not an orchestrator snapshot/);
      await assert.rejects(host.request(ImportSessionRequest, { file: path.join(snapshots, 'missing.json') }), /no such file/);
      await assert.rejects(host.request(ExportSessionRequest, { id: '20000101-000000-nope', file: path.join(snapshots, 'x.json') }), /20000101-000000-nope/);
    });
  });

  describe('delete', () => {
    it('delete of a finished session: sessionRemoved, gone from list and from disk', async () => {
      const { id } = await startAndFinish(host, 'talk.workflow.yaml');
      assert.ok((await host.request(ListSessionsRequest, {})).some((s) => s.id === id));
      const from = host.removed.length;
      assert.equal(await host.request(DeleteSessionRequest, { id }), null);
      await host.waitForRemoved(id, from);
      assert.ok(!(await host.request(ListSessionsRequest, {})).some((s) => s.id === id), 'list no longer has it');
      assert.ok(!sessionFolders(root).includes(id), 'its folder is gone');
      assert.ok(!fs.readdirSync(path.dirname(sessionPaths(root, id).dir)).some((n) => n.includes(id)), 'nothing of it is left in the sessions folder');
      await assert.rejects(host.request(GetSessionRequest, { id }), new RegExp(id));
      await assert.rejects(host.request(DeleteSessionRequest, { id }), /no session/);
    });

    it('a follow does not outlive its deleted session: the same id imported again is read afresh', async () => {
      const { id } = await startAndFinish(host, 'talk.workflow.yaml');
      const followedBefore = await host.request(FollowLogRequest, { id, step: 'talk' }); // never unfollowed
      assert.match(followedBefore.text, /^talk line 1\n/);
      const file = path.join(snapshots, `${id}.json`);
      await host.request(ExportSessionRequest, { id, file });
      const from = host.removed.length;
      await host.request(DeleteSessionRequest, { id });
      await host.waitForRemoved(id, from);
      // The same session comes back with another, longer log for the step.
      const replaced = 'replaced line\n'.repeat(40);
      assert.ok(replaced.length > followedBefore.text.length);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { session: { steps: Record<string, unknown> } };
      assert.ok('talk/1.log' in doc.session.steps, `the snapshot has the step log: ${Object.keys(doc.session.steps).join(', ')}`);
      doc.session.steps['talk/1.log'] = replaced;
      fs.writeFileSync(file, JSON.stringify(doc));
      assert.deepEqual(await host.request(ImportSessionRequest, { file }), { id });
      const again = await host.request(FollowLogRequest, { id, step: 'talk' });
      assert.deepEqual([again.attempt, again.text], [1, replaced]);
      await host.request(UnfollowLogRequest, { id, step: 'talk' });
    });

    it('delete of a running session is refused (it is running, and by whom); the session goes on', async () => {
      const { id } = await host.request(StartSessionRequest, { uri: uriOf('long.workflow.yaml'), inputs: {} });
      const d = await waitForStepRunning(host, id, 'long');
      const runner = d.owner?.pid;
      assert.ok(runner, 'a runner owns the running session');
      const from = host.removed.length;
      let deleted = false;
      try {
        await assert.rejects(
          host.request(DeleteSessionRequest, { id }).then(() => {
            deleted = true;
          }),
          (e: Error) => {
            assert.match(e.message, /running/);
            assert.match(e.message, new RegExp(`${runner}|owned`), 'the message names the owner');
            return true;
          },
        );
        assert.ok(fs.existsSync(sessionPaths(root, id).dir), 'the folder is still there');
        assert.deepEqual(host.removed.slice(from), [], 'no sessionRemoved');
        assert.equal((await host.request(GetSessionRequest, { id })).status, 'running');
      } finally {
        if (deleted) {
          // The folder went from under a live runner: stop it and its step by hand.
          killTrees([runner, ...processesWithEnv('ORCHESTRATOR_SESSION_ID', id)]);
        } else {
          await host.request(CancelSessionRequest, { id });
          await host.waitForChange(id, (s) => isAtRest(s.status), 'is cancelled');
        }
      }
    });

    it('delete from the CLI, and rm -rf of the folder, are pushed as sessionRemoved', async () => {
      const viaCli = (await startAndFinish(host, 'talk.workflow.yaml')).id;
      const viaRm = (await startAndFinish(host, 'talk.workflow.yaml')).id;
      const from = host.removed.length;

      const r = await cli('delete', viaCli);
      assert.equal(r.code, 0, r.stderr);
      await host.waitForRemoved(viaCli, from);
      assert.ok(!(await host.request(ListSessionsRequest, {})).some((s) => s.id === viaCli));

      fs.rmSync(sessionPaths(root, viaRm).dir, { recursive: true, force: true });
      await host.waitForRemoved(viaRm, from);
      assert.ok(!(await host.request(ListSessionsRequest, {})).some((s) => s.id === viaRm));
      assert.deepEqual(host.removed.slice(from).sort(), [viaCli, viaRm].sort(), 'one sessionRemoved each');
    });

    it('rm -rf of a session while the sessions folder also holds an unreadable session folder is pushed as sessionRemoved', async () => {
      const id = (await startAndFinish(host, 'talk.workflow.yaml')).id;
      // A session folder without any event (its runner died while creating it): listed on disk, never readable.
      const broken = path.join(path.dirname(sessionPaths(root, id).dir), '20000101-000000-broken');
      fs.mkdirSync(broken);
      try {
        const from = host.removed.length;
        fs.rmSync(sessionPaths(root, id).dir, { recursive: true, force: true });
        await host.waitForRemoved(id, from);
        assert.ok(!(await host.request(ListSessionsRequest, {})).some((s) => s.id === id));
      } finally {
        fs.rmSync(broken, { recursive: true, force: true });
      }
    });
  });
});

describe('host initializationOptions.defaults (runners started from the editor)', () => {
  let host: SessionsClient;
  const stepWindow = (d: SessionDetail, s: string): [number, number] => [Date.parse(d.steps[s].startedAt ?? ''), Date.parse(d.steps[s].finishedAt ?? '')];

  before(async () => {
    host = await SessionsClient.start(third.root, { env: { HOME: third.home }, initializationOptions: { defaults: { concurrency: 1, stuckAfter: '1s' } } });
  });
  after(async () => {
    await host.stop();
  });

  async function finished(file: string): Promise<SessionDetail> {
    const from = host.mark();
    const { id } = await host.request(StartSessionRequest, { uri: uriOf(file, third.root), inputs: {} });
    const end = await host.waitForChange(id, (s) => isAtRest(s.status), 'comes to rest', { from });
    assert.equal(end.status, 'succeeded');
    return host.request(GetSessionRequest, { id });
  }

  it('concurrency 1: two independent steps of a workflow without concurrency run one after the other', async () => {
    const d = await finished('two.workflow.yaml');
    const [a, b] = [stepWindow(d, 'first'), stepWindow(d, 'second')].sort((x, y) => x[0] - y[0]);
    assert.ok([...a, ...b].every(Number.isFinite), JSON.stringify(d.steps));
    assert.ok(a[1] <= b[0], `the second step started (${new Date(b[0]).toISOString()}) after the first finished (${new Date(a[1]).toISOString()})`);
  });

  it("the workflow's own concurrency wins over the default", async () => {
    const d = await finished('two-own.workflow.yaml');
    const [a, b] = [stepWindow(d, 'first'), stepWindow(d, 'second')].sort((x, y) => x[0] - y[0]);
    assert.ok(b[0] < a[1], `the steps ran at the same time: ${JSON.stringify([a, b].map((w) => w.map((t) => new Date(t).toISOString())))}`);
  });

  it("stuckAfter '1s': a silent step without stuck_after is pushed as stepStuck", async () => {
    const { id } = await host.request(StartSessionRequest, { uri: uriOf('silent.workflow.yaml', third.root), inputs: {} });
    const note = await host.waitForStuck(id, 'quiet');
    assert.ok(!Number.isNaN(Date.parse(note.lastHeardAt)));
    go(id, '', third.root);
    assert.equal((await host.waitForChange(id, (s) => isAtRest(s.status), 'finishes')).status, 'succeeded');
  });

  it('a bad default stops a start with a message that says what to do, and leaves no session', async () => {
    const bad = await SessionsClient.start(third.root, { env: { HOME: third.home }, initializationOptions: { defaults: { stuckAfter: 'soon' } } });
    try {
      const before = sessionFolders(third.root).sort();
      await assert.rejects(bad.request(StartSessionRequest, { uri: uriOf('two.workflow.yaml', third.root), inputs: {} }), /ORCHESTRATOR_STUCK_AFTER is 'soon'.*duration/s);
      assert.deepEqual(sessionFolders(third.root).sort(), before, 'no session folder was made');
    } finally {
      await bad.stop();
    }
  });
});
