/**
 * The pure parts of retention and state formats: sizes, retention values and where they come from
 * (home file, repository file, environment; flags replace the configuration), the 1 → 2 step on
 * bytes, telling a log's format from its first line, and the editor's command in package.json.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertReadable, formatOfLog, StateFormatError, TOOL_VERSION } from '../../server/src/store/formatVersion';
import { CannotMigrate, MIGRATION_STEPS, stepsFrom, upgrade } from '../../server/src/store/migrationSteps';
import { chooseCriteria, criteriaOf, formatSize, parseSize, readRetention } from '../../server/src/store/retention';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-unit-retention-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('sizes', () => {
  it('parses sizes with 1024-based units, and prints them back', () => {
    assert.equal(parseSize('2GB'), 2 * 1024 ** 3);
    assert.equal(parseSize('500 MB'), 500 * 1024 ** 2);
    assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('800KiB'), 800 * 1024);
    assert.equal(parseSize('12'), 12);
    assert.equal(parseSize('12B'), 12);
    assert.equal(parseSize(4096), 4096);
    for (const bad of ['big', '2 GBs', '-1', '', 'G2', -5]) assert.equal(parseSize(bad), undefined, String(bad));
    assert.equal(formatSize(512), '512 B');
    assert.equal(formatSize(3277), '3.2 KiB');
    assert.equal(formatSize(1.5 * 1024 ** 3), '1.5 GiB');
    assert.equal(formatSize(200 * 1024 ** 2), '200 MiB');
  });
});

describe('retention values', () => {
  it('checks each value, naming it and where it was set', () => {
    assert.deepEqual(criteriaOf({ keep: 3, max_age: '30d', max_size: '1GB' }), { keep: 3, maxAgeMs: 30 * 86_400_000, maxAgeText: '30d', maxSizeBytes: 1024 ** 3, maxSizeText: '1GB' });
    assert.throws(() => criteriaOf({ keep: -1 }, { keep: '/r/config.yaml' }), /^Error: retention\.keep \(\/r\/config\.yaml\) must be a whole number of sessions \(0 or more\), not '-1'$/);
    assert.throws(() => criteriaOf({ max_age: 'soon' }), /retention\.max_age is not a duration/);
    assert.throws(() => criteriaOf({ max_size: 'lots' }, {}, { max_size: '--max-size' }), /^Error: --max-size is not a size: write e\.g\. 500MB or 2GB, not 'lots'$/);
  });

  it('home file, then the repository file, then ORCHESTRATOR_RETENTION_*, key by key; flags replace them all', () => {
    const home = path.join(tmp, 'home');
    const repo = path.join(tmp, 'repo');
    fs.mkdirSync(path.join(home, '.orchestrator'), { recursive: true });
    fs.mkdirSync(path.join(repo, '.orchestrator'), { recursive: true });
    fs.writeFileSync(path.join(home, '.orchestrator', 'config.yaml'), 'retention:\n  keep: 10\n  max_age: 90d\n');
    fs.writeFileSync(path.join(repo, '.orchestrator', 'config.yaml'), 'providers: {}\nretention:\n  max_age: 30d\n');
    const loaded = readRetention({ repoRoot: repo, homeDir: home, env: { ORCHESTRATOR_RETENTION_MAX_SIZE: '2GB' } });
    assert.deepEqual(loaded.retention, { keep: 10, max_age: '30d', max_size: '2GB' });
    assert.deepEqual(loaded.sources, { keep: `${path.join(home, '.orchestrator', 'config.yaml')}:2`, max_age: `${path.join(repo, '.orchestrator', 'config.yaml')}:3`, max_size: 'env ORCHESTRATOR_RETENTION_MAX_SIZE' });

    const where = { repoRoot: repo, homeDir: home, env: {} };
    assert.equal(chooseCriteria({}, where)?.said, `retention.keep 10 (${path.join(home, '.orchestrator', 'config.yaml')}:2), retention.max_age 30d (${path.join(repo, '.orchestrator', 'config.yaml')}:3)`);
    assert.deepEqual(chooseCriteria({ keep: 2 }, where)?.criteria, { keep: 2 }, 'flags replace the configuration as a whole');
    assert.deepEqual(chooseCriteria({ status: 'failed' }, where)?.criteria, { keep: 10, maxAgeMs: 30 * 86_400_000, maxAgeText: '30d', status: 'failed' });
    const bare = { repoRoot: path.join(tmp, 'none'), homeDir: path.join(tmp, 'none'), env: {} };
    assert.equal(chooseCriteria({}, bare), undefined);
    assert.deepEqual(chooseCriteria({ status: 'cancelled' }, bare), { criteria: { status: 'cancelled' }, said: 'status cancelled' });
    assert.throws(() => chooseCriteria({ status: 'running' }, bare), /prune never removes running sessions/);
  });

  it('a config with errors is refused, naming each problem (nothing is pruned by a config read in part)', () => {
    const repo = path.join(tmp, 'bad');
    fs.mkdirSync(path.join(repo, '.orchestrator'), { recursive: true });
    fs.writeFileSync(path.join(repo, '.orchestrator', 'config.yaml'), 'retention: [\n');
    assert.throws(() => readRetention({ repoRoot: repo, homeDir: path.join(tmp, 'none') }), /^Error: the configuration has a problem, so its retention settings are not used: .*config\.yaml:\d+:\d+: .*\(fix it, or give the rules as flags\)$/);
    fs.writeFileSync(path.join(repo, '.orchestrator', 'config.yaml'), 'retention:\n  keep: ten\n  max_age: 30d\n');
    assert.throws(() => chooseCriteria({}, { repoRoot: repo, homeDir: path.join(tmp, 'none'), env: {} }), /config\.yaml:2:9: retention\.keep must be a whole number from 0, not 'ten'/);
    assert.deepEqual(chooseCriteria({ keep: 3 }, { repoRoot: repo, homeDir: path.join(tmp, 'none'), env: {} })?.criteria, { keep: 3 }, 'flags need no config');
  });
});

describe('state format steps', () => {
  const first = '{"seq":1,"time":"t","type":"session.started","session":"s","data":{}}\n';
  const rest = '{"seq":2,"time":"t","type":"step.started","session":"s","step":"a"}\n';

  it('1 → 2 puts the version in front of the first line and of state.json, and moves the offset by it', () => {
    assert.deepEqual(stepsFrom(1), [...MIGRATION_STEPS]);
    const state = Buffer.from(JSON.stringify({ id: 's', logOffset: first.length + rest.length }));
    const out = upgrade({ log: Buffer.from(first + rest), state }, 1);
    const insert = '"v":2,"by":"orchestrator 0.1.0",';
    assert.equal(out.log.toString(), `{${insert}${first.slice(1)}${rest}`);
    assert.deepEqual(JSON.parse(out.state!.toString()), { v: 2, by: 'orchestrator 0.1.0', id: 's', logOffset: first.length + rest.length + insert.length });
    assert.equal(upgrade({ log: Buffer.from(first), state: Buffer.from('{"id":') }, 1).state, null, 'a state.json that does not parse is left to be rebuilt');
  });

  it('refuses a log it cannot upgrade', () => {
    for (const [log, why] of [
      ['{"seq":1', /no complete line/],
      ['x{"seq":1}\n', /damaged/],
      ['{"seq":2,"type":"step.started"}\n', /not a session\.started event/],
    ] as const) assert.throws(() => upgrade({ log: Buffer.from(log), state: null }, 1), (e: unknown) => e instanceof CannotMigrate && why.test(e.message));
  });

  it("tells a log's format from its first line, reading the whole line only when it must", () => {
    const file = path.join(tmp, 'log.jsonl');
    const cases: [string, number | undefined, string?][] = [
      [first, 1],
      [`{"v":2,"by":"orchestrator 0.1.0",${first.slice(1)}`, 2, 'orchestrator 0.1.0'],
      ['{"v":7}\n', 7],
      [`{"time":"t","v":3,"by":"x","pad":"${'p'.repeat(100_000)}"}\n`, 3, 'x'],
      ['garbage\n', undefined],
      ['{"seq":1', 1],
      ['', undefined],
    ];
    for (const [text, v, by] of cases) {
      fs.writeFileSync(file, text);
      assert.deepEqual(formatOfLog(file), v === undefined ? undefined : { v, ...(by ? { by } : {}) }, text.slice(0, 40));
    }
    assert.equal(formatOfLog(path.join(tmp, 'missing')), undefined);
    assert.throws(() => assertReadable('session s', { v: 3, by: 'orchestrator 9.9.9' }), (e: unknown) => e instanceof StateFormatError && /written by orchestrator 9\.9\.9/.test(e.message));
    assert.doesNotThrow(() => assertReadable('session s', { v: 2 }));
  });
});

describe('the release', () => {
  it('names itself in the files as package.json does', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    assert.equal(TOOL_VERSION, pkg.version, 'TOOL_VERSION in server/src/store/formatVersion.ts follows package.json');
  });
});

describe('the editor', () => {
  it('contributes Prune Sessions… to the Sessions view title menu', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { commands: { command: string; title: string }[]; menus: Record<string, { command: string; when?: string }[]> } };
    assert.equal(pkg.contributes.commands.find((c) => c.command === 'orchestrator.pruneSessions')?.title, 'Prune Sessions…');
    assert.ok(pkg.contributes.menus['view/title'].some((m) => m.command === 'orchestrator.pruneSessions' && m.when === 'view == orchestrator.sessions'));
  });
});
