/**
 * The session commands of the REAL built CLI (`node server/out/cli.js`), each a child process in a
 * throw-away repository: run, list, show, logs, run --detach, pause, cancel, approve, reject, stuck,
 * findings, resume, and the exit codes of interfaces.md (0 success, 1 the session failed, 2 bad
 * usage or invalid input, with a one-line error and no stack trace).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { controlSession } from '../../server/src/engine/sessions';
import { newSessionId } from '../../server/src/store/sessionStore';
import { assertUsageError, CLI, cliEnv, makeRepo, processAlive, runCli, sessionFolders, waitFor, type CliResult } from './cliProcess';
import { assertValidSarif } from '../helpers/sarif';

interface StepDto {
  id: string;
  status: string;
  attempt: number;
  reason?: string;
  exitCode?: number | null;
  outputs: Record<string, string>;
  approval?: { question: string; answer?: string; by?: string; reason?: string };
}
interface Detail {
  id: string;
  status: string;
  reason?: string;
  inputs: Record<string, unknown>;
  steps: Record<string, StepDto>;
  order: string[];
  findings: { id: string; severity: string; message: string; file?: string; line?: number; rule?: string; conflict?: unknown; sources: unknown[] }[];
  workflow: { name: string; file: string; hash: string };
  owner?: { pid: number; host: string };
}
interface Summary {
  id: string;
  workflow: string;
  status: string;
  done: number;
  total: number;
  findings: number;
  reason?: string;
}

const WORKFLOWS: Record<string, string> = {
  'ok.workflow.yaml': `name: ok
inputs:
  who: { type: string, default: world }
  times: { type: number, default: 1 }
steps:
  - id: hello
    run: |
      echo "hello \${{ inputs.who }}"
      echo "times=\${{ inputs.times }}" >> "$ORCHESTRATOR_OUTPUT"
      echo "greeting=hello \${{ inputs.who }}" >> "$ORCHESTRATOR_OUTPUT"
  - id: second
    needs: hello
    run: |
      # Each line is written once the runner has logged the one before: the arrival order across
      # stdout and stderr is then certain, however slowly the runner reads.
      logged() { until grep -qsx "$1" ".orchestrator/sessions/$ORCHESTRATOR_SESSION_ID/steps/second/$ORCHESTRATOR_ATTEMPT.log"; do sleep 0.01; done; }
      echo "second line 1"
      logged "second line 1"
      echo "second line 2" >&2
      logged "second line 2"
      echo "second line 3"
`,
  'fail.workflow.yaml': `name: failing
steps:
  - id: good
    run: echo fine
  - id: bad
    needs: good
    run: |
      echo "about to fail"
      exit 3
  - id: after
    needs: bad
    run: echo never
`,
  'required.workflow.yaml': `name: needs-input
inputs:
  target: { type: string, required: true, description: where to deploy }
steps:
  - id: go
    run: echo "\${{ inputs.target }}"
`,
  'invalid.workflow.yaml': `name: broken
steps:
  - id: a
    needs: [zz]
    run: echo a
`,
  'slow.workflow.yaml': `name: slow
steps:
  - id: talk
    run: |
      for i in 1 2 3 4 5; do echo "line $i"; sleep 0.25; done
  - id: rest
    needs: talk
    run: until [ -e "gate-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
`,
  'gated.workflow.yaml': `name: gated3
steps:
  - id: one
    run: |
      # Waits until the test opens the gate (a marker file): the step cannot end before that.
      until [ -e "gate-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
  - id: two
    needs: one
    run: sleep 0.2
  - id: three
    needs: two
    run: echo three
`,
  'long.workflow.yaml': `name: long
steps:
  - id: long
    run: |
      echo $$ > "long-$ORCHESTRATOR_SESSION_ID.pid"
      sleep 300
  - id: next
    needs: long
    run: echo next
`,
  'approval.workflow.yaml': `name: gated
steps:
  - id: build
    run: echo built
  - id: gate
    needs: build
    approval: Ship the build (\${{ steps.build.status }})?
  - id: ship
    needs: gate
    run: echo shipped
`,
  'stuck.workflow.yaml': `name: stucky
steps:
  - id: quiet
    stuck_after: 300ms
    run: until [ -e "gate-$ORCHESTRATOR_SESSION_ID" ]; do sleep 0.01; done
`,
  'findings.workflow.yaml': `name: scans
steps:
  - id: scan
    run: |
      echo "::finding severity=high file=src/a.ts line=12 rule=sql-injection::SQL built from input"
      echo '{"severity":"low","message":"a TODO is left","file":"src/b.ts","line":3,"rule":"todo"}' >> "$ORCHESTRATOR_FINDINGS"
  - id: scan2
    run: echo "::finding severity=medium file=src/a.ts line=12 rule=sql-injection::string concatenation in a query"
`,
};

const { root, home } = makeRepo('orch-cli-sessions');
const env = cliEnv(home);
const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: root, env, timeoutMs: 60_000 });

function json<T>(r: CliResult, what = 'stdout'): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new Error(`${what} is not JSON (${e instanceof Error ? e.message : String(e)}); exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

async function show(id: string): Promise<Detail> {
  const r = await cli('show', id, '--json');
  assert.equal(r.code, 0, r.stderr);
  return json<Detail>(r);
}

/** Polls `show --json` until `pred` holds (deadline). */
function waitShow(id: string, pred: (d: Detail) => boolean, what: string, timeoutMs = 60_000): Promise<Detail> {
  return waitFor(async () => {
    const d = await show(id);
    return pred(d) ? d : undefined;
  }, `session ${id}: ${what}`, timeoutMs, 100);
}

