/**
 * `.orchestrator/config.yaml` providers: read from real files in temp folders. A bad key is a
 * warning with file:line and only that key is ignored; keys that do nothing for the type are
 * warned about; an unknown type says what the types are, with a did-you-mean.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadProviderConfigs } from '../../server/src/agents/providerLoad';
import { resolveProvider } from '../../server/src/agents/registry';
import { ProviderError } from '../../server/src/agents/provider';

function dirs(repoConfig?: string, homeConfig?: string): { root: string; home: string; repoFile: string; homeFile: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-provcfg-'));
  const home = path.join(root, '.home');
  fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
  fs.mkdirSync(path.join(home, '.orchestrator'), { recursive: true });
  const repoFile = path.join(root, '.orchestrator', 'config.yaml');
  const homeFile = path.join(home, '.orchestrator', 'config.yaml');
  if (repoConfig !== undefined) fs.writeFileSync(repoFile, repoConfig);
  if (homeConfig !== undefined) fs.writeFileSync(homeFile, homeConfig);
  return { root, home, repoFile, homeFile };
}

describe('provider config validation', () => {
  it('an unknown key is a warning with file:line; the rest of the entry and the file still count', () => {
    const d = dirs(['providers:', '  local:', '    type: openai', '    modle: llama3', '    model: llama3.1', '  other:', '    type: anthropic', ''].join('\n'));
    const c = loadProviderConfigs(d.root, d.home);
    assert.deepEqual(Object.keys(c.providers).sort(), ['local', 'other']);
    assert.equal(c.providers.local.model, 'llama3.1');
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], new RegExp(`^${d.repoFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: providers\\.local\\.modle: unknown key, ignored\\. Did you mean 'model'\\?`));
    assert.equal(c.providers.local.keyAt.model, `${d.repoFile}:5`);
    assert.equal(c.providers.local.at, `${d.repoFile}:2`);
  });

  it('keys that do nothing for the type are warned about and dropped', () => {
    const d = dirs(
      [
        'providers:',
        '  api:',
        '    type: openai',
        '    command: [x]', // 4
        '    args: [--y]', // 5
        '  cc:',
        '    type: claude-code',
        '    prompt: arg', // 8
        '  cx:',
        '    type: codex',
        '    base_url: http://127.0.0.1:1/v1', // 11
        '  ad:',
        '    type: aider',
        '    base_url: http://127.0.0.1:1', // 14
        '    api_key_secret: K', // 15
        '  cmd:',
        '    type: command',
        '    command: mytool',
        '    base_url: http://x', // 19
        '',
      ].join('\n'),
    );
    const c = loadProviderConfigs(d.root, d.home);
    const at = (line: number) => c.warnings.find((w) => w.startsWith(`${d.repoFile}:${line}: `));
    assert.match(at(4) ?? '', /providers\.api\.command does nothing for a provider of type openai/);
    assert.match(at(5) ?? '', /providers\.api\.args does nothing/);
    assert.match(at(8) ?? '', /providers\.cc\.prompt does nothing for the claude-code preset/);
    assert.match(at(11) ?? '', /providers\.cx\.base_url does nothing for codex: .*config\.toml/);
    assert.match(at(14) ?? '', /providers\.ad\.base_url does nothing for aider: .*OPENAI_API_BASE/);
    assert.match(at(15) ?? '', /providers\.ad\.api_key_secret gives the key to no variable: add key_env:/);
    assert.match(at(19) ?? '', /providers\.cmd\.base_url does nothing for a command provider/);
    assert.equal(c.warnings.length, 7, c.warnings.join('\n'));
    assert.equal(c.providers.api.command, undefined);
    assert.equal(c.providers.cx.base_url, undefined);
    assert.deepEqual(c.providers.cmd.command, ['mytool']);
  });

  it('bad values are warnings naming the key, and only that key is ignored', () => {
    const d = dirs(['providers:', '  cc:', '    type: claude-code', '    timeout: soon', '    args: --fast', '    env: { GOOD: "1", "bad name": x, EXPR: "${{ secrets.K }}" }', '    model: sonnet', ''].join('\n'));
    const c = loadProviderConfigs(d.root, d.home);
    assert.ok(c.warnings.some((w) => w.startsWith(`${d.repoFile}:4: providers.cc.timeout must be a duration`)), c.warnings.join('\n'));
    assert.ok(c.warnings.some((w) => w.startsWith(`${d.repoFile}:5: providers.cc.args must be a list of strings`)));
    assert.ok(c.warnings.some((w) => /providers\.cc\.env\.bad name: not a variable name/.test(w)));
    assert.ok(c.warnings.some((w) => /providers\.cc\.env\.EXPR: values are literal here/.test(w)));
    assert.deepEqual(c.providers.cc.env, { GOOD: '1' });
    assert.equal(c.providers.cc.model, 'sonnet');
    assert.equal(c.providers.cc.timeout, undefined);
  });

  it('an unknown type: a warning with the choices and a did-you-mean, and using it fails the same way', () => {
    const d = dirs(['providers:', '  mine:', '    type: claude', ''].join('\n'));
    const c = loadProviderConfigs(d.root, d.home);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /:3: providers\.mine\.type: unknown type 'claude'\. Did you mean 'claude-code'\? Types: openai, anthropic, command, claude-code, codex, gemini, opencode, aider$/);
    assert.throws(
      () => resolveProvider('mine', c, new Map()),
      (e: unknown) => e instanceof ProviderError && /provider 'mine' \(.*config\.yaml:2\) has unknown type 'claude'\. Did you mean 'claude-code'\?/.test(e.message) && !e.retryable,
    );
  });

  it('a built-in name needs no type; another name does', () => {
    const d = dirs(['providers:', '  gemini:', '    model: gemini-2.5-pro', '  nameless:', '    model: x', ''].join('\n'));
    const c = loadProviderConfigs(d.root, d.home);
    assert.equal(c.providers.gemini.type, 'gemini');
    assert.match(c.warnings.join('\n'), /:4: providers\.nameless has no type: add type:/);
  });

  it('a file that does not parse is one warning with its line; the other file still counts', () => {
    const d = dirs('providers:\n  a: [\n', 'providers:\n  h:\n    type: openai\n');
    const c = loadProviderConfigs(d.root, d.home);
    assert.deepEqual(Object.keys(c.providers), ['h']);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], new RegExp(`^${d.repoFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: does not parse`));
  });

  it("the repository's entry wins over the home one of the same name", () => {
    const d = dirs('providers:\n  p:\n    type: anthropic\n', 'providers:\n  p:\n    type: openai\n    model: m\n  q:\n    type: openai\n');
    const c = loadProviderConfigs(d.root, d.home);
    assert.equal(c.providers.p.type, 'anthropic');
    assert.equal(c.providers.p.model, undefined);
    assert.equal(c.providers.p.from, d.repoFile);
    assert.equal(c.providers.q.from, d.homeFile);
  });
});
