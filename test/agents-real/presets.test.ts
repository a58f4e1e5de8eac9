/**
 * Our presets with the REAL agent CLIs, through the engine (issue 11, "Done means"): for each of
 * claude-code, codex, gemini and opencode, a workflow step whose provider is the preset (configured
 * in .orchestrator/config.yaml as a user would: the installed binary, the tool's own env, the key
 * from a secret), pointed at the loopback fake model server:
 * - the answer streams into the step's log before the step ends (claude, gemini: the fake holds the
 *   stream until the log shows the first chunk; codex and opencode print an answer only once the
 *   model has finished, docs/agent-clis-verified.md), findings come from the answer, the model and
 *   tokens are recorded;
 * - while the tool runs, its environment holds its own key and no secret of the session, and (for
 *   single-vendor tools) no other vendor's key;
 * - 401 fails at once, one clean line; 429, 500 and a cut stream are retried by the step's policy
 *   (the tools' own retries are turned off in their config, as a user who wants one retry policy
 *   would) — except claude, which answers a cut stream itself by asking again without streaming.
 * Run through test/agents-real/run.ts, which installs the tools and puts their paths in the env.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';
import { loadSession, sessionPaths } from '../../server/src/store/sessionStore';
import { FakeModelServer, splitChunks } from '../helpers/fakeModels/index';
import { useTool } from './toolSuite';
import { makeWorkdirs } from './runTool';
import { AGENT_TOOLS, setupTool, type AgentTool } from './setup';

const PRESET: Record<AgentTool, string> = { 'claude-code': 'claude-code', codex: 'codex', 'gemini-cli': 'gemini', opencode: 'opencode' };
/** The variable each tool reads its key from, as set up for the fake server (setup.ts). */
const KEY_ENV: Record<AgentTool, string> = { 'claude-code': 'ANTHROPIC_API_KEY', codex: 'CODEX_FAKE_API_KEY', 'gemini-cli': 'GEMINI_API_KEY', opencode: 'FAKE_OPENCODE_API_KEY' };
/** Single-vendor tools and their vendor's key variable (which they may keep); opencode uses any vendor's. */
const OWN_VENDOR_KEY: Record<AgentTool, string | undefined> = { 'claude-code': 'ANTHROPIC_API_KEY', codex: 'OPENAI_API_KEY', 'gemini-cli': 'GEMINI_API_KEY', opencode: undefined };
/** Tools that print the answer's text while the model still streams it. */
const STREAMS_TEXT: Record<AgentTool, boolean> = { 'claude-code': true, codex: false, 'gemini-cli': true, opencode: false };
/** Tools whose reported model is the server's (else: the one asked for). */
const REPORTS_SERVER_MODEL: Record<AgentTool, boolean> = { 'claude-code': true, codex: false, 'gemini-cli': true, opencode: false };

const OTHER_SECRET = 'zq-session-secret-4d1c9e';
const FOREIGN = { OPENAI_API_KEY: 'sk-foreign-openai-77aa', ANTHROPIC_API_KEY: 'sk-foreign-anthropic-88bb', GEMINI_API_KEY: 'foreign-gemini-99cc' };