const AT_REST = new Set(['paused', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted']);

/**
 * Opens the gate of session `id`: steps of the gated workflows wait for it (a marker file named
 * after the session), so a test decides when they end instead of racing a sleep.
 */
function openGate(id: string): void {
  fs.writeFileSync(path.join(root, `gate-${id}`), '');
}

async function detach(file: string, ...extra: string[]): Promise<string> {
  const r = await cli('run', file, '--detach', ...extra);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^\d{8}-\d{6}-[0-9a-z]+$/, `run --detach prints the session id, got ${JSON.stringify(r.stdout)}`);
  return id;
}

before(() => {
  assert.ok(fs.existsSync(CLI), `${CLI} does not exist: run npm run build first`);
  for (const [name, text] of Object.entries(WORKFLOWS)) fs.writeFileSync(path.join(root, name), text);
});

after(async () => {
  // Stop whatever still runs (a failed test may leave a detached runner behind), then clean up.
  const r = await cli('list', '--json').catch(() => undefined);
  for (const s of r?.code === 0 ? json<Summary[]>(r) : []) {
    if (s.status === 'running' || s.status === 'waiting') await cli('cancel', s.id).catch(() => undefined);
  }
  fs.rmSync(root, { recursive: true, force: true });
});

describe('orchestrator run', () => {
  it('a session that succeeds: exit 0, plain progress lines when stdout is not a TTY', async () => {
    const r = await cli('run', 'ok.workflow.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\u001b['), 'no escape sequences when stdout is not a TTY');
    assert.doesNotMatch(r.stdout, /\r/, 'no carriage returns (no status line redrawn in place)');
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Session \d{8}-\d{6}-\w+: ok \(2 steps\)$/);
    assert.ok(lines.some((l) => /^ {2}▶ hello$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^ {2}✔ hello succeeded \d/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^ {2}✔ second succeeded \d/.test(l)), r.stdout);
    assert.match(lines.at(-1)!, /^Session succeeded in \S+: 2\/2 steps done$/);
    assert.ok(lines.indexOf(lines.find((l) => l.includes('✔ hello'))!) < lines.indexOf(lines.find((l) => l.includes('▶ second'))!), 'second starts after hello finished');
  });

  it('a session that fails: exit 1, and the failing step is named', async () => {
    const r = await cli('run', 'fail.workflow.yaml');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ {2}✖ bad failed .* exit code 3$/m);
    assert.match(r.stdout.trimEnd().split('\n').at(-1)!, /^Session failed in .*step bad failed/);
    const id = /^Session (\S+):/.exec(r.stdout)![1];
    const d = await show(id);
    assert.equal(d.status, 'failed');
    assert.equal(d.steps.good.status, 'succeeded');
    assert.equal(d.steps.bad.status, 'failed');
    assert.equal(d.steps.bad.exitCode, 3);
    // Not started: left pending or marked cancelled ("not started"), either way never run.
    assert.ok(['pending', 'cancelled'].includes(d.steps.after.status), `after is ${d.steps.after.status}`);
    assert.equal(d.steps.after.attempt, 0, 'a step after the failure does not start');
  });

  it('--json prints the final summary (and nothing else on stdout)', async () => {
    const r = await cli('run', 'ok.workflow.yaml', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = json<Summary & { file: string; startedAt: string; finishedAt: string }>(r);
    assert.equal(s.status, 'succeeded');
    assert.equal(s.workflow, 'ok');
    assert.equal(s.file, 'ok.workflow.yaml');
    assert.equal(s.done, 2);
    assert.equal(s.total, 2);
    assert.equal(s.findings, 0);
    assert.ok(Date.parse(s.finishedAt) >= Date.parse(s.startedAt));
    const failed = await cli('run', 'fail.workflow.yaml', '--json');
    assert.equal(failed.code, 1);
    const f = json<Summary>(failed);
    assert.equal(f.status, 'failed');
    assert.match(f.reason ?? '', /step bad failed/);
  });

  it('--input k=v sets inputs, typed as declared (a value may hold "=")', async () => {
    const r = await cli('run', 'ok.workflow.yaml', '--input', 'who=a=b c', '-i', 'times=3', '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = await show(json<Summary>(r).id);
    assert.deepEqual(d.inputs, { who: 'a=b c', times: 3 });
    assert.deepEqual(d.steps.hello.outputs, { times: '3', greeting: 'hello a=b c' });
    const logs = await cli('logs', d.id, 'hello');
    assert.equal(logs.stdout, 'hello a=b c\n');
  });

  it('--quiet prints nothing while running', async () => {
    const r = await cli('run', 'ok.workflow.yaml', '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('a given session id (the host passes one) must be an id, and a new one: else exit 2, one line, nothing written', async () => {
    const taken = json<Summary>(await cli('run', 'ok.workflow.yaml', '--json')).id;
    const before = sessionFolders(root).sort();
    const outside = path.join(root, 'escaped');
    for (const bad of ['../../escaped', '../escaped', '/tmp/escaped-abs', 'x']) {
      assertUsageError(await cli('run', 'ok.workflow.yaml', '--session-id', bad), new RegExp(`'${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is not a session id \\(ids look like`));
    }
    assertUsageError(await cli('run', 'ok.workflow.yaml', '--session-id', taken), new RegExp(`session ${taken} exists already`));
    assert.deepEqual(sessionFolders(root).sort(), before);
    assert.equal(fs.existsSync(outside), false);
    assert.equal(fs.existsSync(path.join(root, '.orchestrator', 'escaped')), false);
    // Every command that takes an id refuses a path the same way.
    fs.mkdirSync(path.join(root, '.orchestrator', 'planted'), { recursive: true });
    fs.copyFileSync(path.join(root, '.orchestrator', 'sessions', taken, 'state.json'), path.join(root, '.orchestrator', 'planted', 'state.json'));
    fs.copyFileSync(path.join(root, '.orchestrator', 'sessions', taken, 'log.jsonl'), path.join(root, '.orchestrator', 'planted', 'log.jsonl'));
    for (const args of [['show', '../planted'], ['logs', '../planted'], ['resume', '../planted', '--from', 'hello'], ['cancel', '../planted'], ['findings', '../planted']]) {
      assertUsageError(await cli(...args), /no session '\.\.\/planted' in /);
    }
  });
});

describe('orchestrator list / show / logs', () => {
  let okId: string;
  let failId: string;
  let listRoot: string;
  const inList = (...args: string[]) => runCli(args, { cwd: listRoot, env, timeoutMs: 30_000 });

  before(async () => {
    // A repository of its own, so the list holds exactly these sessions.
    listRoot = makeRepo('orch-cli-list').root;
    for (const f of ['ok.workflow.yaml', 'fail.workflow.yaml']) fs.copyFileSync(path.join(root, f), path.join(listRoot, f));
    const empty = await inList('list');
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /no sessions yet/);
    okId = json<Summary>(await inList('run', 'ok.workflow.yaml', '--json')).id;
    // Ids carry the start time to the second: start the next session once the second has changed.
    await waitFor(() => newSessionId().slice(0, 15) > okId.slice(0, 15), 'the next second', 60_000, 20);
    failId = json<Summary>(await inList('run', 'fail.workflow.yaml', '--json')).id;
  });
  after(() => fs.rmSync(listRoot, { recursive: true, force: true }));

  it('list --json: every session, newest first, with status and progress', async () => {
    const r = await inList('list', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = json<Summary[]>(r);
    assert.deepEqual(rows.map((x) => [x.id, x.status, x.workflow, x.total]), [
      [failId, 'failed', 'failing', 3],
      [okId, 'succeeded', 'ok', 2],
    ]);
    assert.equal(rows[1].done, 2);
    // The step after the failure is done (cancelled, "not started") or pending, depending on the engine's choice.
    assert.ok(rows[0].done === 2 || rows[0].done === 3);
  });

  it('list --status S keeps only sessions with that status; list prints a table', async () => {
    const failed = json<Summary[]>(await inList('list', '--status', 'failed', '--json'));
    assert.deepEqual(failed.map((x) => x.id), [failId]);
    const none = await inList('list', '--status', 'paused');
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'no paused sessions\n');
    const table = await inList('list');
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+STATUS\s+WORKFLOW\s+STEPS\s+DURATION\s+FINDINGS$/);
    // What happened, not how many steps ended: one step succeeded, one failed, one never ran.
    assert.match(lines[1], new RegExp(`^${failId}\\s+failed\\s+failing\\s+1/3 done · 1 failed · 1 cancelled\\s`));
    assert.match(lines[2], new RegExp(`^${okId}\\s+succeeded\\s+ok\\s+2/2 done\\s`));
  });

  it('list --status with a status that does not exist is bad usage (exit 2)', async () => {
    const r = await inList('list', '--status', 'finished');
    assertUsageError(r, /status/);
  });

  it('show ID: steps and statuses; --json: the session with its steps and outputs', async () => {
    const text = await inList('show', failId);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${failId}  failing \\(fail.workflow.yaml\\)$`, 'm'));
    assert.match(text.stdout, /^status: failed — step bad failed: exit code 3$/m);
    assert.match(text.stdout, /^bad\s+failed\s+1\s+\S+\s+exit code 3$/m);
    assert.match(text.stdout, /^after\s+(pending|cancelled)\s/m);
    const r = await inList('show', okId, '--json');
    const d = json<Detail>(r);
    assert.equal(d.id, okId);
    assert.equal(d.status, 'succeeded');
    assert.deepEqual(d.order, ['hello', 'second']);
    assert.deepEqual(d.workflow.name, 'ok');
    assert.deepEqual(d.steps.hello.outputs, { times: '1', greeting: 'hello world' });
    assert.equal(d.owner, undefined, 'a session at rest has no owner');
    assert.ok(!('rawFindings' in d), 'show --json leaves out the raw findings');
  });

  it("logs ID STEP prints the step's output as it came (stdout and stderr, in arrival order)", async () => {
    const r = await inList('logs', okId, 'second');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'second line 1\nsecond line 2\nsecond line 3\n');
    const bad = await inList('logs', failId, 'bad');
    assert.equal(bad.stdout, 'about to fail\n');
    const notRun = await inList('logs', failId, 'after');
    assert.equal(notRun.code, 0);
    assert.equal(notRun.stdout, '');
    assert.match(notRun.stderr, /has not run yet/);
  });

  it("logs ID prints the session's events, one a line; --json as JSON lines", async () => {
    const r = await inList('logs', failId);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^\S+ session\.started$/);
    assert.ok(lines.some((l) => /^\S+ step\.finished bad failed — exit code 3$/.test(l)), r.stdout);
    assert.match(lines.at(-1)!, /^\S+ session\.finished failed — step bad failed/);
    const j = await inList('logs', failId, '--json');
    const events = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string; session: string });
    assert.equal(events.length, lines.length);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.ok(events.every((e) => e.session === failId));
  });
});

describe('orchestrator run --detach and the commands on a live session', () => {
  it('run --detach prints an id at once and the session proceeds in the background', async () => {
    const id = await detach('gated.workflow.yaml');
    // It returned while the session still runs (its first step waits for the gate, opened below).
    const now = json<{ status: string }>(await cli('show', id, '--json'));
    assert.ok(!AT_REST.has(now.status), `run --detach waited for the session (it is ${now.status})`);
    openGate(id);
    const d = await waitShow(id, (x) => AT_REST.has(x.status), 'finishes');
    assert.equal(d.status, 'succeeded');
    assert.deepEqual(d.order.map((s) => d.steps[s].status), ['succeeded', 'succeeded', 'succeeded']);
    const j = await cli('run', 'gated.workflow.yaml', '--detach', '--json');
    const out = json<{ id: string; pid: number }>(j);
    assert.ok(out.pid > 0);
    openGate(out.id);
    assert.equal((await waitShow(out.id, (x) => AT_REST.has(x.status), 'finishes')).status, 'succeeded');
  });

  it('run --detach of a session that finishes at once: exit 0 and its id (the runner did its job)', async () => {
    fs.writeFileSync(path.join(root, 'noop.workflow.yaml'), 'name: noop\nsteps:\n  - id: merge\n    uses: findings/merge\n');
    const problems: string[] = [];
    for (let i = 0; i < 5; i++) {
      const before = new Set(sessionFolders(root));
      const r = await cli('run', 'noop.workflow.yaml', '--detach');
      const created = sessionFolders(root).filter((f) => !before.has(f));
      if (r.code !== 0) {
        const status = created.length === 1 ? (await show(created[0])).status : `${created.length} new sessions`;
        problems.push(`exit ${r.code}: ${r.stderr.trim()} (yet the session it started is ${status})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('logs ID STEP --follow on a running session prints all the output and ends when the step ends', async () => {
    const id = await detach('slow.workflow.yaml');
    const r = await cli('logs', id, 'talk', '--follow');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\n');
    const d = await show(id);
    assert.equal(d.steps.talk.status, 'succeeded');
    assert.equal(d.status, 'running', 'follow ended with the step, before the session (rest waits for the gate)');
    openGate(id);
    await waitShow(id, (x) => x.status === 'succeeded', 'succeeds');
  });

  it('logs ID --follow prints every event up to session.finished, also when the session ends while it reads', async () => {
    // A large state.json (a 1.8 MB description, under the 2 MB a workflow may have, is part of the stored
    // workflow) makes each of the follower's looks at the session's status slow, so the session often ends during one.
    const big = path.join(root, 'big.workflow.yaml');
    fs.writeFileSync(big, `name: big\ndescription: ${'x'.repeat(1_800_000)}\nsteps:\n  - id: a\n    run: sleep 0.3\n  - id: b\n    needs: a\n    run: echo b\n`);
    const problems: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await detach('big.workflow.yaml');
      const r = await cli('logs', id, '--follow');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\S+ session\.started\n/);
      const last = r.stdout.trimEnd().split('\n').at(-1) ?? '';
      if (!/session\.finished succeeded$/.test(last)) problems.push(`${id}: the output ends with ${JSON.stringify(last)}; the log has ${(await cli('logs', id)).stdout.trimEnd().split('\n').length} events, the follower printed ${r.stdout.trimEnd().split('\n').length}`);
    }
    fs.rmSync(big);
    assert.deepEqual(problems, []);
  });

  it('pause ID: running steps finish, nothing new starts, the session is paused; resume finishes it', async () => {
    const id = await detach('gated.workflow.yaml');
    await waitShow(id, (x) => x.steps.one.status === 'running', 'step one runs');
    // Step one waits at its gate; the gate opens only once the pause is in control.jsonl. The
    // runner is told of that write (inotify) before the step can see the gate and exit, so the
    // pause always arrives while step one runs.
    const pausing = cli('pause', id);
    const control = path.join(root, '.orchestrator', 'sessions', id, 'control.jsonl');
    await waitFor(() => fs.existsSync(control) && fs.readFileSync(control, 'utf8').includes('"pause"'), 'the pause command in control.jsonl');
    fs.writeFileSync(path.join(root, `gate-${id}`), '');
    const r = await pausing;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${id}: pause sent to the runner; the session is paused$`, 'm'));
    const d = await show(id);
    assert.equal(d.status, 'paused');
    assert.equal(d.steps.one.status, 'succeeded', 'the running step was let finish');
    assert.equal(d.steps.two.status, 'pending');
    assert.equal(d.owner, undefined, 'the runner let go of the session');
    const list = json<Summary[]>(await cli('list', '--status', 'paused', '--json'));
    assert.ok(list.some((s) => s.id === id));
    const again = await cli('pause', id);
    assertUsageError(again, /not running/);
    const resumed = await cli('resume', id, '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(json<Summary>(resumed).status, 'succeeded');
    const after = await show(id);
    assert.equal(after.steps.one.attempt, 1, 'a step that succeeded is not run again');
    assert.deepEqual(after.order.map((s) => after.steps[s].status), ['succeeded', 'succeeded', 'succeeded']);
  });

  it('cancel ID: the running step is killed (its process tree too) and the session is cancelled', async () => {
    const id = await detach('long.workflow.yaml');
    const pidFile = path.join(root, `long-${id}.pid`);
    const pid = await waitFor(() => (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined), 'the step to start');
    // The step sleeps 300 s: a cancel that waited for it would report a running session (the
    // command waits 60 s at most for the runner) or not return before the CLI's timeout.
    const r = await cli('cancel', id, '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = json<Summary & { command: string; applied: string }>(r);
    assert.equal(s.status, 'cancelled');
    assert.equal(s.command, 'cancel');
    assert.equal(s.applied, 'sent');
    const d = await show(id);
    assert.equal(d.steps.long.status, 'cancelled');
    assert.equal(d.steps.next.status, 'cancelled');
    await waitFor(() => !processAlive(pid), `the step's shell (pid ${pid}) to die`);
    const again = await cli('cancel', id);
    assertUsageError(again, /already cancelled/);
  });

  it('approve ID STEP on a waiting session: the session goes on and succeeds', async () => {
    const id = await detach('approval.workflow.yaml');
    const waiting = await waitShow(id, (x) => x.status === 'waiting', 'waits for the approval');
    assert.equal(waiting.steps.gate.status, 'waiting');
    assert.equal(waiting.steps.gate.approval?.question, 'Ship the build (succeeded)?');
    const notWaiting = await cli('approve', id, 'build');
    assertUsageError(notWaiting, /not waiting for approval/);
    const noStep = await cli('approve', id, 'nope');
    assertUsageError(noStep, /no step 'nope'/);
    const r = await cli('approve', id, 'gate');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${id}: approve gate sent to the runner`));
    const d = await waitShow(id, (x) => AT_REST.has(x.status), 'finishes');
    assert.equal(d.status, 'succeeded');
    assert.equal(d.steps.gate.approval?.answer, 'approved');
    assert.equal(d.steps.ship.status, 'succeeded');
  });

  it('reject ID STEP --reason R: the step fails with the reason and the session fails', async () => {
    const id = await detach('approval.workflow.yaml');
    await waitShow(id, (x) => x.status === 'waiting', 'waits for the approval');
    const r = await cli('reject', id, 'gate', '--reason', 'not on a Friday');
    assert.equal(r.code, 0, r.stderr);
    const d = await waitShow(id, (x) => AT_REST.has(x.status), 'finishes');
    assert.equal(d.status, 'failed');
    assert.equal(d.steps.gate.status, 'failed');
    assert.equal(d.steps.gate.approval?.answer, 'rejected');
    assert.equal(d.steps.gate.approval?.reason, 'not on a Friday');
    assert.match(d.steps.gate.reason ?? '', /rejected.*not on a Friday/);
    assert.ok(['pending', 'cancelled'].includes(d.steps.ship.status), `ship is ${d.steps.ship.status}`);
    assert.equal(d.steps.ship.attempt, 0, 'the step after a rejected approval does not run');
  });

  it('stuck --json names a silent step (stuck_after 300ms, the step waits for the gate), and forgets it when the session ends', async () => {
    const id = await detach('stuck.workflow.yaml');
    const items = await waitFor(async () => {
      const r = await cli('stuck', '--json');
      const list = json<{ session: string; workflow: string; step: string; kind: string; lastHeardAt: string; silentMs: number }[]>(r);
      return list.some((i) => i.session === id) ? list : undefined;
    }, 'stuck --json to name the step', 60_000, 100);
    const item = items.find((i) => i.session === id)!;
    assert.equal(item.step, 'quiet');
    assert.equal(item.kind, 'silent');
    assert.equal(item.workflow, 'stucky');
    assert.ok(item.silentMs >= 300, `silent for ${item.silentMs} ms`);
    assert.ok(!Number.isNaN(Date.parse(item.lastHeardAt)));
    const table = await cli('stuck');
    assert.match(table.stdout, new RegExp(`^${id}\\s+quiet\\s+silent\\s+\\S+ ago$`, 'm'));
    const shown = await show(id);
    assert.equal(shown.status, 'running', 'a stuck step keeps running');
    openGate(id);
    await waitShow(id, (x) => x.status === 'succeeded', 'succeeds');
    const later = json<{ session: string }[]>(await cli('stuck', '--json'));
    assert.ok(!later.some((i) => i.session === id));
  });

  it('resume of a running session is refused (exit 2), naming the runner pid and host', async () => {
    const id = await detach('long.workflow.yaml');
    const d = await waitShow(id, (x) => x.steps.long.status === 'running', 'the long step runs');
    assert.ok(d.owner, 'a running session has an owner');
    assert.equal(d.owner.host, os.hostname());
    const text = await cli('show', id);
    assert.match(text.stdout, new RegExp(`^runner: process ${d.owner.pid} on ${os.hostname()}$`, 'm'));
    for (const args of [['resume', id], ['resume', id, '--detach']]) {
      const r = await cli(...args);
      assertUsageError(r, new RegExp(`running.*process ${d.owner.pid} on ${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    assert.equal((await cli('cancel', id)).code, 0);
  });
});

