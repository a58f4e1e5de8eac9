/**
 * Engine defaults from the environment (server/src/engine/settings.ts): ORCHESTRATOR_CONCURRENCY
 * and ORCHESTRATOR_STUCK_AFTER. Parsing (valid values, and messages that name the variable and say
 * what to do), their effect on real sessions (a workflow's own value still wins), and a bad value
 * stopping a start (through the engine and through the REAL built CLI) before anything is written.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { envDefaults, envDefaultsLenient, SettingError } from '../../server/src/engine/settings';
import { InputError, resumeSession } from '../../server/src/engine/sessions';
import type { SessionState } from '../../server/src/engine/types';
import { sessionPaths } from '../../server/src/store/sessionStore';
import { CLI, cliEnv, makeRepo as makeCliRepo, runCli, sessionFolders } from '../cli/cliProcess';
import { cleanEnv, cleanupRepos, events, makeRepo, runOpts, runToRest, start } from './helpers';

after(cleanupRepos);

describe('envDefaults', () => {
  it('nothing set (or blank): no defaults', () => {
    assert.deepEqual(envDefaults({}), {});
    assert.deepEqual(envDefaults({ ORCHESTRATOR_CONCURRENCY: '', ORCHESTRATOR_STUCK_AFTER: '   ' }), {});
    assert.deepEqual(envDefaults({ PATH: '/bin', ORCHESTRATOR_REPO: '/x' }), {}, 'other variables are not read');
  });

  it('ORCHESTRATOR_CONCURRENCY: a whole number from 1 (spaces around it are fine)', () => {
    assert.deepEqual(envDefaults({ ORCHESTRATOR_CONCURRENCY: '1' }), { concurrency: 1 });
    assert.deepEqual(envDefaults({ ORCHESTRATOR_CONCURRENCY: ' 12 ' }), { concurrency: 12 });
  });

  it('ORCHESTRATOR_STUCK_AFTER: a duration, as in workflows (a bare number is seconds)', () => {
    const ms = (v: string) => envDefaults({ ORCHESTRATOR_STUCK_AFTER: v }).stuckAfterMs;
    assert.equal(ms('90s'), 90_000);
    assert.equal(ms('5m'), 300_000);
    assert.equal(ms('1h30m'), 5_400_000);
    assert.equal(ms('500ms'), 500);
    assert.equal(ms(' 2m '), 120_000);
    assert.equal(ms('45'), 45_000);
    assert.equal(ms('1.5s'), 1500);
  });

  it('both at once', () => {
    assert.deepEqual(envDefaults({ ORCHESTRATOR_CONCURRENCY: '3', ORCHESTRATOR_STUCK_AFTER: '10m' }), { concurrency: 3, stuckAfterMs: 600_000 });
  });

  it('a bad ORCHESTRATOR_CONCURRENCY: a SettingError that names the variable and its value and says what to do', () => {
    for (const bad of ['abc', '0', '-1', '1.5', '2 steps', '1e400', 'NaN']) {
      assert.throws(
        () => envDefaults({ ORCHESTRATOR_CONCURRENCY: bad }),
        (e: unknown) => {
          assert.ok(e instanceof SettingError, `${bad}: ${String(e)}`);
          assert.ok(e.message.includes(`ORCHESTRATOR_CONCURRENCY is '${bad}'`), e.message);
          assert.match(e.message, /set it to a whole number from 1, or unset it/);
          return true;
        },
      );
    }
  });

  it('a bad ORCHESTRATOR_STUCK_AFTER: a SettingError that names the variable and its value and says what to do', () => {
    for (const bad of ['soon', '0', '0s', '5 minutes', '-5s', '5x', 'm']) {
      assert.throws(
        () => envDefaults({ ORCHESTRATOR_STUCK_AFTER: bad }),
        (e: unknown) => {
          assert.ok(e instanceof SettingError, `${bad}: ${String(e)}`);
          assert.ok(e.message.includes(`ORCHESTRATOR_STUCK_AFTER is '${bad}'`), e.message);
          assert.match(e.message, /set it to a duration such as 90s, 5m or 1h, or unset it/);
          return true;
        },
      );
    }
  });

  it('the value in the message is trimmed (as it was read)', () => {
    assert.throws(() => envDefaults({ ORCHESTRATOR_CONCURRENCY: '  abc  ' }), /ORCHESTRATOR_CONCURRENCY is 'abc':/);
  });

  it('envDefaultsLenient ignores malformed values (for read-only views) and keeps good ones', () => {
    assert.deepEqual(envDefaultsLenient({ ORCHESTRATOR_CONCURRENCY: 'abc' }), {});
    assert.deepEqual(envDefaultsLenient({ ORCHESTRATOR_STUCK_AFTER: '2m' }), { stuckAfterMs: 120_000 });
  });
});

/** [startedAt, finishedAt] of a step, in ms. */
function window(state: SessionState, step: string): [number, number] {
  const s = state.steps[step];
  const w: [number, number] = [Date.parse(s.startedAt ?? ''), Date.parse(s.finishedAt ?? '')];
  assert.ok(w.every(Number.isFinite), `${step} has start and end times: ${JSON.stringify(s)}`);
  return w;
}

