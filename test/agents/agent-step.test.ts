/**
 * Agent steps through the real engine: a local server speaking the OpenAI chat-completions
 * streaming format on loopback, providers configured in .orchestrator/config.yaml, the key from a
 * secret; and a CLI agent through a `command` provider.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';
import { loadSession } from '../../server/src/store/sessionStore';

const KEY = 'sk-test-4f9a8b7c6d5e';

interface Seen {
  auth?: string;
  body?: { model?: string; messages?: { role: string; content: string }[] };
}

/** A chat-completions server: `mode` chooses the answer. */
function server(mode: () => 'ok' | '401' | '500'): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body: JSON.parse(raw) as Seen['body'] });
      const m = mode();
      if (m !== 'ok') {
        res.writeHead(m === '401' ? 401 : 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: m === '401' ? 'bad key' : 'boom' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const answer = ['The change looks risky.\n', 'One problem:\n', '```findings\n[{"severity": "high", "message": "SQL built from input", "file": "src/db.ts", "line": 12, "rule": "sql-injection"}]\n```\n'];
      let i = 0;
      const tick = (): void => {
        if (i < answer.length) {
          res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: answer[i++] } }] })}\n\n`);
          setTimeout(tick, 30);
        } else {
          res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 42, completion_tokens: 17 } })}\n\n`);
          res.end('data: [DONE]\n\n');
        }
      };
      tick();
    });
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((r) => srv.close(() => r())) });
    });
  });
}

function repo(config: string, workflow: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-agent-'));
  fs.mkdirSync(path.join(dir, '.git'));
  fs.mkdirSync(path.join(dir, '.orchestrator', 'prompts'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), config);
  fs.writeFileSync(path.join(dir, '.orchestrator', 'prompts', 'reviewer.md'), 'You review code for security problems.\n');
  fs.writeFileSync(path.join(dir, 'AGENTS.md'), 'House rules: no SQL built from strings.\n');
  fs.writeFileSync(path.join(dir, '.orchestrator', 'review.workflow.yaml'), workflow);
  return dir;
}

async function run(dir: string) {
  const s = await startSession(path.join(dir, '.orchestrator', 'review.workflow.yaml'), {}, { repoRoot: dir, env: { ...process.env, ORCHESTRATOR_SECRET_LOCAL_KEY: KEY } });
  await s.done;
  return loadSession(dir, s.id);
}

function everyFile(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...everyFile(p));
    else out.push(p);
  }
  return out;
}

