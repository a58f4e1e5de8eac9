/**
 * `orchestrator providers [--json]` through the built CLI, with fake tools (small shell scripts
 * that print a version) on a PATH of their own, a home and a repository config, and secrets in
 * the environment: what is found, what is set, where each setting came from; no secret value is
 * printed or given to a version probe.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { cliEnv, makeRepo, runCli } from './cliProcess';
import { PRESETS } from '../../server/src/agents/presets';

const SECRET = 'sk-work-9d8c7b6a5f4e';

interface Report {
  name: string;
  type: string;
  configured: string;
  error?: string;
  tool?: { found: boolean; path?: string; version?: string; error?: string };
  key?: { secret: string; from: string; set: boolean; env?: string };
  settings: Record<string, { value: unknown; from: string }>;
}

describe('orchestrator providers', () => {
  let root: string;
  let home: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  let repoFile: string;
  let homeFile: string;

  before(() => {
    ({ root, home } = makeRepo('orch-providers'));
    bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    const script = (name: string, body: string) => {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
      fs.chmodSync(path.join(bin, name), 0o755);
    };
    // Each probe records its argv and whether any secret reached it.
    const record = (name: string) => `echo "$@" > "${root}/${name}.args"; env | grep -c '${SECRET}' > "${root}/${name}.secrets"`;
    script('claude', `${record('claude')}\necho "2.1.197 (Claude Code)"`);
    script('codex', `${record('codex')}\necho "codex-cli 0.171.0"`);
    script('broken-gemini', `${record('gemini')}\necho "boom" >&2\nexit 3`);
    fs.mkdirSync(path.join(root, '.orchestrator'));
    repoFile = path.join(root, '.orchestrator', 'config.yaml');
    homeFile = path.join(home, '.orchestrator', 'config.yaml');
    fs.writeFileSync(
      repoFile,
      [
        'providers:',
        '  gemini:',
        '    command: broken-gemini', // 3
        '    model: gemini-2.5-pro', // 4
        '  local:',
        '    type: openai',
        '    base_url: http://127.0.0.1:11434/v1', // 7
        '    api_key_secret: WORK_KEY', // 8
        '    prompt: stdin', // 9: does nothing
        '  typo:',
        '    type: claud', // 11
        '',
      ].join('\n'),
    );
    fs.mkdirSync(path.join(home, '.orchestrator'));
    fs.writeFileSync(homeFile, ['providers:', '  claude-code:', '    args: [--verbose]', '    env: { TOOL_FLAG: "1" }', '    timeout: 10m', ''].join('\n'));
    env = cliEnv(home, { PATH: bin, ORCHESTRATOR_SECRET_WORK_KEY: SECRET, ORCHESTRATOR_SECRET_ANTHROPIC_API_KEY: SECRET });
  });

  it('--json: every provider, tool checks, keys and settings with their origin; exit 0', async () => {
    const r = await runCli(['providers', '--json'], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(SECRET), 'no secret value is printed');
    const { providers, warnings } = JSON.parse(r.stdout) as { providers: Report[]; warnings: string[] };
    const by = Object.fromEntries(providers.map((p) => [p.name, p]));
    assert.deepEqual(providers.map((p) => p.name), ['claude-code', 'gemini', 'local', 'typo', 'openai', 'anthropic', 'codex', 'opencode', 'aider']);

    const claude = by['claude-code'];
    assert.equal(claude.configured, `${homeFile}:2`);
    assert.deepEqual(claude.tool, { found: true, path: path.join(bin, 'claude'), version: '2.1.197 (Claude Code)' });
    assert.deepEqual(claude.key, { secret: 'ANTHROPIC_API_KEY', from: 'preset', set: true, env: 'ANTHROPIC_API_KEY', envFrom: 'preset' });
    assert.deepEqual(claude.settings.args, { value: ['--verbose'], from: `${homeFile}:3` });
    assert.deepEqual(claude.settings.env, { value: ['TOOL_FLAG'], from: `${homeFile}:4` });
    assert.deepEqual(claude.settings.timeout, { value: '600s', from: `${homeFile}:5` });
    assert.deepEqual(claude.settings.command, { value: PRESETS['claude-code'].command, from: 'preset' });

    const gemini = by.gemini;
    assert.equal(gemini.configured, `${repoFile}:2`);
    assert.equal(gemini.tool?.found, true);
    assert.match(gemini.tool?.error ?? '', /--version failed \(exit code 3\): boom/);
    assert.deepEqual(gemini.settings.command, { value: ['broken-gemini', ...PRESETS.gemini.command.slice(1)], from: `${repoFile}:3` });
    assert.deepEqual(gemini.settings.model, { value: 'gemini-2.5-pro', from: `${repoFile}:4` });

    const local = by.local;
    assert.equal(local.tool, undefined);
    assert.deepEqual(local.key, { secret: 'WORK_KEY', from: `${repoFile}:8`, set: true });
    assert.deepEqual(local.settings.base_url, { value: 'http://127.0.0.1:11434/v1', from: `${repoFile}:7` });
    assert.deepEqual(local.settings.timeout, { value: '120s', from: 'default' });
    assert.equal(local.settings.prompt, undefined);

    assert.match(by.typo.error ?? '', /unknown type 'claud'\. Did you mean 'claude-code'\?/);
    assert.deepEqual(by.openai.key, { secret: 'OPENAI_API_KEY', from: 'default', set: false });
    assert.equal(by.openai.configured, 'built-in');
    assert.deepEqual(by.codex.tool, { found: true, path: path.join(bin, 'codex'), version: 'codex-cli 0.171.0' });
    assert.deepEqual(by.opencode.tool, { found: false, error: 'opencode not found on PATH' });

    assert.ok(warnings.some((w) => w.startsWith(`${repoFile}:9: providers.local.prompt does nothing`)), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.startsWith(`${repoFile}:11: providers.typo.type: unknown type 'claud'`)));

    // The probes ran with --version only, and without any secret in their environment.
    for (const name of ['claude', 'codex', 'gemini']) {
      assert.equal(fs.readFileSync(path.join(root, `${name}.args`), 'utf8').trim(), '--version');
      assert.equal(fs.readFileSync(path.join(root, `${name}.secrets`), 'utf8').trim(), '0');
    }
  });

  it('the table: one row per provider, settings with their origin, warnings; exit 0', async () => {
    const r = await runCli(['providers'], { cwd: root, env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(SECRET));
    assert.match(r.stdout, /^NAME\s+TYPE\s+CONFIGURED\s+STATUS$/m);
    assert.match(r.stdout, /^claude-code\s+claude-code\s+~\/\.orchestrator\/config\.yaml:2\s+found .*claude \(2\.1\.197 \(Claude Code\)\); key ANTHROPIC_API_KEY set \(as ANTHROPIC_API_KEY\)$/m);
    assert.match(r.stdout, /^local\s+openai\s+\.orchestrator\/config\.yaml:5\s+key WORK_KEY set$/m);
    assert.match(r.stdout, /^opencode\s+opencode\s+built-in\s+not found: opencode not found on PATH$/m);
    assert.match(r.stdout, /^ {2}model\s+gemini-2\.5-pro\s+\.orchestrator\/config\.yaml:4$/m);
    assert.match(r.stdout, /^Warnings$/m);
    assert.match(r.stdout, /^ {2}\.orchestrator\/config\.yaml:9: providers\.local\.prompt does nothing/m);
  });
});
