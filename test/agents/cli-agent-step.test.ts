/**
 * CLI agents as steps, through the real engine and real processes (issue 11, items 1, 2, 4, 10):
 * what environment and folder the agent gets, prompts over 128 KiB, and the circuit breaker.
 * The "tool" is a small bash script of the test's; the real CLIs are in test/agents-real/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { configureBreakers } from '../../server/src/engine/steps/agentStep';
import { startSession } from '../../server/src/engine/sessions';
import { loadSession } from '../../server/src/store/sessionStore';

const SECRET = 'sk-do-not-leak-7f3a9c';
const OTHER = 'sk-zq81-e81b2dxx';
const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
afterEach(() => configureBreakers());

function tool(body: string): string {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-tool-'));
  made.push(bin);
  const file = path.join(bin, 'tool');
  fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  fs.chmodSync(file, 0o755);
  return file;
}

function repo(config: string, workflow: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-agent-'));
  made.push(dir);
  fs.mkdirSync(path.join(dir, '.git'));
  fs.mkdirSync(path.join(dir, '.orchestrator'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), config);
  fs.writeFileSync(path.join(dir, 'w.workflow.yaml'), workflow);
  return dir;
}

async function run(dir: string, env: Record<string, string> = {}) {
  const s = await startSession(path.join(dir, 'w.workflow.yaml'), {}, { repoRoot: dir, env: { ...process.env, ORCHESTRATOR_SECRET_MINE: SECRET, ORCHESTRATOR_SECRET_OTHER: OTHER, ...env } });
  await s.done;
  return loadSession(dir, s.id).state;
}

describe('a CLI agent step: environment and folder', () => {
  it('gets a clean environment: no secret of the session, the workflow and step env, its own key only when configured', async () => {
    const t = tool('env > "$DUMP"; pwd > "$DUMP.pwd"; cat > /dev/null; echo done');
    const dir = repo(`providers:\n  t:\n    type: command\n    command: [${t}]\n`, '');
    const dump = path.join(dir, 'env.txt');
    fs.writeFileSync(
      path.join(dir, 'w.workflow.yaml'),
      `name: w\nenv:\n  WF_VAR: from-workflow\nagents:\n  a: { provider: t }\nsteps:\n  - id: ask\n    agent: a\n    working_directory: src\n    env:\n      DUMP: ${dump}\n      STEP_VAR: from-step\n    prompt: hi\n`,
    );
    const st = await run(dir);
    assert.equal(st.status, 'succeeded', JSON.stringify(st.steps.ask));
    const env = fs.readFileSync(dump, 'utf8');
    assert.ok(!env.includes('ORCHESTRATOR_SECRET_'), 'no secret variable');
    assert.ok(!env.includes(SECRET) && !env.includes(OTHER), 'no secret value');
    assert.match(env, /^WF_VAR=from-workflow$/m);
    assert.match(env, /^STEP_VAR=from-step$/m);
    assert.match(env, /^ORCHESTRATOR_STEP_ID=ask$/m);
    // The step's working directory, not the orchestrator's current folder (issue 11, item 2).
    assert.notEqual(process.cwd(), path.join(dir, 'src'));
    assert.equal(fs.readFileSync(`${dump}.pwd`, 'utf8').trim(), fs.realpathSync(path.join(dir, 'src')));
  });

  it('runs in the repository root when the step names no folder', async () => {
    const t = tool('pwd; cat > /dev/null');
    const dir = repo(`providers:\n  t:\n    type: command\n    command: [${t}]\n`, `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: ask\n    agent: a\n    prompt: hi\n`);
    const st = await run(dir);
    assert.equal(st.steps.ask.outputs.text.trim(), fs.realpathSync(dir));
  });
});

describe('a CLI agent step: prompts over 128 KiB', () => {
  const big = 'x'.repeat(200_000);
  it('goes on stdin whole (a 200,000-character context file)', async () => {
    const t = tool('wc -c');
    const dir = repo(`providers:\n  t:\n    type: command\n    command: [${t}]\n    prompt: stdin\n`, `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: ask\n    agent: a\n    context: [big.txt]\n    prompt: read it\n`);
    fs.writeFileSync(path.join(dir, 'big.txt'), big);
    const st = await run(dir);
    assert.equal(st.steps.ask.status, 'succeeded', st.steps.ask.reason);
    assert.ok(Number(st.steps.ask.outputs.text.trim()) > 200_000);
  });

  it('as an argument: a clear error naming the provider and the limit, not spawn E2BIG', async () => {
    const t = tool('echo "$#"');
    const dir = repo(`providers:\n  t:\n    type: command\n    command: [${t}]\n    prompt: arg\n`, `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: ask\n    agent: a\n    context: [big.txt]\n    prompt: read it\n`);
    fs.writeFileSync(path.join(dir, 'big.txt'), big);
    const st = await run(dir);
    assert.equal(st.steps.ask.status, 'failed');
    assert.match(st.steps.ask.reason ?? '', /^provider 't': the prompt is \d+ KiB, over the 128 KiB one command-line argument may hold; set prompt: stdin/);
    assert.doesNotMatch(st.steps.ask.reason ?? '', /E2BIG/);
  });
});

describe('a CLI agent step and the circuit breaker (issue 11, item 10)', () => {
  /** Fails (exit 1, "Error: 503 overloaded") until the file `ok` exists in the repository. */
  const flaky = (dir: string): string => tool(`cat > /dev/null; if [ -e "${dir}/ok" ]; then echo fine; else echo "Error: 503 Service Unavailable (overloaded)" >&2; exit 1; fi`);

  it('an open breaker that stays open past the step\'s timeout: one attempt, failed with the breaker\'s own reason', async () => {
    configureBreakers({ failureThreshold: 1, coolDownMs: 3_600_000 });
    const dir = repo('', '');
    const t = flaky(dir);
    fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), `providers:\n  t:\n    type: command\n    command: [${t}]\n`);
    fs.writeFileSync(
      path.join(dir, 'w.workflow.yaml'),
      `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: first\n    agent: a\n    on_error: continue\n    prompt: one\n  - id: second\n    needs: first\n    agent: a\n    timeout: 10m\n    retry: { max_attempts: 3, backoff: 1ms }\n    prompt: two\n`,
    );
    const st = await run(dir);
    assert.equal(st.steps.first.status, 'failed');
    assert.equal(st.steps.second.status, 'failed');
    assert.equal(st.steps.second.attempt, 1, 'no attempt spent against the open breaker');
    assert.match(st.steps.second.reason ?? '', /^provider 't' failed 1 times in a row; not calling it until \d\d:\d\d:\d\d \(circuit open\).*this step's timeout ends at \d\d:\d\d:\d\d, before that, so it was not called$/);
  });

  it('an open breaker that half-opens within the step\'s time: the step waits for it, then its call goes through', async () => {
    configureBreakers({ failureThreshold: 1, coolDownMs: 300 });
    const dir = repo('', '');
    const t = flaky(dir);
    fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), `providers:\n  t:\n    type: command\n    command: [${t}]\n`);
    // first fails and opens the breaker, then makes the provider healthy; second waits out the cool-down.
    fs.writeFileSync(
      path.join(dir, 'w.workflow.yaml'),
      `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: first\n    agent: a\n    on_error: continue\n    prompt: one\n  - id: heal\n    needs: first\n    run: touch ok\n  - id: second\n    needs: heal\n    agent: a\n    prompt: two\n`,
    );
    const st = await run(dir);
    assert.equal(st.steps.first.status, 'failed');
    assert.equal(st.steps.second.status, 'succeeded', st.steps.second.reason);
    assert.equal(st.steps.second.attempt, 1);
  });
});