/** Polls for a condition that an event outside this process makes true; `what` names it if the hang guard fires. */
async function waitFor<T>(get: () => T | undefined, what: string, guardMs = 120_000): Promise<T> {
  const end = Date.now() + guardMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A key that shares no piece with anything the test looks for (a secret's pieces are masked everywhere). */
const newKey = (): string => `k${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

for (const tool of AGENT_TOOLS) {
  const preset = PRESET[tool];
  describe(`the ${preset} preset with the real ${tool}`, () => {
    const t = useTool(tool, 'agents-preset');
    const bin = t.bin;

    /** A repository whose config points the preset at the installed tool, isolated in a temp HOME. */
    function repoFor(key: string): string {
      const dir = t.nextDir();
      const { repo } = makeWorkdirs(dir);
      const home = path.join(dir, 'home');
      fs.mkdirSync(home);
      const setup = setupTool(tool, { baseUrl: t.fake.url, dir: home, apiKey: key });
      // The tool's env, as a user would write it under env: (the key comes from the secret instead).
      const env = Object.fromEntries(Object.entries(setup.env).filter(([k]) => k !== KEY_ENV[tool]));
      const model = tool === 'opencode' ? `fake/${setup.model}` : setup.model;
      const config = {
        providers: {
          [preset]: { command: bin, model, api_key_secret: 'TOOL_KEY', key_env: KEY_ENV[tool], env },
        },
      };
      fs.mkdirSync(path.join(repo, '.orchestrator'), { recursive: true });
      fs.writeFileSync(path.join(repo, '.orchestrator', 'config.yaml'), JSON.stringify(config, null, 2));
      fs.writeFileSync(
        path.join(repo, 'review.workflow.yaml'),
        `name: review\nagents:\n  reviewer: { provider: ${preset} }\nsteps:\n  - id: ask\n    agent: reviewer\n    retry: { max_attempts: 2, backoff: 1ms }\n    prompt: Review the change in README.md.\n`,
      );
      return repo;
    }

    async function start(repo: string, key: string) {
      const env = { ...process.env, ...FOREIGN, ORCHESTRATOR_SECRET_TOOL_KEY: key, ORCHESTRATOR_SECRET_OTHER: OTHER_SECRET };
      return startSession(path.join(repo, 'review.workflow.yaml'), {}, { repoRoot: repo, env });
    }

    it('streams into the step log, takes findings from the answer, records model and tokens; the tool sees its own key only', async () => {
      const key = newKey();
      const repo = repoFor(key);
      const text = 'Reviewed the change: one problem in README.md, see below.';
      const held = t.fake.answer({ text, chunks: 3, holdAfter: 1, model: 'fake-model-answered', usage: { input: 21, output: 8 }, findings: [{ severity: 'high', message: 'the title is wrong', file: 'README.md', line: 1, rule: 'doc-title' }] }) as ReturnType<FakeModelServer['answer']> & { reached: Promise<unknown>; release(): void };
      const s = await start(repo, key);
      const paths = sessionPaths(repo, s.id);
      await held.reached;

      // While the model is still answering: the tool's environment.
      const rec = await waitFor(() => read(path.join(paths.dir, 'steps', 'ask', '1.proc')) || undefined, 'the step process record');
      const environ = fs.readFileSync(`/proc/${(JSON.parse(rec) as { pid: number }).pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes(`${KEY_ENV[tool]}=${key}`), 'its own key, from the secret');
      assert.ok(!environ.some((e) => e.startsWith('ORCHESTRATOR_SECRET_')), 'no secret variable');
      assert.ok(!environ.some((e) => e.includes(OTHER_SECRET)), 'no other secret value');
      if (OWN_VENDOR_KEY[tool]) for (const [k, v] of Object.entries(FOREIGN)) if (k !== OWN_VENDOR_KEY[tool]) assert.ok(!environ.includes(`${k}=${v}`), `no ${k}`);

      // The first chunk reaches the step's log while the rest is held back.
      const first = splitChunks(text, 3)[0];
      if (STREAMS_TEXT[tool]) await waitFor(() => read(paths.stepLog('ask', 1)).includes(first), 'the first chunk in the step log');
      held.release();
      await s.done;

      const st = loadSession(repo, s.id).state;
      const ask = st.steps.ask;
      assert.equal(ask.status, 'succeeded', ask.reason);
      assert.equal(ask.attempt, 1);
      assert.match(ask.outputs.text, /Reviewed the change: one problem in README\.md, see below\./);
      assert.equal(ask.agent?.provider, preset);
      assert.equal(ask.agent?.model, REPORTS_SERVER_MODEL[tool] ? 'fake-model-answered' : tool === 'opencode' ? 'fake/fake-model' : 'fake-model');
      assert.equal(ask.agent?.usage?.outputTokens, 8, JSON.stringify(ask.agent));
      assert.ok((ask.agent?.usage?.inputTokens ?? 0) >= 21, JSON.stringify(ask.agent));
      assert.deepEqual(
        st.findings.map((f) => [f.severity, f.file, f.line, f.rule, f.message]),
        [['high', 'README.md', 1, 'doc-title', 'the title is wrong']],
      );
      const log = read(paths.stepLog('ask', 1));
      assert.ok(log.includes(first) && log.includes('see below'), log);
      assert.match(log, new RegExp(`^\\[agent\\] ${preset}/`, 'm'));
      assert.ok(!log.includes(key) && !log.includes(OTHER_SECRET));
    });

    it('401: fails at once (no retry), with the tool\'s error in one clean line', async () => {
      const key = newKey();
      const repo = repoFor(key);
      t.fake.error({ status: 401, message: 'invalid x-api-key' });
      const s = await start(repo, key);
      await s.done;
      const ask = loadSession(repo, s.id).state.steps.ask;
      assert.equal(ask.status, 'failed');
      assert.equal(ask.attempt, 1, 'not retried');
      const reason = ask.reason ?? '';
      assert.match(reason, new RegExp(`^provider '${preset}': `));
      assert.match(reason, /401|invalid|API key|auth/i);
      assert.doesNotMatch(reason, /\n|\x1b\[/); // eslint-disable-line no-control-regex
      assert.ok(reason.length < 400, reason);
    });

    for (const kind of ['429', '500', 'cut'] as const) {
      const itself = kind === 'cut' && tool === 'claude-code' ? 'claude asks again without streaming' : kind === 'cut' && tool === 'opencode' ? 'opencode asks again by itself' : undefined;
      it(`${kind === 'cut' ? 'a stream cut in the middle' : kind}: ${itself ? `${itself} and the step succeeds at once` : "retried by the step's policy, which then succeeds"}`, async () => {
        const key = newKey();
        const repo = repoFor(key);
        // opencode retries 5 times by itself whatever its config (honouring retry-after): for 429 and
        // 500 all of them fail, so the step's policy is what retries. A cut stream it retries after
        // 2 s (no retry-after there), and its second try gets the answer: the step succeeds at once.
        const selfHealed = (tool === 'claude-code' || tool === 'opencode') && kind === 'cut';
        const times = tool === 'opencode' && !selfHealed ? 6 : 1;
        if (kind === 'cut') t.fake.answer({ text: 'this answer is cut off in the middle', chunks: 4, cutAfter: 2, times });
        else t.fake.error({ status: Number(kind), message: kind === '429' ? 'rate limited' : 'internal boom', retryAfter: 0, times });
        t.fake.answer({ text: 'All clear after the retry.' });
        const s = await start(repo, key);
        await s.done;
        const st = loadSession(repo, s.id).state;
        const ask = st.steps.ask;
        assert.equal(ask.status, 'succeeded', ask.reason);
        assert.equal(ask.attempt, selfHealed ? 1 : 2, JSON.stringify(ask));
        assert.match(ask.outputs.text, /All clear after the retry\./);
        if (!selfHealed) {
          const first = read(sessionPaths(repo, s.id).stepLog('ask', 1));
          assert.ok(first.length > 0, 'the failed attempt has its log');
        }
      });
    }
  });
}