describe('agent steps (OpenAI-compatible provider over loopback)', () => {
  let srv: Awaited<ReturnType<typeof server>>;
  let mode: 'ok' | '401' | '500' = 'ok';
  before(async () => {
    srv = await server(() => mode);
  });
  after(() => srv.close());

  const config = (name: string): string => `providers:\n  ${name}:\n    type: openai\n    base_url: ${srv.url}\n    api_key_secret: LOCAL_KEY\n    model: default-model\n`;
  const workflow = (name: string, retry = ''): string => `name: review
agents:
  reviewer: { provider: ${name}, model: agent-model, instructions: prompts/reviewer.md, context: [AGENTS.md] }
steps:
  - id: plan
    run: echo "summary=the login change" >> "$ORCHESTRATOR_OUTPUT"
  - id: review
    needs: plan
    agent: reviewer
    model: step-model
    prompt: "Review \${{ steps.plan.outputs.summary }} (token \${{ secrets.LOCAL_KEY }})"${retry}
  - id: after
    needs: review
    run: echo "\${{ steps.review.outputs.text }}" | sed -n 1p
`;

  it('streams the answer into the log, records model and usage, reads findings, masks the key everywhere', async () => {
    mode = 'ok';
    const dir = repo(config('local-ok'), workflow('local-ok'));
    const l = await run(dir);
    assert.equal(l.state.status, 'succeeded', JSON.stringify(l.state.steps.review));
    const review = l.state.steps.review;
    assert.match(review.outputs.text, /^The change looks risky\.\nOne problem:/);
    assert.deepEqual(review.agent && { provider: review.agent.provider, model: review.agent.model, usage: review.agent.usage }, { provider: 'local-ok', model: 'step-model', usage: { inputTokens: 42, outputTokens: 17 } });
    // The request: the step's model wins, the instructions file is the system message, the key is sent.
    const req = srv.seen.at(-1)!;
    assert.equal(req.auth, `Bearer ${KEY}`);
    assert.equal(req.body?.model, 'step-model');
    assert.match(req.body?.messages?.[0].content ?? '', /You review code for security problems\.[\s\S]*```findings/);
    assert.equal(req.body?.messages?.[1].content, `Review the login change (token ${KEY})\n\n## Context: AGENTS.md\n\nHouse rules: no SQL built from strings.\n`);
    // Findings from the answer.
    assert.deepEqual(
      l.state.findings.map((f) => [f.severity, f.file, f.line, f.rule, f.source]),
      [['high', 'src/db.ts', 12, 'sql-injection', 'agent']],
    );
    // What was sent is saved, masked; the answer is in the step's log.
    const sent = fs.readFileSync(l.paths.stepLog('review', 1).replace(/\.log$/, '.prompt.md'), 'utf8');
    assert.match(sent, /model: step-model/);
    assert.match(sent, /Review the login change \(token \*\*\*\)/);
    assert.match(fs.readFileSync(l.paths.stepLog('review', 1), 'utf8'), /The change looks risky\.\nOne problem:/);
    assert.equal(l.state.steps.after.status, 'succeeded');
    for (const f of everyFile(path.join(dir, '.orchestrator', 'sessions'))) assert.ok(!fs.readFileSync(f, 'utf8').includes(KEY), `${f} holds the key`);
  });

  it('a rejected key fails the step at once (no retry) with advice', async () => {
    mode = '401';
    const dir = repo(config('local-401'), workflow('local-401', '\n    retry: { max_attempts: 3, backoff: 10ms }'));
    const l = await run(dir);
    const review = l.state.steps.review;
    assert.equal(review.status, 'failed');
    assert.equal(review.attempt, 1);
    assert.match(review.reason ?? '', /HTTP 401.*check the api key \(secret LOCAL_KEY\)/);
  });

  it('a server error is retried by the step\'s policy', async () => {
    let calls = 0;
    mode = '500';
    const dir = repo(config('local-500'), workflow('local-500', '\n    retry: { max_attempts: 2, backoff: 10ms }'));
    const before = srv.seen.length;
    const l = await run(dir);
    calls = srv.seen.length - before;
    assert.equal(l.state.steps.review.status, 'failed');
    assert.equal(l.state.steps.review.attempt, 2);
    assert.equal(calls, 2);
  });

  it('an unknown provider says what to do', async () => {
    const dir = repo('providers: {}\n', workflow('nowhere'));
    const l = await run(dir);
    assert.match(l.state.steps.review.reason ?? '', /unknown provider 'nowhere': use a built-in one .* or configure it under providers: in \.orchestrator\/config\.yaml/);
    assert.equal(l.state.steps.review.attempt, 1);
  });
});

describe('agent steps (Anthropic Messages API over loopback)', () => {
  it('streams text deltas, sends the key as x-api-key and the instructions as system, records usage', async () => {
    let seen: { key?: string; version?: string; body?: { model?: string; system?: string; messages?: { content: string }[] } } = {};
    const srv = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        seen = { key: req.headers['x-api-key'] as string, version: req.headers['anthropic-version'] as string, body: JSON.parse(raw) as typeof seen.body };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const ev = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        res.write(ev('message_start', { message: { model: 'claude-test', usage: { input_tokens: 25 } } }));
        res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Looks fine. ' } }));
        res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Ship it.' } }));
        res.write(ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }));
        res.end(ev('message_stop', {}));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const dir = repo(
        `providers:\n  claude-api:\n    type: anthropic\n    base_url: ${url}\n    api_key_secret: LOCAL_KEY\n`,
        `name: anth\nagents:\n  a: { provider: claude-api, model: claude-test, instructions: Be brief. }\nsteps:\n  - id: ask\n    agent: a\n    prompt: Is it ready?\n`,
      );
      const l = await run(dir);
      const ask = l.state.steps.ask;
      assert.equal(l.state.status, 'succeeded', JSON.stringify(ask));
      assert.equal(ask.outputs.text, 'Looks fine. Ship it.');
      assert.deepEqual(ask.agent?.usage, { inputTokens: 25, outputTokens: 7 });
      assert.equal(seen.key, KEY);
      assert.equal(seen.version, '2023-06-01');
      assert.equal(seen.body?.model, 'claude-test');
      assert.match(seen.body?.system ?? '', /^Be brief\./);
      assert.equal(seen.body?.messages?.[0].content, 'Is it ready?');
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('negotiate: { agent }: an arbiter settles disputed findings', () => {
  it('asks the arbiter once the steps are done and keeps its decision with every opinion', async () => {
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const answer = 'Looked at both.\n```decision\n{"severity": "medium", "status": "open", "reason": "only admins reach this code"}\n```\n';
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: answer } }] })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1`;
    try {
      const dir = repo(
        `providers:\n  judgep:\n    type: openai\n    base_url: ${url}\n    model: m\n`,
        `name: disputed\nnegotiate: { agent: judge }\nagents:\n  judge: { provider: judgep, instructions: You arbitrate. }\nsteps:\n  - id: a\n    run: echo "::finding severity=low file=src/x.ts line=3 rule=r1::minor"\n  - id: b\n    run: echo "::finding severity=critical file=src/x.ts line=3 rule=r1::dangerous"\n`,
      );
      const l = await run(dir);
      assert.equal(l.state.status, 'succeeded');
      const [f] = l.state.findings;
      assert.equal(f.severity, 'medium');
      assert.deepEqual(f.decision, { policy: 'agent', by: 'judge', severity: 'medium', status: 'open', reason: 'only admins reach this code' });
      assert.deepEqual(f.sources.map((s) => [s.step, s.severity]), [['a', 'low'], ['b', 'critical']]);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('agent steps (a CLI agent through a command provider)', () => {
  it('runs the program with the prompt on stdin and takes its output as the answer', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-agent-bin-'));
    const tool = path.join(bin, 'echo-agent');
    fs.writeFileSync(tool, '#!/usr/bin/env bash\necho "model: $2"\necho "prompt: $(cat)"\n');
    fs.chmodSync(tool, 0o755);
    const dir = repo(
      `providers:\n  echoer:\n    type: command\n    command: [${tool}, --model, "{model}"]\n    prompt: stdin\n`,
      `name: cli\nagents:\n  a: { provider: echoer, model: tiny, instructions: Be brief. }\nsteps:\n  - id: ask\n    agent: a\n    prompt: say hello\n`,
    );
    const l = await run(dir);
    assert.equal(l.state.status, 'succeeded', JSON.stringify(l.state.steps.ask));
    assert.match(l.state.steps.ask.outputs.text, /^model: tiny\nprompt: Be brief\./);
    assert.match(l.state.steps.ask.outputs.text, /say hello/);
    assert.equal(l.state.steps.ask.agent?.provider, 'echoer');
  });
});
