/**
 * `orchestrator validate` (the real built CLI) on the issue-12 keys: `ignored-key` warnings and
 * the `workspace.from` errors, each as file:line:col, severity, code and what to do; a workflow
 * with only warnings still validates (exit 0), one with an error does not (exit 2).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = path.join(__dirname, '..', '..', 'server', 'out', 'cli.js');
let dir: string;
let home: string;

function cli(cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCHESTRATOR_')) env[k] = v;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...env, HOME: home, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(rel: string, text: string): void {
  const p = path.join(dir, 'repo', rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

before(() => {
  assert.ok(fs.existsSync(CLI), 'run npm run build first');
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-issue12-')));
  home = path.join(dir, 'home');
  fs.mkdirSync(home);
  fs.mkdirSync(path.join(dir, 'repo', '.git'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'repo', '.git', 'HEAD'), 'ref: refs/heads/main\n');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('orchestrator validate: issue 12 leftovers', () => {
  it('ignored-key: a warning at the key, saying what to do; the file still validates', () => {
    write(
      'a.workflow.yaml',
      'name: a\nsteps:\n  - id: build\n    run: make\n    budget: { tokens: 10 }\n  - id: ok\n    needs: build\n    approval: Land?\n    workspace: worktree\n',
    );
    const r = cli(path.join(dir, 'repo'), 'validate', 'a.workflow.yaml');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      "a.workflow.yaml:5:5 warning ignored-key 'budget' is ignored on this step: budget limits what agent calls spend, and a run step calls no agent: put it on the agent step (or under agents.<name>, or at the top level), or remove it",
      "a.workflow.yaml:9:5 warning ignored-key 'workspace' is ignored on this step: an approval step runs nothing, so it needs no workspace: remove workspace",
    ]);
    assert.match(r.stderr, /1 file: 0 errors, 2 warnings/);
  });

  it('workspace.from: errors at the value, as needs errors are', () => {
    write(
      'b.workflow.yaml',
      'name: b\nsteps:\n  - id: plain\n    run: echo\n  - id: wt\n    workspace: worktree\n    run: echo\n  - id: x\n    needs: plain\n    workspace: { worktree: true, from: wt }\n    run: echo\n  - id: y\n    needs: [plain, wt]\n    workspace: { worktree: true, from: plain }\n    run: echo\n',
    );
    const r = cli(path.join(dir, 'repo'), 'validate', 'b.workflow.yaml');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      "b.workflow.yaml:10:40 error not-upstream step 'x' starts its worktree from 'wt' but does not depend on 'wt', which may not have run yet: add 'wt' to its needs",
      "b.workflow.yaml:14:40 error schema step 'plain' has no commit to start a worktree from: only a step with workspace: worktree, or git/merge, has one. Give 'plain' workspace: worktree, or name another step (the steps it needs that have one: wt)",
    ]);
  });
});