function overlap(state: SessionState, a: string, b: string): boolean {
  const [x, y] = [window(state, a), window(state, b)].sort((p, q) => p[0] - q[0]);
  return y[0] < x[1];
}

/** Two independent steps; `together`: each runs until both have started (only ends if they run side by side). */
const TWO = (concurrency?: number, together = false) => {
  const body = together ? '|\n      touch "$ORCHESTRATOR_STEP_ID.started"\n      until [ -e first.started ] && [ -e second.started ]; do sleep 0.01; done' : 'sleep 0.5';
  return `
name: two
${concurrency ? `concurrency: ${concurrency}\n` : ''}steps:
  - id: first
    run: ${body}
  - id: second
    run: ${body}
`;
};

describe('the defaults in sessions', () => {
  it('ORCHESTRATOR_CONCURRENCY=1: two independent steps of a workflow without concurrency run one after the other', async () => {
    const repo = makeRepo(TWO());
    const r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_CONCURRENCY: '1' }) });
    assert.equal(r.state.status, 'succeeded');
    assert.ok(!overlap(r.state, 'first', 'second'), JSON.stringify([window(r.state, 'first'), window(r.state, 'second')]));
  });

  it("the workflow's own concurrency wins over ORCHESTRATOR_CONCURRENCY", async () => {
    const repo = makeRepo(TWO(2, true));
    const r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_CONCURRENCY: '1' }) });
    assert.equal(r.state.status, 'succeeded');
    assert.ok(overlap(r.state, 'first', 'second'), 'the two steps ran at the same time');
  });

  it('ORCHESTRATOR_STUCK_AFTER flags a silent step without stuck_after; a stuck_after of the step or of defaults wins', async () => {
    const repo = makeRepo(`
name: quiet
defaults:
  stuck_after: 1h
steps:
  - id: quiet
    run: sleep 1
`);
    // defaults.stuck_after (1h) wins over the variable.
    let r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_STUCK_AFTER: '200ms' }) });
    assert.equal(r.state.status, 'succeeded');
    assert.ok(!events(repo, r.id).some((e) => e.type === 'step.stuck'), 'not stuck: defaults.stuck_after is 1h');

    fs.writeFileSync(repo.file, 'name: quiet\nsteps:\n  - id: quiet\n    stuck_after: 1h\n    run: sleep 1\n');
    r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_STUCK_AFTER: '200ms' }) });
    assert.ok(!events(repo, r.id).some((e) => e.type === 'step.stuck'), "not stuck: the step's stuck_after is 1h");

    // This one runs until the runner has flagged it (step.stuck is in the log).
    fs.writeFileSync(repo.file, `name: quiet\nsteps:\n  - id: quiet\n    run: until grep -q '"type":"step.stuck"' ".orchestrator/sessions/$ORCHESTRATOR_SESSION_ID/log.jsonl"; do sleep 0.02; done\n`);
    r = await runToRest(repo, {}, { env: cleanEnv({ ORCHESTRATOR_STUCK_AFTER: '200ms' }) });
    assert.equal(r.state.status, 'succeeded');
    const stuck = events(repo, r.id).filter((e) => e.type === 'step.stuck');
    assert.deepEqual(stuck.map((e) => e.step), ['quiet'], 'stuck after 200 ms of silence (the default 5m would not be)');
  });

  it('a bad value stops a start with an InputError before anything is written', async () => {
    const repo = makeRepo(TWO());
    const bad: [string, string][] = [
      ['ORCHESTRATOR_CONCURRENCY', 'abc'],
      ['ORCHESTRATOR_STUCK_AFTER', 'soon'],
    ];
    for (const [name, value] of bad) {
      await assert.rejects(start(repo, {}, { env: cleanEnv({ [name]: value }) }), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.ok(e.message.startsWith(`${name} is '${value}': set it to`), e.message);
        return true;
      });
    }
    assert.ok(!fs.existsSync(path.join(repo.root, '.orchestrator', 'sessions')) || fs.readdirSync(path.join(repo.root, '.orchestrator', 'sessions')).length === 0, 'no session was made');
  });

  it('a bad value stops a resume too, and the session is left as it was', async () => {
    const repo = makeRepo('name: fails\nsteps:\n  - id: a\n    run: exit 1\n');
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'failed');
    const log = sessionPaths(repo.root, r.id).log;
    const before = fs.readFileSync(log);
    await assert.rejects(resumeSession(r.id, { ...runOpts(repo), env: cleanEnv({ ORCHESTRATOR_CONCURRENCY: '0' }) }), /ORCHESTRATOR_CONCURRENCY is '0'/);
    assert.ok(fs.readFileSync(log).equals(before), 'the log is unchanged');
    assert.ok(!fs.existsSync(sessionPaths(repo.root, r.id).lock), 'no lock left behind');
  });
});

