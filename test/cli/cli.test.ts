import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = path.join(__dirname, '..', '..', 'server', 'out', 'cli.js');
let dir: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return name;
}

const VALID = 'name: ok\nsteps:\n  - id: a\n    run: echo a\n  - id: b\n    run: echo b\n  - id: c\n    needs: [a, b]\n    run: echo c\n';
const INVALID = 'name: bad\nsteps:\n  - id: a\n    run: echo\n    nedds: [b]\n  - id: b\n    needs: [zz]\n    timeout: soon\n    run: echo\n';

before(() => {
  assert.ok(fs.existsSync(CLI), 'run npm run build first');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('orchestrator validate', () => {
  it('a valid file: exit 0 and a summary', () => {
    const f = write('ok.workflow.yaml', VALID);
    const r = cli('validate', f);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1 file: 0 errors, 0 warnings\n');
  });

  it('an invalid file: exit 2, one line per problem as file:line:col severity code message', () => {
    const f = write('bad.workflow.yaml', INVALID);
    const r = cli('validate', f);
    assert.equal(r.code, 2);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      "bad.workflow.yaml:5:5 error schema unknown key 'nedds' in steps[0]. Did you mean 'needs'?",
      "bad.workflow.yaml:7:13 error unknown-need 'zz' is not a step of this workflow. Check the spelling, or add that step.",
      "bad.workflow.yaml:8:14 error bad-duration 'soon' is not a duration: write e.g. 500ms, 30s, 10m, 1h30m, or a number of seconds",
    ]);
    assert.match(r.stderr, /1 file: 3 errors, 0 warnings/);
  });

  it('--json gives code, severity, range and message for every file', () => {
    const a = write('ok.workflow.yaml', VALID);
    const b = write('bad.workflow.yaml', INVALID);
    const r = cli('validate', '--json', a, b);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { files: string[]; errors: number; warnings: number; problems: Record<string, unknown>[] };
    assert.deepEqual(out.files, [a, b]);
    assert.equal(out.errors, 3);
    assert.deepEqual(out.problems[0], { file: b, line: 5, column: 5, endLine: 5, endColumn: 10, severity: 'error', code: 'schema', message: "unknown key 'nedds' in steps[0]. Did you mean 'needs'?" });
  });

  it('warnings alone exit 0', () => {
    const f = write('warn.workflow.yaml', 'name: w\nagents: { a: { provider: codex, instructions: prompts/none.md } }\nsteps: [{ id: s, agent: a, prompt: hi }]\n');
    const r = cli('validate', f);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /warn.workflow.yaml:2:47 warning missing-file/);
  });

  it('a folder stands for the workflow files inside it', () => {
    write('repo/.orchestrator/workflows/one.yaml', VALID);
    write('repo/sub/two.workflow.yml', INVALID);
    write('repo/other.yaml', 'not: a workflow\n');
    const r = cli('validate', '--json', 'repo');
    const out = JSON.parse(r.stdout) as { files: string[] };
    assert.deepEqual(out.files.map((f) => f.split(path.sep).join('/')), ['repo/.orchestrator/workflows/one.yaml', 'repo/sub/two.workflow.yml']);
    assert.equal(r.code, 2);
  });

  it('a missing file: exit 2 with a one-line error, no stack trace', () => {
    const r = cli('validate', 'nope.yaml');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "orchestrator: cannot read 'nope.yaml': no such file or folder\n");
  });

  it('garbage never crashes it', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    const f = write('garbage.workflow.yaml', bytes.toString('latin1'));
    const r = cli('validate', f);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /internal error|\s{4}at /);
    assert.match(r.stdout, /garbage.workflow.yaml:\d+:\d+ error /);
  });

  it('bad usage exits 2', () => {
    assert.equal(cli('validate').code, 2);
    assert.equal(cli('frobnicate').code, 2);
    assert.equal(cli('--help').code, 0);
  });
});

describe('orchestrator plan', () => {
  it('prints levels and what runs in parallel', () => {
    const f = write('ok.workflow.yaml', VALID);
    const r = cli('plan', f);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Workflow: ok\n3 steps in 2 levels\n\nLevel 1 (2 in parallel):\n  a [run]\n  b [run]\nLevel 2:\n  c [run]  ← needs a, b\n');
  });

  it('--json', () => {
    const f = write('ok.workflow.yaml', VALID);
    const r = cli('plan', '--json', f);
    const plan = JSON.parse(r.stdout) as { ok: boolean; levels: string[][]; steps: { id: string; level: number }[] };
    assert.equal(plan.ok, true);
    assert.deepEqual(plan.levels, [['a', 'b'], ['c']]);
    assert.deepEqual(plan.steps.map((s) => [s.id, s.level]), [['a', 0], ['b', 0], ['c', 1]]);
  });

  it('an invalid workflow: exit 2 with its problems', () => {
    const f = write('bad.workflow.yaml', INVALID);
    const r = cli('plan', f);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad.workflow.yaml:5:5 error schema unknown key 'nedds'/);
    assert.match(r.stderr, /cannot plan 'bad.workflow.yaml': fix the errors above/);
    const j = cli('plan', '--json', f);
    assert.equal((JSON.parse(j.stdout) as { ok: boolean }).ok, false);
  });

  it('the repository\'s own workflow plans', () => {
    const r = spawnSync(process.execPath, [CLI, 'plan', '.orchestrator/workflows/review.yaml'], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Level 1 \(5 in parallel\):\n {2}lint \[run\]/);
  });
});
