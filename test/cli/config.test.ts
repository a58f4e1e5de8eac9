/**
 * `orchestrator config show|get|set` through the built CLI in temp repositories with a private
 * HOME: the five layers with where each value came from, JSON shapes, exit codes, and `set`
 * keeping a file's comments and layout. And the settings reaching a run: `concurrency` from the
 * repository's config.yaml, and `run --concurrency` winning over it and over the variable.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cliEnv, makeRepo, runCli, waitFor, type CliResult } from './cliProcess';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function repo(prefix: string): { root: string; home: string; repoFile: string; homeFile: string; cli: (args: string[], env?: Record<string, string>) => Promise<CliResult> } {
  const { root, home } = makeRepo(prefix);
  made.push(root);
  const repoFile = path.join(root, '.orchestrator', 'config.yaml');
  const homeFile = path.join(home, '.orchestrator', 'config.yaml');
  return { root, home, repoFile, homeFile, cli: (args, env = {}) => runCli(args, { cwd: root, env: cliEnv(home, env) }) };
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

interface Shown {
  config: Record<string, unknown> & { retention: Record<string, unknown> };
  sources: Record<string, { kind: string; at: string }>;
  problems: { file: string; line: number; col: number; severity: string; message: string }[];
  files: string[];
}

describe('orchestrator config show', () => {
  it('--effective --json: every setting with its value and where it came from, across the layers', async () => {
    const r = repo('orch-config-show');
    write(r.homeFile, 'retention:\n  keep: 1\n  max_age: 30d\n');
    write(r.repoFile, '# team settings\nretention:\n  keep: 2\nconcurrency: 3\n');
    const res = await r.cli(['config', 'show', '--effective', '--json'], { ORCHESTRATOR_STUCK_AFTER: '90s', ORCHESTRATOR_CONCURRENCY: '4' });
    assert.equal(res.code, 0, res.stderr);
    const s = JSON.parse(res.stdout) as Shown;
    assert.deepEqual(Object.keys(s).sort(), ['config', 'files', 'problems', 'sources']);
    assert.deepEqual(s.config, { concurrency: 4, stuck_after: '90s', retention: { keep: 2, max_age: '30d' }, providers: {}, prices: {} });
    assert.deepEqual(s.sources, {
      concurrency: { kind: 'env', at: 'env ORCHESTRATOR_CONCURRENCY' },
      stuck_after: { kind: 'env', at: 'env ORCHESTRATOR_STUCK_AFTER' },
      'retention.keep': { kind: 'file', at: `${r.repoFile}:3` },
      'retention.max_age': { kind: 'file', at: `${r.homeFile}:3` },
      'retention.max_size': { kind: 'default', at: 'default' },
    });
    assert.deepEqual(s.files, [r.homeFile, r.repoFile]);
    assert.deepEqual(s.problems, []);
  });

  it('without --effective: only what is set; as a table, with files shortened and problems listed with their line', async () => {
    const r = repo('orch-config-table');
    write(r.repoFile, 'retention:\n  kep: 3\n  max_size: 2GB\nproviders:\n  local:\n    type: openai\n    env: { TOKEN_NAME: x }\n');
    const res = await r.cli(['config', 'show']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.split('\n');
    assert.match(lines[0], /^SETTING\s+VALUE\s+FROM$/);
    assert.deepEqual(lines.slice(1, 4).map((l) => l.split(/\s{2,}/)), [
      ['retention.max_size', '2GB', '.orchestrator/config.yaml:3'],
      ['providers.local.env', '[ TOKEN_NAME ]', '.orchestrator/config.yaml:7'],
      ['providers.local.type', 'openai', '.orchestrator/config.yaml:6'],
    ]);
    assert.ok(!res.stdout.includes('concurrency'), 'defaults are not listed without --effective');
    assert.ok(!res.stdout.includes(' x '), "a provider's env shows names, not values");
    assert.match(res.stdout, /files: \.orchestrator\/config\.yaml\n/);
    assert.match(res.stdout, /\.orchestrator\/config\.yaml:2:3: unknown key 'kep' in retention\. Did you mean 'keep'\? \(warning\)/);
  });
});

describe('orchestrator config get', () => {
  it('prints the value (exit 0); --json adds where it came from and its variable; unset is exit 1, not a setting exit 2', async () => {
    const r = repo('orch-config-get');
    write(r.repoFile, 'retention:\n  keep: 5\nproviders:\n  local: { type: openai, command: [a, b] }\n');
    let res = await r.cli(['config', 'get', 'retention.keep']);
    assert.deepEqual([res.code, res.stdout, res.stderr], [0, '5\n', '']);
    res = await r.cli(['config', 'get', 'retention.keep', '--json'], { ORCHESTRATOR_RETENTION_KEEP: '7' });
    assert.equal(res.code, 0);
    assert.deepEqual(JSON.parse(res.stdout), { key: 'retention.keep', value: 7, source: { kind: 'env', at: 'env ORCHESTRATOR_RETENTION_KEEP' }, env: 'ORCHESTRATOR_RETENTION_KEEP' });
    res = await r.cli(['config', 'get', 'stuck_after', '--json']);
    assert.deepEqual(JSON.parse(res.stdout), { key: 'stuck_after', value: '5m', source: { kind: 'default', at: 'default' }, env: 'ORCHESTRATOR_STUCK_AFTER' });
    res = await r.cli(['config', 'get', 'providers.local.type']);
    assert.deepEqual([res.code, res.stdout], [0, 'openai\n']);

    res = await r.cli(['config', 'get', 'retention.max_age']);
    assert.deepEqual([res.code, res.stdout], [1, '']);
    assert.equal(res.stderr, 'orchestrator: retention.max_age is not set (it has no default): set it with orchestrator config set retention.max_age VALUE\n');
    res = await r.cli(['config', 'get', 'retention.max_age', '--json']);
    assert.equal(res.code, 1);
    assert.deepEqual(JSON.parse(res.stdout), { key: 'retention.max_age', value: null, source: { kind: 'default', at: 'default' }, env: 'ORCHESTRATOR_RETENTION_MAX_AGE' });

    res = await r.cli(['config', 'get', 'retention.kep']);
    assert.deepEqual([res.code, res.stdout, res.stderr], [2, '', "orchestrator: 'retention.kep' is not a setting. Did you mean 'retention.keep'?\n"]);
    res = await r.cli(['config', 'get']);
    assert.equal(res.code, 2, 'a missing KEY is bad usage');
  });
});

describe('orchestrator config set', () => {
  const COMMENTED = [
    '# Orchestrator settings for this repository.',
    'concurrency:   4      # four steps at once',
    '',
    'retention:',
    '  keep: 10   # ten sessions',
    '  # max_age: 30d',
    'providers:',
    '  local: { type: openai,  base_url: "http://x:1/v1" }   # a local model',
    '# the end',
    '',
  ].join('\n');

  it('keeps the comments and the layout: only the value changes, or one line is added under its map', async () => {
    const r = repo('orch-config-set');
    write(r.repoFile, COMMENTED);
    let res = await r.cli(['config', 'set', 'retention.keep', '3']);
    assert.deepEqual([res.code, res.stdout, res.stderr], [0, 'retention.keep = 3 (.orchestrator/config.yaml:5)\n', '']);
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), COMMENTED.replace('  keep: 10   #', '  keep: 3   #'));

    res = await r.cli(['config', 'set', 'retention.max_age', '30d']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), COMMENTED.replace('  keep: 10   #', '  keep: 3   #').replace('# ten sessions\n', '# ten sessions\n  max_age: 30d\n'));

    res = await r.cli(['config', 'set', 'providers.local.model', 'llama3.1']);
    assert.equal(res.code, 0, res.stderr);
    res = await r.cli(['config', 'set', 'stuck_after', '90s']);
    assert.equal(res.code, 0, res.stderr);
    const expected = COMMENTED.replace('  keep: 10   #', '  keep: 3   #')
      .replace('# ten sessions\n', '# ten sessions\n  max_age: 30d\n')
      .replace('base_url: "http://x:1/v1" }', 'base_url: "http://x:1/v1", model: llama3.1 }')
      .replace('# a local model\n', '# a local model\nstuck_after: 90s\n');
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), expected);

    res = await r.cli(['config', 'show', '--json']);
    const s = JSON.parse(res.stdout) as Shown;
    assert.deepEqual(s.config.retention, { keep: 3, max_age: '30d' });
    assert.deepEqual(s.sources.stuck_after, { kind: 'file', at: `${r.repoFile}:10` });
  });

  it('creates the file (and its folder) when missing; --global writes the home file; --json says what it did', async () => {
    const r = repo('orch-config-create');
    let res = await r.cli(['config', 'set', 'retention.keep', '20', '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { key: 'retention.keep', value: 20, file: r.repoFile, line: 2, created: true });
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), 'retention:\n  keep: 20\n');

    res = await r.cli(['config', 'set', 'retention.keep', '5', '--global']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'retention.keep = 5 (~/.orchestrator/config.yaml:2, a new file)\n');
    assert.equal(res.stderr, 'orchestrator: note: .orchestrator/config.yaml:2 wins over ~/.orchestrator/config.yaml: the effective retention.keep is 20\n');
    assert.equal(fs.readFileSync(r.homeFile, 'utf8'), 'retention:\n  keep: 5\n');

    res = await r.cli(['config', 'set', 'providers.work-claude', '{type: claude-code, args: [--max-turns, "5"]}']);
    assert.equal(res.code, 0, res.stderr);
    res = await r.cli(['config', 'get', 'providers.work-claude.args', '--json']);
    assert.deepEqual(JSON.parse(res.stdout).value, ['--max-turns', '5']);
  });

  it('a bad key or value: exit 2, one line that says what to do, and the file untouched', async () => {
    const r = repo('orch-config-bad');
    write(r.repoFile, COMMENTED);
    const cases: [string[], string][] = [
      [['config', 'set', 'retention.kep', '3'], "orchestrator: 'retention.kep' is not a setting. Did you mean 'retention.keep'?\n"],
      [['config', 'set', 'retention.keep', 'ten'], "orchestrator: retention.keep is 'ten': give a whole number from 0\n"],
      [['config', 'set', 'concurrency', '0'], "orchestrator: concurrency is '0': give a whole number from 1\n"],
      [['config', 'set', 'providers.local.type', 'opneai'], "orchestrator: providers.local.type is 'opneai': give one of openai, anthropic, command, claude-code, codex, gemini, opencode, aider\n"],
      [['config', 'set', 'retention', '{keep: 1}'], 'orchestrator: retention is a section: set its keys one by one (retention.keep, retention.max_age, retention.max_size)\n'],
      [['config', 'set', 'prices.m.input', '3'], "orchestrator: prices.m needs output, a number (US$ per million tokens): set the whole entry at once (orchestrator config set prices.m '{...}')\n"],
    ];
    for (const [args, stderr] of cases) {
      const res = await r.cli(args);
      assert.deepEqual([res.code, res.stdout, res.stderr], [2, '', stderr], args.join(' '));
    }
    const usage = await r.cli(['config', 'set', 'retention.keep']);
    assert.equal(usage.code, 2, 'a missing VALUE is bad usage');
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), COMMENTED);

    write(r.repoFile, 'retention: [\n');
    const broken = await r.cli(['config', 'set', 'retention.keep', '1']);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /^orchestrator: \/.*\.orchestrator\/config\.yaml does not parse \(line 2: .*\): fix it first, then set the value\n$/);
    assert.equal(fs.readFileSync(r.repoFile, 'utf8'), 'retention: [\n');
  });
});

describe('the settings reach a run', () => {
  /** Two steps that each wait until both have started: they only finish when run side by side. */
  const TOGETHER = [
    'name: two',
    'steps:',
    '  - id: first',
    '    run: |',
    '      touch "$ORCHESTRATOR_STEP_ID.started"',
    '      until [ -e first.started ] && [ -e second.started ]; do sleep 0.01; done',
    '  - id: second',
    '    run: |',
    '      touch "$ORCHESTRATOR_STEP_ID.started"',
    '      until [ -e first.started ] && [ -e second.started ]; do sleep 0.01; done',
    '',
  ].join('\n');

  interface Shown2 {
    steps: Record<string, { startedAt: string; finishedAt: string }>;
  }
  const overlap = (s: Shown2): boolean => {
    const [a, b] = [s.steps.first, s.steps.second].map((x) => [Date.parse(x.startedAt), Date.parse(x.finishedAt)]).sort((x, y) => x[0] - y[0]);
    return b[0] < a[1];
  };

  it('concurrency: 1 in config.yaml runs independent steps one after the other', async () => {
    const r = repo('orch-config-run');
    write(r.repoFile, 'concurrency: 1\n');
    write(path.join(r.root, 'two.workflow.yaml'), 'name: two\nsteps:\n  - id: first\n    run: sleep 0.3\n  - id: second\n    run: sleep 0.3\n');
    const run = await r.cli(['run', 'two.workflow.yaml', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const id = (JSON.parse(run.stdout) as { id: string }).id;
    const show = JSON.parse((await r.cli(['show', id, '--json'])).stdout) as Shown2;
    assert.ok(!overlap(show), JSON.stringify(show.steps));
  });

  it('run --concurrency 2 wins over config.yaml and ORCHESTRATOR_CONCURRENCY (both 1): steps that need each other finish', async () => {
    const r = repo('orch-config-flag');
    write(r.repoFile, 'concurrency: 1\n');
    write(path.join(r.root, 'two.workflow.yaml'), TOGETHER);
    const run = await r.cli(['run', 'two.workflow.yaml', '--concurrency', '2', '--quiet'], { ORCHESTRATOR_CONCURRENCY: '1' });
    assert.equal(run.code, 0, run.stderr);
  });

  it('a problem in config.yaml is said when a run starts (the key is ignored, the run goes on)', async () => {
    const r = repo('orch-config-runwarn');
    write(r.repoFile, 'concurency: 1\n');
    write(path.join(r.root, 'one.workflow.yaml'), 'name: one\nsteps:\n  - id: a\n    run: echo hi\n');
    const run = await r.cli(['run', 'one.workflow.yaml', '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^orchestrator: warning: .*\.orchestrator\/config\.yaml:1:1: unknown key 'concurency'\. Did you mean 'concurrency'\? \(ignored; orchestrator doctor checks the config\)$/m);
  });

  it('a bad flag stops the run with exit 2 and one line, before any session exists', async () => {
    const r = repo('orch-config-badflag');
    write(path.join(r.root, 'two.workflow.yaml'), TOGETHER);
    for (const args of [['--concurrency', 'abc'], ['--stuck-after', 'soon', '--detach']]) {
      const run = await r.cli(['run', 'two.workflow.yaml', ...args]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, args[0] === '--concurrency' ? "orchestrator: --concurrency is 'abc': give a whole number from 1\n" : "orchestrator: --stuck-after is 'soon': give a duration such as 90s, 5m or 1h\n");
    }
    const sessions = path.join(r.root, '.orchestrator', 'sessions');
    assert.deepEqual(fs.existsSync(sessions) ? fs.readdirSync(sessions).filter((f) => !f.startsWith('.')) : [], []);
  });
});

describe('stuck_after from config.yaml reaches orchestrator stuck', () => {
  it('an approval nobody answered is listed once config.yaml says stuck_after: 1ms (not with the default 5m)', async () => {
    const r = repo('orch-config-stuck');
    write(path.join(r.root, 'gate.workflow.yaml'), 'name: gate\nsteps:\n  - id: gate\n    approval: Ship it?\n');
    const run = await r.cli(['run', 'gate.workflow.yaml', '--detach']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    try {
      await waitFor(async () => (JSON.parse((await r.cli(['show', id, '--json'])).stdout) as { status: string }).status === 'waiting', 'the session to wait for the approval');
      let stuck = JSON.parse((await r.cli(['stuck', '--json'])).stdout) as { step: string; kind: string }[];
      assert.deepEqual(stuck, [], 'not stuck after the default 5m');
      write(r.repoFile, 'stuck_after: 1ms\n');
      stuck = JSON.parse((await r.cli(['stuck', '--json'])).stdout) as { step: string; kind: string }[];
      assert.deepEqual(stuck.map((x) => [x.step, x.kind]), [['gate', 'approval']]);
    } finally {
      await r.cli(['cancel', id]);
    }
  });
});
