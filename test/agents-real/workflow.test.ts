/**
 * One workflow with a step per preset, run end to end by the built `orchestrator` CLI with the real
 * claude-code, codex, gemini-cli and opencode against the fake model server, in a folder that is
 * not a git repository and that no tool was told to trust (issue 11, item 6: codex needs
 * --skip-git-repo-check there, gemini --skip-trust). Then `orchestrator show` lists each step's
 * provider, model, tokens and the findings, and `orchestrator logs ID STEP` (the file the editor's
 * step log shows) has the answer and the closing [agent] line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runCli } from '../cli/cliProcess';
import { FakeModelServer } from '../helpers/fakeModels/index';
import { toolBin } from './runTool';
import { AGENT_TOOLS, setupTool, type AgentTool } from './setup';

const PRESET: Record<AgentTool, string> = { 'claude-code': 'claude-code', codex: 'codex', 'gemini-cli': 'gemini', opencode: 'opencode' };
const KEY_ENV: Record<AgentTool, string> = { 'claude-code': 'ANTHROPIC_API_KEY', codex: 'CODEX_FAKE_API_KEY', 'gemini-cli': 'GEMINI_API_KEY', opencode: 'FAKE_OPENCODE_API_KEY' };
const KEY = `k${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

describe('a workflow with one step per preset, through the orchestrator CLI (real CLIs)', () => {
  let fake: FakeModelServer;
  let root: string;
  let folder: string;
  before(async () => {
    for (const t of AGENT_TOOLS) assert.ok(toolBin(t), `${t} is not installed: run test/agents-real/run.ts`);
    fake = await FakeModelServer.start();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'agents-workflow-'));
    folder = path.join(root, 'project'); // no .git anywhere above a temp dir
    fs.mkdirSync(path.join(folder, '.orchestrator'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'app.js'), 'eval(process.argv[2]);\n');
    const providers: Record<string, unknown> = {};
    for (const tool of AGENT_TOOLS) {
      const home = path.join(root, `home-${tool}`);
      fs.mkdirSync(home);
      const setup = setupTool(tool, { baseUrl: fake.url, dir: home, apiKey: KEY });
      const env = Object.fromEntries(Object.entries(setup.env).filter(([k]) => k !== KEY_ENV[tool]));
      providers[PRESET[tool]] = { command: toolBin(tool), model: tool === 'opencode' ? `fake/${setup.model}` : setup.model, api_key_secret: 'TOOL_KEY', key_env: KEY_ENV[tool], env };
    }
    fs.writeFileSync(path.join(folder, '.orchestrator', 'config.yaml'), JSON.stringify({ providers }, null, 2));
    const steps = AGENT_TOOLS.map((t) => `  - id: ask-${PRESET[t]}\n    agent: ${PRESET[t]}\n    prompt: Review app.js.\n`).join('');
    const agents = AGENT_TOOLS.map((t) => `  ${PRESET[t]}: { provider: ${PRESET[t]} }\n`).join('');
    fs.writeFileSync(path.join(folder, 'review.workflow.yaml'), `name: review\nagents:\n${agents}steps:\n${steps}`);
    // The same answer for every tool (they run in parallel, in no fixed order).
    fake.answer({ text: 'app.js runs its argument as code.', chunks: 3, model: 'fake-model-answered', usage: { input: 30, output: 9 }, findings: [{ severity: 'critical', message: 'eval of user input', file: 'app.js', line: 1, rule: 'no-eval' }], times: 4 });
  });
  after(async () => {
    await fake?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs every step, and show / logs tell the model, the tokens and the findings', async () => {
    const env = cliEnv(path.join(root, 'home-cli'), { ORCHESTRATOR_SECRET_TOOL_KEY: KEY });
    fs.mkdirSync(path.join(root, 'home-cli'));
    const r = await runCli(['run', 'review.workflow.yaml', '--quiet'], { cwd: folder, env, timeoutMs: 600_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const list = JSON.parse((await runCli(['list', '--json'], { cwd: folder, env })).stdout) as { id: string }[];
    const id = list[0].id;
    const show = JSON.parse((await runCli(['show', id, '--json'], { cwd: folder, env })).stdout) as { steps: Record<string, { status: string; reason?: string }> };
    for (const t of AGENT_TOOLS) assert.equal(show.steps[`ask-${PRESET[t]}`].status, 'succeeded', `${t}: ${show.steps[`ask-${PRESET[t]}`].reason}`);

    const text = (await runCli(['show', id], { cwd: folder, env })).stdout;
    for (const t of AGENT_TOOLS) {
      const row = text.split('\n').find((l) => l.startsWith(`ask-${PRESET[t]} `)) ?? '';
      assert.match(row, new RegExp(`agent: ${PRESET[t]}/\\S+ \\d+→9 tokens`), row);
    }
    assert.match(text, /finding\(s\)/);
    const findings = JSON.parse((await runCli(['findings', id, '--json'], { cwd: folder, env })).stdout) as { rule?: string; file?: string }[];
    assert.ok(findings.some((f) => f.rule === 'no-eval' && f.file === 'app.js'), JSON.stringify(findings));

    for (const t of AGENT_TOOLS) {
      const log = (await runCli(['logs', id, `ask-${PRESET[t]}`], { cwd: folder, env })).stdout;
      assert.match(log, /app\.js runs its argument as code\./, `${t}: ${log}`);
      assert.match(log, new RegExp(`^\\[agent\\] ${PRESET[t]}/`, 'm'), log);
      assert.ok(!log.includes(KEY));
    }
  });
});
