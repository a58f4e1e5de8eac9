/**
 * `orchestrator validate` (the real built CLI) reports each code added for issue 10 at the right
 * place, and finds the repository root of a folder whose only marker is workflow.yaml.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findRepoRoot } from '../../server/src/engine/sessions';

const CLI = path.join(__dirname, '..', '..', 'server', 'out', 'cli.js');
let dir: string;
let home: string;

function cli(cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCHESTRATOR_')) env[k] = v;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...env, HOME: home, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(rel: string, text: string): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

before(() => {
  assert.ok(fs.existsSync(CLI), 'run npm run build first');
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-codes-')));
  home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.orchestrator'), { recursive: true }); // the user's configuration folder: no repository marker
  fs.mkdirSync(path.join(dir, 'repo', '.git'), { recursive: true });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('orchestrator validate: the codes added for issue 10', () => {
  it('unknown-action: an error at the value, with did-you-mean and the list', () => {
    write('repo/a.workflow.yaml', 'name: a\nsteps:\n  - id: s\n    uses: foo/bar\n  - id: t\n    uses: findings/sarf\n    with: { file: x }\n');
    const r = cli(path.join(dir, 'repo'), 'validate', 'a.workflow.yaml');
    assert.equal(r.code, 2);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      "a.workflow.yaml:4:11 error unknown-action unknown action 'foo/bar'. The built-in actions are findings/sarif, findings/merge, git/merge, git/apply; anything else fails when the step runs",
      "a.workflow.yaml:6:11 error unknown-action unknown action 'findings/sarf'. Did you mean 'findings/sarif'? The built-in actions are findings/sarif, findings/merge, git/merge, git/apply; anything else fails when the step runs",
    ]);
  });

  it('unknown-argument: a warning at the key', () => {
    write('repo/b.workflow.yaml', 'name: b\nsteps:\n  - id: s\n    uses: findings/merge\n    with: { label: x }\n');
    const r = cli(path.join(dir, 'repo'), 'validate', '--json', 'b.workflow.yaml');
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout) as { problems: unknown[] };
    assert.deepEqual(out.problems, [
      { file: 'b.workflow.yaml', line: 5, column: 13, endLine: 5, endColumn: 18, severity: 'warning', code: 'unknown-argument', message: "findings/merge has no argument 'label': it is ignored. It takes no arguments." },
    ]);
  });

  it('outside-repo: a warning at each path that leaves the repository', () => {
    write('repo/c.workflow.yaml', 'name: c\nagents:\n  a: { provider: codex, instructions: ../../../../../../../../../etc/passwd }\nsteps:\n  - { id: s, agent: a, prompt: hi, context: [/etc/hostname] }\n  - { id: r, run: echo, findings: /etc/passwd }\n');
    const r = cli(path.join(dir, 'repo'), 'validate', 'c.workflow.yaml');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ').slice(0, 3).join(' ')), ['c.workflow.yaml:3:39 warning outside-repo', 'c.workflow.yaml:5:46 warning outside-repo', 'c.workflow.yaml:6:35 warning outside-repo']);
    assert.match(lines[0], /instructions file '\.\.\/\.\.\/.*\/etc\/passwd' is outside the repository .*: the step will fail rather than read it; if the workflow really should read it, add allow_outside_repo: true/);
    assert.match(r.stderr, /1 file: 0 errors, 3 warnings/);
  });

  it('shell-expression: a warning at the expression', () => {
    write('repo/d.workflow.yaml', "name: d\ninputs: { x: {} }\nsteps:\n  - id: s\n    run: echo $(( ${{ inputs.x }} )) '${{ inputs.x }}'\n");
    const r = cli(path.join(dir, 'repo'), 'validate', 'd.workflow.yaml');
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^d\.workflow\.yaml:5:19 warning shell-expression this expression is in a shell arithmetic context \(\$\(\( \)\)\): /);
    assert.match(lines[1], /^d\.workflow\.yaml:5:39 warning shell-expression this expression is inside single quotes .* the script sees the text \$\{ORCH_EXPR_0\}, not the value; use double quotes/);
  });
});

describe('the repository root', () => {
  it('a folder whose only marker is workflow.yaml is the root, for a workflow in a subfolder and for a start below it', () => {
    const proj = path.join(dir, 'proj');
    write('proj/workflow.yaml', 'name: main\nsteps: [{ id: a, run: echo }]\n');
    write('proj/AGENTS.md', 'rules\n');
    write('proj/ci/review.workflow.yaml', 'name: review\nagents: { r: { provider: codex, context: [AGENTS.md] } }\nsteps: [{ id: s, agent: r, prompt: hi }]\n');
    assert.equal(findRepoRoot(path.join(proj, 'ci'), home), proj);
    assert.equal(findRepoRoot(proj, home), proj);
    // Before: the root was the workflow's own folder, so AGENTS.md was looked for in ci/ (missing-file).
    const r = cli(path.join(proj, 'ci'), 'validate', 'review.workflow.yaml');
    assert.equal(r.stdout, '1 file: 0 errors, 0 warnings\n', r.stdout + r.stderr);
  });

  it('.git or .orchestrator upward wins over a nearer workflow.yaml; the home folder\'s .orchestrator is no marker', () => {
    write('repo/sub/workflow.yaml', 'name: sub\nsteps: [{ id: a, run: echo }]\n');
    assert.equal(findRepoRoot(path.join(dir, 'repo', 'sub'), home), path.join(dir, 'repo'));
    const inHome = path.join(home, 'proj', 'deep');
    fs.mkdirSync(inHome, { recursive: true });
    fs.writeFileSync(path.join(home, 'proj', 'workflow.yaml'), 'name: h\nsteps: [{ id: a, run: echo }]\n');
    assert.equal(findRepoRoot(inHome, home), path.join(home, 'proj'));
    const bare = path.join(dir, 'bare', 'x');
    fs.mkdirSync(bare, { recursive: true });
    assert.equal(findRepoRoot(bare, home), bare, 'no marker at all: the start folder');
  });

  it('orchestrator run from a subfolder keeps the session at the workflow.yaml root', () => {
    const proj = path.join(dir, 'proj2');
    write('proj2/workflow.yaml', 'name: main\nsteps: [{ id: a, run: echo hi }]\n');
    fs.mkdirSync(path.join(proj, 'src'));
    const r = cli(path.join(proj, 'src'), 'run', '../workflow.yaml', '--quiet');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(fs.existsSync(path.join(proj, '.orchestrator', 'sessions')), 'sessions live at the root');
    assert.ok(!fs.existsSync(path.join(proj, 'src', '.orchestrator')), 'not in the folder the command ran from');
    const list = cli(proj, 'list', '--json');
    assert.equal((JSON.parse(list.stdout) as unknown[]).length, 1, list.stdout);
  });
});
