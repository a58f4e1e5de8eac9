/**
 * Budgets of agent calls through the real engine: a loopback fake model server (Anthropic
 * Messages API) that holds its stream until the budget trips, and a claude-style CLI agent (a
 * bash script printing stream-json) whose process group is killed over turns or time. No
 * assertion depends on how fast the machine is: a call is stopped by what it reports, and the
 * time budget is checked only for its kill and its reason.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resumeSession, startSession } from '../../server/src/engine/sessions';
import { loadSession } from '../../server/src/store/sessionStore';
import { FakeModelServer } from '../helpers/fakeModels';

const KEY = 'sk-test-4f9a8b7c6d5e';
const dirs: string[] = [];

function repo(config: string, workflow: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-budget-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, '.git'));
  fs.mkdirSync(path.join(dir, '.orchestrator'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), config);
  fs.writeFileSync(path.join(dir, '.orchestrator', 'b.workflow.yaml'), workflow);
  return dir;
}

const opts = (dir: string) => ({ repoRoot: dir, env: { ...process.env, ORCHESTRATOR_SECRET_LOCAL_KEY: KEY } });

async function run(dir: string) {
  const s = await startSession(path.join(dir, '.orchestrator', 'b.workflow.yaml'), {}, opts(dir));
  await s.done;
  return loadSession(dir, s.id);
}

function events(dir: string, id: string): { type: string; step?: string; data?: Record<string, unknown> }[] {
  return fs
    .readFileSync(path.join(dir, '.orchestrator', 'sessions', id, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step?: string; data?: Record<string, unknown> });
}

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('budgets: an HTTP provider (Anthropic API on loopback)', () => {
  let fake: FakeModelServer;
  let config: string;
  before(async () => {
    fake = await FakeModelServer.start();
    fake.allTurnsMain = true;
    config = `providers:\n  api:\n    type: anthropic\n    base_url: ${fake.url}\n    api_key_secret: LOCAL_KEY\n`;
  });
  after(() => fake.close());

  it('stops the stream once the tokens are over, fails the step with the figures, and does not retry', async () => {
    // 49,000 input tokens at message_start, then chunks of 2,000 characters (500 tokens each, estimated):
    // the third chunk makes 50,500. The server holds after five chunks, so only the budget can end it.
    const held = fake.answer({ text: 'x'.repeat(20_000), chunks: 10, holdAfter: 5, usage: { input: 49_000, output: 5_000 } });
    const dir = repo(config, `name: b\nagents:\n  a: { provider: api, model: fake-model }\nsteps:\n  - id: ask\n    agent: a\n    prompt: go\n    budget: { tokens: 50000 }\n    retry: { max_attempts: 3, backoff: 1ms }\n`);
    const l = await run(dir);
    const ask = l.state.steps.ask;
    assert.equal(ask.status, 'failed');
    assert.equal(ask.reason, 'budget exceeded: 50,500 of 50,000 tokens');
    assert.equal(ask.attempt, 1, 'a budget failure is not retried');
    const rec = await held.reached;
    assert.equal(await fake.waitForClose(rec.seq), true, 'the client closed the stream before its end');
    assert.equal(ask.agent?.estimated, true);
    assert.equal(ask.agent?.usage?.inputTokens, 49_000);
    // What streamed before the abort took effect counts too (up to the hold after five chunks).
    const spent = l.state.spent?.total.tokens ?? 0;
    assert.ok(spent >= 50_500 && spent <= 51_500, String(spent));
    assert.equal(fake.mainRequests().filter((r) => r.seq >= rec.seq).length, 1);
    held.release();
  });

  it('prices the call from prices: and stops a cost budget as soon as the input is reported', async () => {
    fake.answer({ text: 'fine', usage: { input: 10_000, output: 2_000 } });
    const held = fake.answer({ text: 'y'.repeat(400), chunks: 4, holdAfter: 0, usage: { input: 1_000_000, output: 10 } });
    const dir = repo(
      `${config}prices:\n  fake-model: { input: 3, output: 15 }\n`,
      `name: b\nagents:\n  a: { provider: api, model: fake-model }\nsteps:\n  - id: cheap\n    agent: a\n    prompt: go\n  - id: dear\n    needs: cheap\n    agent: a\n    prompt: go\n    budget: { cost: 1 }\n`,
    );
    const l = await run(dir);
    const cheap = l.state.steps.cheap;
    assert.equal(cheap.status, 'succeeded');
    assert.deepEqual(cheap.agent?.cost, { usd: 0.06, from: 'prices' }); // 10,000 × $3/M + 2,000 × $15/M
    const dear = l.state.steps.dear;
    assert.equal(dear.status, 'failed');
    assert.equal(dear.reason, 'budget exceeded: $3.00 of $1.00');
    const rec = await held.reached;
    assert.equal(await fake.waitForClose(rec.seq), true);
    held.release();
  });

  it('warns, on the step and in its log, when a cost budget has no price to check against', async () => {
    fake.answer({ text: 'done', usage: { input: 10, output: 2 } });
    const dir = repo(config, `name: b\nagents:\n  a: { provider: api, model: fake-model }\nsteps:\n  - id: ask\n    agent: a\n    prompt: go\n    budget: { cost: 1 }\n`);
    const l = await run(dir);
    assert.equal(l.state.steps.ask.status, 'succeeded');
    const finished = events(dir, l.state.id).find((e) => e.type === 'step.finished' && e.step === 'ask');
    const warning = 'cost budget not checked: no price for model fake-model in prices: (.orchestrator/config.yaml), and the tool reported no cost';
    assert.deepEqual(finished?.data?.warnings, [warning]);
    assert.match(fs.readFileSync(path.join(dir, '.orchestrator', 'sessions', l.state.id, 'steps', 'ask', '1.log'), 'utf8'), new RegExp(`\\[budget\\] ${warning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('once the session budget is spent, the next agent step does not start', async () => {
    fake.answer({ text: 'first', usage: { input: 60, output: 40 } });
    const before = fake.mainRequests().length;
    const dir = repo(config, `name: b\nbudget: { tokens: 100 }\nagents:\n  a: { provider: api, model: fake-model }\nsteps:\n  - id: one\n    agent: a\n    prompt: go\n  - id: two\n    needs: one\n    agent: a\n    prompt: go\n`);
    const l = await run(dir);
    assert.equal(l.state.steps.one.status, 'succeeded');
    assert.equal(l.state.steps.two.status, 'failed');
    assert.equal(l.state.steps.two.reason, 'session budget exceeded: 100 of 100 tokens: no further agent call starts');
    assert.equal(fake.mainRequests().length - before, 1, 'the second call never reached the server');
  });

  it('an agent budget counts all of its steps', async () => {
    fake.answer({ text: 'first', usage: { input: 30, output: 30 } });
    fake.answer({ text: 'other', usage: { input: 500, output: 500 } });
    const dir = repo(
      config,
      `name: b\nagents:\n  a: { provider: api, model: fake-model, budget: { tokens: 50 } }\n  o: { provider: api, model: fake-model }\nsteps:\n  - id: one\n    agent: a\n    prompt: go\n    on_error: continue\n  - id: other\n    needs: one\n    agent: o\n    prompt: go\n  - id: two\n    needs: other\n    agent: a\n    prompt: go\n`,
    );
    const l = await run(dir);
    assert.equal(l.state.steps.one.reason, "agent 'a' budget exceeded: 60 of 50 tokens");
    assert.equal(l.state.steps.other.status, 'succeeded');
    assert.equal(l.state.steps.two.reason, "agent 'a' budget exceeded: 60 of 50 tokens: no further agent call starts");
    assert.equal(l.state.spent?.agents.a.tokens, 60);
    assert.equal(l.state.spent?.agents.o.tokens, 1000);
  });

  it('a resumed session keeps what was spent before', async () => {
    fake.answer({ text: 'first', usage: { input: 60, output: 40 } });
    const held = fake.answer({ text: 'z'.repeat(100), chunks: 2, holdAfter: 0, usage: { input: 60, output: 40 } });
    const dir = repo(
      config,
      `name: b\nbudget: { tokens: 150 }\nagents:\n  a: { provider: api, model: fake-model }\nsteps:\n  - id: one\n    agent: a\n    prompt: go\n  - id: gate\n    needs: one\n    run: test -f ok\n  - id: two\n    needs: gate\n    agent: a\n    prompt: go\n`,
    );
    const first = await run(dir);
    assert.equal(first.state.steps.gate.status, 'failed');
    assert.equal(first.state.spent?.total.tokens, 100);
    fs.writeFileSync(path.join(dir, 'ok'), '');
    const r = await resumeSession(first.state.id, opts(dir));
    await r.done;
    const l = loadSession(dir, first.state.id);
    assert.equal(l.state.steps.one.status, 'succeeded');
    // 100 before the resume + 60 input at message_start (and 1 output) > 150
    assert.equal(l.state.steps.two.reason, 'session budget exceeded: 161 of 150 tokens');
    assert.equal(await fake.waitForClose((await held.reached).seq), true);
    held.release();
  });
});

describe('budgets: a CLI agent (claude-style stream-json)', () => {
  /** A claude-like tool: N turns (message_start, a text delta, the whole message), then it blocks until killed. */
  function tool(dir: string, turns: number): string {
    const msg = (i: number) =>
      [
        { type: 'stream_event', event: { type: 'message_start', message: { id: `m${i}`, model: 'fake-model', usage: { input_tokens: 10, output_tokens: 1 } } } },
        { type: 'stream_event', event: { type: 'content_block_delta', delta: { type: 'text_delta', text: `turn ${i}. ` } } },
        { type: 'assistant', message: { id: `m${i}`, model: 'fake-model', content: [{ type: 'text', text: `turn ${i}. ` }], usage: { input_tokens: 10, output_tokens: 3 } } },
      ]
        .map((o) => `echo '${JSON.stringify(o)}'`)
        .join('\n');
    const file = path.join(dir, 'fake-claude.sh');
    const lines = ['#!/bin/bash', 'echo $$ > "$PIDFILE"', `echo '${JSON.stringify({ type: 'system', subtype: 'init', model: 'fake-model' })}'`];
    for (let i = 1; i <= turns; i++) lines.push(msg(i));
    lines.push('exec sleep 600');
    fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o755 });
    return file;
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function cliRun(turns: number, budget: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-budget-cli-'));
    dirs.push(dir);
    const script = tool(dir, turns);
    const pidFile = path.join(dir, 'pid');
    const d = repo(`providers:\n  fc:\n    type: claude-code\n    command: ${script}\n`, `name: b\nagents:\n  a: { provider: fc, model: fake-model }\nsteps:\n  - id: ask\n    agent: a\n    prompt: go\n    env: { PIDFILE: ${pidFile} }\n    budget: ${budget}\n    retry: { max_attempts: 2, backoff: 1ms }\n`);
    const l = await run(d);
    // Under a heavy load the tool may be killed before it wrote its pid: then it was killed too.
    return { l, pid: fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0 };
  }

  it('kills the tool when a turn past the budget starts', async () => {
    const { l, pid } = await cliRun(5, '{ turns: 2 }');
    const ask = l.state.steps.ask;
    assert.equal(ask.status, 'failed');
    assert.equal(ask.reason, 'budget exceeded: 3 of 2 turns');
    assert.equal(ask.attempt, 1);
    assert.equal(alive(pid), false, 'the tool was killed');
    assert.ok((ask.agent?.turns ?? 0) >= 3, 'the turns it started are recorded');
  });

  it('kills the tool that blocks when its time budget runs out', async () => {
    const { l, pid } = await cliRun(1, '{ time: 200ms }');
    const ask = l.state.steps.ask;
    assert.equal(ask.status, 'failed');
    assert.match(ask.reason ?? '', /^budget exceeded: .+ of 200 ms of agent time$/);
    assert.equal(ask.attempt, 1);
    assert.equal(pid > 0 && alive(pid), false, 'the tool was killed');
  });
});
