/**
 * The effective configuration (server/src/config/load.ts) from real files in temp folders: the five
 * layers (defaults, home file, repository file, ORCHESTRATOR_* variables, flags), each value with
 * where it came from; entries replaced as a whole between files; bad values left out so the layer
 * below stands; unknown keys flagged at their line and column with a did-you-mean.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultConcurrency, loadEffectiveConfig, problemText } from '../../server/src/config/load';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function dirs(repoConfig?: string, homeConfig?: string): { root: string; home: string; repoFile: string; homeFile: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-'));
  made.push(root);
  const home = path.join(root, '.home');
  fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
  fs.mkdirSync(path.join(home, '.orchestrator'), { recursive: true });
  const repoFile = path.join(root, '.orchestrator', 'config.yaml');
  const homeFile = path.join(home, '.orchestrator', 'config.yaml');
  if (repoConfig !== undefined) fs.writeFileSync(repoFile, repoConfig);
  if (homeConfig !== undefined) fs.writeFileSync(homeFile, homeConfig);
  return { root, home, repoFile, homeFile };
}

describe('loadEffectiveConfig: precedence', () => {
  it('nothing configured: every setting at its default, no files, no problems', () => {
    const d = dirs();
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.deepEqual(r.config, { concurrency: defaultConcurrency(), stuck_after: '5m', retention: {}, providers: {}, prices: {} });
    assert.deepEqual(r.files, []);
    assert.deepEqual(r.problems, []);
    for (const k of ['concurrency', 'stuck_after', 'retention.keep', 'retention.max_age', 'retention.max_size']) assert.deepEqual(r.sources[k], { kind: 'default', at: 'default' }, k);
  });

  it('all five layers: each higher one wins, and each value says where it came from', () => {
    // retention.keep is set in every layer; each other setting stops at a lower one.
    const home = ['retention:', '  keep: 1', '  max_age: 30d', '  max_size: 1GB', 'stuck_after: 2m', ''].join('\n');
    const repo = ['# the team settings', 'retention:', '  keep: 2', '  max_size: 2GB', 'stuck_after: 3m', 'concurrency: 3', ''].join('\n');
    const d = dirs(repo, home);
    const env = { ORCHESTRATOR_RETENTION_KEEP: '3', ORCHESTRATOR_STUCK_AFTER: '4m', PATH: '/bin' };
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env, flags: { 'retention.keep': '4' }, flagNames: { 'retention.keep': '--keep' } });
    assert.deepEqual(r.config.retention, { keep: 4, max_age: '30d', max_size: '2GB' });
    assert.equal(r.config.stuck_after, '4m');
    assert.equal(r.config.concurrency, 3);
    assert.deepEqual(r.sources['retention.keep'], { kind: 'flag', at: 'flag --keep' });
    assert.deepEqual(r.sources.stuck_after, { kind: 'env', at: 'env ORCHESTRATOR_STUCK_AFTER' });
    assert.deepEqual(r.sources.concurrency, { kind: 'file', at: `${d.repoFile}:6` });
    assert.deepEqual(r.sources['retention.max_size'], { kind: 'file', at: `${d.repoFile}:4` });
    assert.deepEqual(r.sources['retention.max_age'], { kind: 'file', at: `${d.homeFile}:3` });
    assert.deepEqual(r.files, [d.homeFile, d.repoFile]);
    assert.deepEqual(r.problems, []);

    // Peel the layers off one by one: each time the next one down shows through.
    const noFlag = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env });
    assert.equal(noFlag.config.retention.keep, 3);
    assert.deepEqual(noFlag.sources['retention.keep'], { kind: 'env', at: 'env ORCHESTRATOR_RETENTION_KEEP' });
    const noEnv = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.equal(noEnv.config.retention.keep, 2);
    assert.deepEqual(noEnv.sources['retention.keep'], { kind: 'file', at: `${d.repoFile}:3` });
    fs.rmSync(d.repoFile);
    const homeOnly = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.equal(homeOnly.config.retention.keep, 1);
    assert.deepEqual(homeOnly.sources['retention.keep'], { kind: 'file', at: `${d.homeFile}:2` });
    fs.rmSync(d.homeFile);
    const none = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.equal(none.config.retention.keep, undefined);
    assert.deepEqual(none.sources['retention.keep'], { kind: 'default', at: 'default' });
  });

  it('the legacy variables keep their names: ORCHESTRATOR_CONCURRENCY and ORCHESTRATOR_STUCK_AFTER', () => {
    const d = dirs('concurrency: 2\n');
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: { ORCHESTRATOR_CONCURRENCY: ' 7 ', ORCHESTRATOR_STUCK_AFTER: '90' } });
    assert.equal(r.config.concurrency, 7);
    assert.equal(r.config.stuck_after, '90');
    assert.deepEqual(r.sources.concurrency, { kind: 'env', at: 'env ORCHESTRATOR_CONCURRENCY' });
  });

  it('a flag without a name given is called after its key; flag values that are not strings are taken as they are', () => {
    const d = dirs();
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {}, flags: { 'retention.max_age': '7d', concurrency: 5, 'retention.keep': undefined } });
    assert.deepEqual(r.sources['retention.max_age'], { kind: 'flag', at: 'flag --max-age' });
    assert.equal(r.config.concurrency, 5);
    assert.deepEqual(r.sources['retention.keep'], { kind: 'default', at: 'default' }, 'an undefined flag is not given');
  });

  it('an empty variable is not set (as before)', () => {
    const d = dirs('concurrency: 2\n');
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: { ORCHESTRATOR_CONCURRENCY: '  ' } });
    assert.equal(r.config.concurrency, 2);
  });
});

describe('loadEffectiveConfig: providers and prices', () => {
  it("the repository's entry replaces the home one as a whole; a variable changes one key of it", () => {
    const home = ['providers:', '  local:', '    type: openai', '    base_url: http://home:1/v1', '    model: home-model', '  homeonly: { type: codex }', 'prices:', '  m: { input: 1, output: 2 }', ''].join('\n');
    const repo = ['providers:', '  local:', '    type: openai', '    model: repo-model', ''].join('\n');
    const d = dirs(repo, home);
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: { ORCHESTRATOR_PROVIDERS_LOCAL_MODEL: '1.5', ORCHESTRATOR_PRICES_M_INPUT: '0.5' } });
    assert.deepEqual(r.config.providers.local, { type: 'openai', model: '1.5' }, 'no base_url from home: the entry was replaced; the model is the text of the variable');
    assert.deepEqual(r.config.providers.homeonly, { type: 'codex' });
    assert.deepEqual(r.config.prices.m, { input: 0.5, output: 2 });
    assert.deepEqual(r.sources['providers.local'], { kind: 'file', at: `${d.repoFile}:2` });
    assert.deepEqual(r.sources['providers.local.type'], { kind: 'file', at: `${d.repoFile}:3` });
    assert.deepEqual(r.sources['providers.local.model'], { kind: 'env', at: 'env ORCHESTRATOR_PROVIDERS_LOCAL_MODEL' });
    assert.deepEqual(r.sources['prices.m.input'], { kind: 'env', at: 'env ORCHESTRATOR_PRICES_M_INPUT' });
    assert.deepEqual(r.problems, []);
  });

  it('names with dashes match their variable (built-in names too); a whole entry can come from a variable as YAML', () => {
    const d = dirs(['providers:', '  work-claude:', '    type: claude-code', ''].join('\n'));
    const r = loadEffectiveConfig({
      repoRoot: d.root,
      homeDir: d.home,
      env: { ORCHESTRATOR_PROVIDERS_WORK_CLAUDE_KEY_ENV: 'MY_KEY', ORCHESTRATOR_PROVIDERS_CLAUDE_CODE_MODEL: 'opus', ORCHESTRATOR_PROVIDERS_MY_TOOL: '{type: command, command: [mytool, -q]}' },
    });
    assert.deepEqual(r.config.providers['work-claude'], { type: 'claude-code', key_env: 'MY_KEY' });
    assert.deepEqual(r.config.providers['claude-code'], { model: 'opus' });
    assert.deepEqual(r.config.providers.my_tool, { type: 'command', command: ['mytool', '-q'] });
    assert.deepEqual(r.sources['providers.my_tool.command'], { kind: 'env', at: 'env ORCHESTRATOR_PROVIDERS_MY_TOOL' });
    assert.deepEqual(r.problems, []);
  });
});

describe('loadEffectiveConfig: problems', () => {
  it('unknown keys: a warning at the key (line and column) with a did-you-mean; the rest of the file counts', () => {
    const d = dirs(['concurency: 4', 'retention:', '  kep: 3', '  max_age: 10d', 'providers:', '  local:', '    type: openai', '    modle: x', 'zzz: 1', ''].join('\n'));
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.deepEqual(
      r.problems.map(problemText),
      [
        `${d.repoFile}:1:1: unknown key 'concurency'. Did you mean 'concurrency'?`,
        `${d.repoFile}:3:3: unknown key 'kep' in retention. Did you mean 'keep'?`,
        `${d.repoFile}:8:5: unknown key 'modle' in providers.local. Did you mean 'model'?`,
        `${d.repoFile}:9:1: unknown key 'zzz'. Keys: concurrency, stuck_after, retention, providers, prices`,
      ],
    );
    assert.ok(r.problems.every((p) => p.severity === 'warning'));
    assert.equal(r.config.retention.max_age, '10d');
    assert.deepEqual(r.config.providers.local, { type: 'openai' });
  });

  it('a bad value in a file is an error at the value, and the layer below stands', () => {
    const d = dirs(['retention:', '  keep: ten', 'stuck_after: 0', 'concurrency:', 'prices:', '  m: { input: 1 }', ''].join('\n'), 'retention:\n  keep: 4\n');
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.deepEqual(r.problems.map((p) => [p.severity, problemText(p)]), [
      ['error', `${d.repoFile}:2:9: retention.keep must be a whole number from 0, not 'ten'`],
      ['error', `${d.repoFile}:3:14: stuck_after must be a duration such as 90s, 5m or 1h, not 0`],
      ['error', `${d.repoFile}:4:1: concurrency has no value: give a whole number from 1, or remove the key`],
      ['error', `${d.repoFile}:6:3: prices.m needs output, a number (US$ per million tokens)`],
    ]);
    assert.equal(r.config.retention.keep, 4);
    assert.deepEqual(r.sources['retention.keep'], { kind: 'file', at: `${d.homeFile}:2` });
    assert.equal(r.config.stuck_after, '5m');
    assert.deepEqual(r.config.prices, {});
  });

  it('a file that does not parse: one error with its line; nothing of it is read', () => {
    const d = dirs('concurrency: 2\nretention: [\n', 'concurrency: 3\n');
    const r = loadEffectiveConfig({ repoRoot: d.root, homeDir: d.home, env: {} });
    assert.equal(r.config.concurrency, 3);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0].file, d.repoFile);
    assert.equal(r.problems[0].severity, 'error');
    assert.match(r.problems[0].message, /^does not parse: /);
    assert.deepEqual(r.files, [d.homeFile, d.repoFile]);
  });

  it('bad variables and flags: errors that name them and say what to write; misspelt variables: a warning with a did-you-mean', () => {
    const d = dirs('concurrency: 2\n');
    const r = loadEffectiveConfig({
      repoRoot: d.root,
      homeDir: d.home,
      env: { ORCHESTRATOR_CONCURRENCY: 'abc', ORCHESTRATOR_RETENTON_KEEP: '3', ORCHESTRATOR_RETENTION: '{keep: 1}', ORCHESTRATOR_SECRET_X: 'not a setting', ORCHESTRATOR_REPO: '/x', ORCHESTRATOR_OUTPUT: '/y' },
      flags: { 'retention.max_size': 'huge' },
      flagNames: { 'retention.max_size': '--max-size' },
    });
    assert.deepEqual(r.problems.map((p) => [p.file, p.severity, p.message]), [
      ['env ORCHESTRATOR_RETENTON_KEEP', 'warning', 'ORCHESTRATOR_RETENTON_KEEP is not a setting, it is ignored. Did you mean ORCHESTRATOR_RETENTION_KEEP?'],
      ['env ORCHESTRATOR_RETENTION', 'warning', 'ORCHESTRATOR_RETENTION sets the whole of retention, which is not read from a variable: set its settings one by one (ORCHESTRATOR_RETENTION_KEEP, ORCHESTRATOR_RETENTION_MAX_AGE, ORCHESTRATOR_RETENTION_MAX_SIZE)'],
      ['env ORCHESTRATOR_CONCURRENCY', 'error', "ORCHESTRATOR_CONCURRENCY is 'abc': set it to a whole number from 1, or unset it"],
      ['flag --max-size', 'error', "--max-size is 'huge': give a size such as 500MB or 2GB (a bare number is bytes)"],
    ]);
    assert.equal(r.config.concurrency, 2, 'the file value stands');
  });
});
