/**
 * The ORCHESTRATOR_* variable of every setting (server/src/config/envNames.ts), and that the
 * variables for providers and prices reach what runs: agents/providerConfig.ts and prices.ts read
 * them over the files, each key saying it came from `env <VARIABLE>`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadProviderConfigs } from '../../server/src/agents/providerLoad';
import { effectiveProvider } from '../../server/src/agents/providerSettings';
import { loadPrices } from '../../server/src/agents/prices';
import { envName, isReserved, resolveEnvName } from '../../server/src/config/envNames';
import { fixedLeafPaths } from '../../server/src/config/nav';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function repo(config: string): { root: string; home: string; file: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-env-'));
  made.push(root);
  const home = path.join(root, '.home');
  fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
  fs.mkdirSync(home);
  const file = path.join(root, '.orchestrator', 'config.yaml');
  fs.writeFileSync(file, config);
  return { root, home, file };
}

describe('the variable of a setting', () => {
  it('is ORCHESTRATOR_ + the dotted path in upper case, other characters made _', () => {
    assert.deepEqual(fixedLeafPaths().map(envName), ['ORCHESTRATOR_CONCURRENCY', 'ORCHESTRATOR_STUCK_AFTER', 'ORCHESTRATOR_RETENTION_KEEP', 'ORCHESTRATOR_RETENTION_MAX_AGE', 'ORCHESTRATOR_RETENTION_MAX_SIZE']);
    assert.equal(envName(['providers', 'work-claude', 'api_key_secret']), 'ORCHESTRATOR_PROVIDERS_WORK_CLAUDE_API_KEY_SECRET');
    assert.equal(envName(['prices', 'gpt-4.1', 'input']), 'ORCHESTRATOR_PRICES_GPT_4_1_INPUT');
  });

  it('reads back to its path: a known name first, else the longest key at the end, else a whole entry in lower case', () => {
    const known = (s: string) => (s === 'providers' ? ['work-claude', 'x_key'] : s === 'prices' ? ['gpt-4.1'] : []);
    const cases: [string, string[] | undefined][] = [
      ['ORCHESTRATOR_RETENTION_MAX_AGE', ['retention', 'max_age']],
      ['ORCHESTRATOR_PROVIDERS_WORK_CLAUDE_API_KEY_SECRET', ['providers', 'work-claude', 'api_key_secret']],
      ['ORCHESTRATOR_PROVIDERS_WORK_CLAUDE', ['providers', 'work-claude']],
      ['ORCHESTRATOR_PROVIDERS_X_KEY_ENV', ['providers', 'x_key', 'env']],
      ['ORCHESTRATOR_PROVIDERS_Y_KEY_ENV', ['providers', 'y', 'key_env']],
      ['ORCHESTRATOR_PROVIDERS_MY_TOOL', ['providers', 'my_tool']],
      ['ORCHESTRATOR_PRICES_GPT_4_1_CACHE_READ', ['prices', 'gpt-4.1', 'cache_read']],
      ['ORCHESTRATOR_NOPE', undefined],
    ];
    for (const [name, p] of cases) assert.deepEqual(resolveEnvName(name, known), p, name);
  });

  it('variables the orchestrator uses for other things are not settings', () => {
    for (const n of ['ORCHESTRATOR_SECRET_TOKEN', 'ORCHESTRATOR_REPO', 'ORCHESTRATOR_OUTPUT', 'ORCHESTRATOR_FINDINGS', 'ORCHESTRATOR_SESSION_ID', 'ORCHESTRATOR_STEP_ID', 'ORCHESTRATOR_ATTEMPT', 'ORCHESTRATOR_STEP_TOKEN', 'ORCHESTRATOR_TEST_FAULT', 'ORCHESTRATOR_DEBOUNCE_MS', 'PATH']) assert.ok(isReserved(n), n);
    assert.ok(!isReserved('ORCHESTRATOR_CONCURRENCY'));
  });
});

describe('provider and price variables reach what runs', () => {
  it('a key of a configured provider: that key from the variable, the rest from the file', () => {
    const r = repo(['providers:', '  local:', '    type: openai', '    base_url: http://127.0.0.1:1/v1', '    model: small', ''].join('\n'));
    const env = { ORCHESTRATOR_PROVIDERS_LOCAL_MODEL: 'big', ORCHESTRATOR_PROVIDERS_LOCAL_TIMEOUT: '90' };
    const c = loadProviderConfigs(r.root, r.home, env);
    assert.deepEqual(c.warnings, []);
    assert.equal(c.providers.local.model, 'big');
    assert.equal(c.providers.local.timeout, 90);
    assert.equal(c.providers.local.base_url, 'http://127.0.0.1:1/v1');
    assert.equal(c.providers.local.keyAt.model, 'env ORCHESTRATOR_PROVIDERS_LOCAL_MODEL');
    assert.equal(c.providers.local.keyAt.base_url, `${r.file}:4`);
    const p = effectiveProvider('local', c, new Map());
    assert.deepEqual(p.model, { value: 'big', from: 'env ORCHESTRATOR_PROVIDERS_LOCAL_MODEL' });
    assert.equal(p.timeoutMs?.value, 90_000);
  });

  it('a built-in name, a whole entry as YAML, and a list read as YAML; bad values warn at the variable', () => {
    const r = repo('');
    const env = {
      ORCHESTRATOR_PROVIDERS_CLAUDE_CODE_COMMAND: '[npx, claude]',
      ORCHESTRATOR_PROVIDERS_MINE: '{type: command, command: mytool, prompt: arg}',
      ORCHESTRATOR_PROVIDERS_CODEX_PROMPT: 'arg',
      ORCHESTRATOR_PROVIDERS_GEMINI_TIMEOUT: 'soon',
    };
    const c = loadProviderConfigs(r.root, r.home, env);
    assert.deepEqual(c.providers['claude-code'].command, ['npx', 'claude']);
    assert.equal(c.providers['claude-code'].type, 'claude-code');
    assert.equal(c.providers['claude-code'].at, 'env ORCHESTRATOR_PROVIDERS_CLAUDE_CODE_COMMAND');
    assert.deepEqual(c.providers.mine.command, ['mytool']);
    assert.equal(c.providers.mine.prompt, 'arg');
    assert.deepEqual(c.warnings.sort(), [
      'env ORCHESTRATOR_PROVIDERS_CODEX_PROMPT: providers.codex.prompt does nothing for the codex preset: it passes the prompt its own way (use type: command to choose): it is ignored',
      'env ORCHESTRATOR_PROVIDERS_GEMINI_TIMEOUT: providers.gemini.timeout must be a duration such as 30s, 5m or 1h30m (a bare number is seconds): it is ignored',
    ]);
  });

  it('prices: a key of an entry or a whole entry from a variable', () => {
    const r = repo('prices:\n  m: { input: 1, output: 2 }\n');
    const p = loadPrices(r.root, r.home, { ORCHESTRATOR_PRICES_M_OUTPUT: '4', ORCHESTRATOR_PRICES_NEW: '{input: 5, output: 6}', ORCHESTRATOR_PRICES_HALF_INPUT: '1' });
    assert.deepEqual({ ...p.prices.m }, { input: 1, output: 4, at: `${r.file}:2` });
    assert.deepEqual({ ...p.prices.new }, { input: 5, output: 6, at: 'env ORCHESTRATOR_PRICES_NEW' });
    assert.deepEqual(p.warnings, ['env ORCHESTRATOR_PRICES_HALF_INPUT: prices.half needs both input: and output: (US$ per million tokens): it is ignored']);
  });
});
