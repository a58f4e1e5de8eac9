/**
 * A provider entry whose type is a preset honours command:, args:, env:, model:, base_url: and
 * api_key_secret: (issue 11, item 5), run through a real child process: a fake tool that prints
 * its argv and environment. The tool gets its own key under the preset's key variable and no
 * other secret. And the HTTP providers' "no model" error names the real key, `model:` (item 9).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAnthropicProvider } from '../../server/src/agents/anthropic';
import { createOpenAIProvider } from '../../server/src/agents/openai';
import { ProviderError } from '../../server/src/agents/provider';
import { loadProviderConfigs } from '../../server/src/agents/providerLoad';
import { PRESETS } from '../../server/src/agents/presets';
import { resolveProvider } from '../../server/src/agents/registry';

/** The preset's own flags (its command after the program). */
const flags = (preset: string): string[] => PRESETS[preset].command.slice(1);

const MY_KEY = 'sk-ant-mine-5e6f7a8b9c';
const OTHER_KEY = 'sk-other-1a2b3c4d5e';

let root: string;
let home: string;
let tool: string;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-presetcfg-'));
  home = path.join(root, '.home');
  fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
  fs.mkdirSync(home);
  tool = path.join(root, 'bin', 'fake-claude');
  fs.mkdirSync(path.dirname(tool));
  fs.writeFileSync(
    tool,
    `#!${process.execPath}\nlet stdin = '';\nprocess.stdin.on('data', (d) => (stdin += d));\nprocess.stdin.on('end', () => require('node:fs').writeFileSync(${JSON.stringify(path.join(root, 'seen.json'))}, JSON.stringify({ argv: process.argv.slice(2), env: process.env, stdin })));\n`,
  );
  fs.chmodSync(tool, 0o755);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function run(name: string, config: string, secrets: Map<string, string>, model?: string): Promise<{ argv: string[]; env: Record<string, string>; stdin: string }> {
  fs.writeFileSync(path.join(root, '.orchestrator', 'config.yaml'), config);
  const configs = loadProviderConfigs(root, home);
  assert.deepEqual(configs.warnings, []);
  const p = resolveProvider(name, configs, secrets);
  // What the fake saw goes to a file: it prints none of the structured output the presets read, so
  // the run itself fails ("output ended before its final result"), which is not what is tested here.
  fs.rmSync(path.join(root, 'seen.json'), { force: true });
  await p.run({ prompt: 'Review this.', ...(model ? { model } : {}), signal: new AbortController().signal }, () => undefined).catch(() => undefined);
  return JSON.parse(fs.readFileSync(path.join(root, 'seen.json'), 'utf8')) as { argv: string[]; env: Record<string, string>; stdin: string };
}

describe('a preset configured in .orchestrator/config.yaml', () => {
  it('command: replaces the program only; args, model, env, base_url and the key reach the tool', async () => {
    const config = [
      'providers:',
      '  work-claude:',
      '    type: claude-code',
      `    command: ${tool}`,
      '    args: [--max-turns, "3"]',
      '    model: opus',
      '    env: { FOO: bar }',
      '    base_url: http://127.0.0.1:9/',
      '    api_key_secret: WORK_KEY',
      '',
    ].join('\n');
    const seen = await run('work-claude', config, new Map([['WORK_KEY', MY_KEY], ['OTHER', OTHER_KEY], ['ANTHROPIC_API_KEY', OTHER_KEY]]));
    assert.deepEqual(seen.argv, [...flags('claude-code'), '--model', 'opus', '--max-turns', '3']);
    assert.equal(seen.stdin, 'Review this.');
    assert.equal(seen.env.FOO, 'bar');
    assert.equal(seen.env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:9/');
    assert.equal(seen.env.ANTHROPIC_API_KEY, MY_KEY);
    assert.ok(!Object.values(seen.env).includes(OTHER_KEY), 'no other secret reaches the tool');
  });

  it('a step model wins over model:, and command: [program, args...] keeps the preset flags after it', async () => {
    const config = ['providers:', '  claude-code:', `    command: [${process.execPath}, ${tool}]`, '    model: opus', ''].join('\n');
    const seen = await run('claude-code', config, new Map(), 'haiku');
    assert.deepEqual(seen.argv, [...flags('claude-code'), '--model', 'haiku']);
    assert.equal(seen.env.ANTHROPIC_API_KEY, undefined, 'no secret set: no key given');
  });

  it('the default secret of a preset goes under its variable: codex gets OPENAI_API_KEY as CODEX_API_KEY', async () => {
    const config = ['providers:', '  codex:', `    command: ${tool}`, ''].join('\n');
    const seen = await run('codex', config, new Map([['OPENAI_API_KEY', MY_KEY], ['GEMINI_API_KEY', OTHER_KEY]]));
    assert.deepEqual(seen.argv.slice(0, 1), ['exec']);
    assert.equal(seen.env.CODEX_API_KEY, MY_KEY);
    assert.ok(!Object.values(seen.env).includes(OTHER_KEY));
  });

  it('key_env names the variable for tools whose key depends on the model (opencode, aider)', async () => {
    const config = ['providers:', '  oc:', '    type: opencode', `    command: ${tool}`, '    api_key_secret: ROUTER', '    key_env: OPENROUTER_API_KEY', ''].join('\n');
    const seen = await run('oc', config, new Map([['ROUTER', MY_KEY]]));
    assert.equal(seen.env.OPENROUTER_API_KEY, MY_KEY);
    assert.equal(seen.argv[0], 'run');
  });

  it('an api_key_secret that is not set fails clearly, naming the secret', () => {
    fs.writeFileSync(path.join(root, '.orchestrator', 'config.yaml'), ['providers:', '  g:', '    type: gemini', `    command: ${tool}`, '    api_key_secret: MISSING_KEY', ''].join('\n'));
    const configs = loadProviderConfigs(root, home);
    assert.throws(
      () => resolveProvider('g', configs, new Map()),
      (e: unknown) => e instanceof ProviderError && !e.retryable && /secret MISSING_KEY .*is not set: set ORCHESTRATOR_SECRET_MISSING_KEY/.test(e.message),
    );
  });

  it('timeout: applies to a preset', async () => {
    const config = ['providers:', '  slow:', '    type: claude-code', `    command: ${tool}`, '    timeout: 1h', ''].join('\n');
    const seen = await run('slow', config, new Map());
    assert.deepEqual(seen.argv, flags('claude-code'));
  });
});

describe('the HTTP providers without a model', () => {
  for (const [label, make] of [
    ['openai', createOpenAIProvider],
    ['anthropic', createAnthropicProvider],
  ] as const) {
    it(`${label}: the error names model:, the real key, not default_model`, async () => {
      const p = make({ name: 'local', baseUrl: 'http://127.0.0.1:9/v1' });
      await assert.rejects(
        p.run({ prompt: 'x', signal: new AbortController().signal }, () => undefined),
        (e: unknown) => e instanceof ProviderError && !/default_model/.test(e.message) && /model: under providers\.local in \.orchestrator\/config\.yaml/.test(e.message),
      );
    });
  }
});