describe('the defaults through the CLI', () => {
  const { root, home } = makeCliRepo('orch-settings-cli');
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.writeFileSync(path.join(root, 'two.workflow.yaml'), TWO());
  const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, { cwd: root, env: cliEnv(home, env), timeoutMs: 60_000 });

  it('run FILE with ORCHESTRATOR_CONCURRENCY=abc exits 2 with the message and leaves no session folder', async () => {
    assert.ok(fs.existsSync(CLI), 'run npm run build first');
    const r = await cli({ ORCHESTRATOR_CONCURRENCY: 'abc' }, 'run', 'two.workflow.yaml');
    assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.stderr, "orchestrator: ORCHESTRATOR_CONCURRENCY is 'abc': set it to a whole number from 1, or unset it\n");
    assert.equal(r.stdout, '');
    assert.deepEqual(sessionFolders(root), [], 'no session folder');
  });

  it('run FILE with ORCHESTRATOR_STUCK_AFTER=soon, and run --detach with a bad value, exit 2 and leave no session folder', async () => {
    const r = await cli({ ORCHESTRATOR_STUCK_AFTER: 'soon' }, 'run', 'two.workflow.yaml');
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, "orchestrator: ORCHESTRATOR_STUCK_AFTER is 'soon': set it to a duration such as 90s, 5m or 1h, or unset it\n");
    const d = await cli({ ORCHESTRATOR_CONCURRENCY: '-2' }, 'run', 'two.workflow.yaml', '--detach');
    assert.equal(d.code, 2, d.stderr);
    assert.match(d.stderr, /ORCHESTRATOR_CONCURRENCY is '-2': set it to a whole number from 1, or unset it/);
    assert.doesNotMatch(d.stderr, /internal error|\n\s+at /, 'no stack trace');
    assert.deepEqual(sessionFolders(root), [], 'no session folder');
  });

  it('a good value is used (the run succeeds); read-only commands ignore a bad one', async () => {
    const r = await cli({ ORCHESTRATOR_CONCURRENCY: '1', ORCHESTRATOR_STUCK_AFTER: '5m' }, 'run', 'two.workflow.yaml', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'succeeded');
    for (const cmd of ['list', 'stuck']) {
      const ro = await cli({ ORCHESTRATOR_CONCURRENCY: 'abc', ORCHESTRATOR_STUCK_AFTER: 'soon' }, cmd);
      assert.equal(ro.code, 0, `${cmd}: ${ro.stderr}`);
    }
  });
});