describe('orchestrator findings', () => {
  let id: string;
  before(async () => {
    const r = await cli('run', 'findings.workflow.yaml', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = json<Summary>(r);
    assert.equal(s.findings, 2);
    id = s.id;
  });

  it('--format json: the merged findings (same file, line and rule from two steps: one finding, the higher severity, disputed)', async () => {
    const r = await cli('findings', id, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const f = json<Detail['findings']>(r);
    assert.equal(f.length, 2);
    const sql = f.find((x) => x.rule === 'sql-injection')!;
    assert.equal(sql.severity, 'high');
    assert.equal(sql.file, 'src/a.ts');
    assert.equal(sql.line, 12);
    assert.equal(sql.sources.length, 2);
    assert.ok(sql.conflict, 'the severities disagree: the finding says so');
    const todo = f.find((x) => x.rule === 'todo')!;
    assert.deepEqual([todo.severity, todo.file, todo.line, todo.message], ['low', 'src/b.ts', 3, 'a TODO is left']);
    assert.deepEqual(json<unknown>(await cli('findings', id, '--json')), f, '--json is --format json');
  });

  it('--format table (the default): one row per finding', async () => {
    const r = await cli('findings', id);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^SEVERITY\s+LOCATION\s+RULE\s+FROM\s+MESSAGE$/);
    assert.equal(lines.length, 3);
    assert.ok(lines.some((l) => /^high\s+src\/a\.ts:12\s+sql-injection\s+scan,scan2 \(disputed\)\s+/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^low\s+src\/b\.ts:3\s+todo\s+scan\s+a TODO is left$/.test(l)), r.stdout);
    const none = await cli('findings', json<Summary>(await cli('run', 'ok.workflow.yaml', '--json')).id);
    assert.match(none.stdout, /has no findings/);
  });

  it('--format sarif: a valid SARIF 2.1.0 log (the official schema)', async () => {
    const r = await cli('findings', id, '--format', 'sarif');
    assert.equal(r.code, 0, r.stderr);
    assertValidSarif(JSON.parse(r.stdout));
    const log = json<{
      version: string;
      $schema?: string;
      runs: { tool: { driver: { name: string; version?: string; rules?: { id: string }[] } }; results: { ruleId?: string; ruleIndex?: number; level?: string; message: { text?: string }; locations?: { physicalLocation?: { artifactLocation?: { uri?: string }; region?: { startLine?: number } } }[] }[] }[];
    }>(r);
    assert.equal(log.version, '2.1.0');
    assert.match(log.$schema ?? '', /sarif/i);
    assert.equal(log.runs.length, 1);
    const run = log.runs[0];
    assert.equal(run.tool.driver.name, 'Synapse Orchestrator');
    assert.equal(run.results.length, 2);
    const rules = run.tool.driver.rules ?? [];
    for (const res of run.results) {
      assert.equal(typeof res.ruleId, 'string');
      assert.ok(['error', 'warning', 'note', 'none'].includes(res.level ?? ''), `level ${res.level}`);
      assert.ok(res.message.text, 'a message text');
      if (res.ruleIndex !== undefined) assert.equal(rules[res.ruleIndex]?.id, res.ruleId, 'ruleIndex points at the rule');
      const loc = res.locations?.[0]?.physicalLocation;
      assert.ok(loc?.artifactLocation?.uri, 'a location with a URI');
      assert.ok((loc.region?.startLine ?? 0) >= 1);
    }
    const sql = run.results.find((x) => x.ruleId === 'sql-injection')!;
    assert.equal(sql.level, 'error');
    assert.equal(sql.locations?.[0]?.physicalLocation?.artifactLocation?.uri, 'src/a.ts');
    assert.equal(sql.locations?.[0]?.physicalLocation?.region?.startLine, 12);
    assert.equal(run.results.find((x) => x.ruleId === 'todo')!.level, 'note');
  });

  it('an unknown --format is bad usage', async () => {
    assertUsageError(await cli('findings', id, '--format', 'xml'), /--format takes table, json or sarif/);
  });
});

describe('bad usage: exit 2 with a one-line error', () => {
  it('an unknown session id, for every command that takes one', async () => {
    const cmds = [['show', 'nope'], ['show', 'nope', '--json'], ['logs', 'nope'], ['logs', 'nope', 'step'], ['resume', 'nope'], ['pause', 'nope'], ['cancel', 'nope'], ['approve', 'nope', 'gate'], ['reject', 'nope', 'gate'], ['findings', 'nope']];
    const results = await Promise.all(cmds.map((c) => cli(...c)));
    results.forEach((r, i) => {
      assert.doesNotThrow(() => assertUsageError(r, /no session 'nope'/), `orchestrator ${cmds[i].join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    });
  });

  it('a missing required input (also with --detach), an unknown input, a malformed --input', async () => {
    assertUsageError(await cli('run', 'required.workflow.yaml'), /input 'target' is required .*--input target=/);
    assertUsageError(await cli('run', 'required.workflow.yaml', '--detach'), /input 'target' is required/);
    assertUsageError(await cli('run', 'ok.workflow.yaml', '--input', 'whom=x'), /unknown input 'whom'/);
    assertUsageError(await cli('run', 'ok.workflow.yaml', '--input', 'times=many'), /input 'times' must be a number/);
    assertUsageError(await cli('run', 'ok.workflow.yaml', '--input', 'who'), /--input takes name=value/);
  });

  it('an invalid workflow: exit 2, the problems as file:line:col lines, no session created', async () => {
    const before = sessionFolders(root).length;
    for (const extra of [[], ['--detach']]) {
      const r = await cli('run', 'invalid.workflow.yaml', ...extra);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^orchestrator: invalid\.workflow\.yaml:4:13 error unknown-need /);
      assert.match(r.stderr, /the workflow has 1 error\(s\)/);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    assertUsageError(await cli('run', 'missing.workflow.yaml'), /cannot read workflow 'missing\.workflow\.yaml'/);
    assert.equal(sessionFolders(root).length, before, 'no session for a workflow that does not load');
  });

  it('commands on sessions in the wrong state', async () => {
    const ok = json<Summary>(await cli('run', 'ok.workflow.yaml', '--json')).id;
    assertUsageError(await cli('resume', ok), /succeeded: there is nothing to resume/);
    assertUsageError(await cli('pause', ok), /not running/);
    assertUsageError(await cli('approve', ok, 'hello'), /not waiting for approval/);
    assertUsageError(await cli('logs', ok, 'nostep'), /has no step 'nostep'/);
    assertUsageError(await cli('logs', ok, 'hello', '--attempt', '0'), /--attempt/);
    assertUsageError(await cli('resume', ok, '--from', 'nostep'), /no step 'nostep'/);
  });

  it('unknown commands and options exit 2', async () => {
    assert.equal((await cli('frobnicate')).code, 2);
    assert.equal((await cli('list', '--bogus')).code, 2);
    assert.equal((await cli('show')).code, 2, 'a missing argument');
  });
});

describe('control commands sent early', () => {
  it('a pause sent as soon as the session has started (its runner owns it) is applied, not taken for an old command', async () => {
    // `orchestrator pause ID` and the host's pause both call controlSession: the session is live
    // (session.started is in the log, the lock is held), so the command goes to control.jsonl.
    const problems: string[] = [];
    for (let i = 0; i < 3; i++) {
      const known = new Set(sessionFolders(root));
      const child = spawn(process.execPath, [CLI, 'run', 'gated.workflow.yaml', '--quiet'], { cwd: root, env, stdio: 'ignore' });
      let exited = false;
      const exit = new Promise<number | null>((r) => child.once('exit', (c) => {
        exited = true;
        r(c);
      }));
      // Watch for the session's first event (a tight loop: the moment matters).
      let id: string | undefined;
      let started = false;
      while (!started && !exited) {
        await new Promise((r) => setImmediate(r));
        id ??= sessionFolders(root).find((f) => !known.has(f));
        if (id) {
          try {
            started = fs.statSync(path.join(root, '.orchestrator', 'sessions', id, 'log.jsonl')).size > 0;
          } catch {
            // not yet
          }
        }
      }
      assert.ok(id && started, 'the session started');
      const sent = await controlSession(root, id, { type: 'pause', by: 'test' });
      assert.equal(sent.applied, 'sent', 'the session has a live runner: the command is sent to it');
      // Step one ends only now, after the pause is in control.jsonl: the session cannot have
      // finished before the command came, so only an ignored command lets it succeed.
      openGate(id);
      assert.equal(await exit, 0);
      const d = await show(id);
      if (d.status !== 'paused') problems.push(`${id}: pause sent to the runner, yet the session ended ${d.status}`);
    }
    assert.deepEqual(problems, []);
  });
});

describe('session ids', () => {
  it('sort by start time, also within one second (list is newest first by id)', () => {
    // sessions.md: "Session ids sort by start time". listSessionIds sorts by id, so two sessions
    // started in the same second must still get ids in start order.
    const t = Date.parse('2026-11-21T10:45:12.000Z');
    const misordered: string[] = [];
    for (let i = 0; i < 32; i++) {
      const a = newSessionId(new Date(t + i * 10));
      const b = newSessionId(new Date(t + i * 10 + 5));
      if (!(a < b)) misordered.push(`${a} (started first) !< ${b}`);
    }
    assert.deepEqual(misordered, []);
  });
});

describe('orchestrator run in a terminal-less pipe, killed by its parent', () => {
  it('a run whose CLI is killed leaves an interrupted session that resume finishes', async () => {
    // Step one waits for the gate, so the run cannot end before the kill; the gate opens for the resume.
    const child = spawn(process.execPath, [CLI, 'run', 'gated.workflow.yaml', '--json'], { cwd: root, env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const id = await waitFor(async () => {
      const rows = json<Summary[]>(await cli('list', '--json'));
      return rows.find((r) => r.workflow === 'gated3' && r.status === 'running')?.id;
    }, 'the session to run');
    child.kill('SIGKILL');
    await exited;
    const d = await show(id);
    assert.equal(d.status, 'interrupted');
    assert.match(d.reason ?? '', /runner stopped/);
    openGate(id);
    const r = await cli('resume', id, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<Summary>(r).status, 'succeeded');
  });
});
