/**
 * The starter file "Create a Workflow" writes (server/src/setup/starter.ts): it must be clean under the
 * repo's own validator (no errors, no warnings) and it must really run, through the built CLI, in
 * a fresh repository — reporting a TODO it finds as a finding.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STARTER_WORKFLOW } from '../../server/src/setup/starter';
import type { Finding } from '../../server/src/engine/types';
import { compileWorkflow, planWorkflow } from '../../server/src/workflow/plan';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { CLI, cliEnv, makeRepo, runCli } from '../cli/cliProcess';

describe('the starter workflow', () => {
  it('has no problems at all under the validator (errors, warnings or hints)', () => {
    const v = validateWorkflow(STARTER_WORKFLOW);
    assert.deepEqual(v.internalErrors, []);
    assert.deepEqual(v.problems.map((p) => `${p.severity} ${p.code}: ${p.message}`), []);
  });

  it("points only to help the user has: the editor's hover and completion, not this repository's docs/", () => {
    // The file lands in the user's repository; neither it nor the .vsix has our docs/ folder.
    const comments = STARTER_WORKFLOW.split('\n').filter((l) => l.trimStart().startsWith('#')).join('\n');
    assert.doesNotMatch(comments, /docs\/|\.md\b/);
    assert.match(comments, /hover over any key/);
    assert.match(comments, /Ctrl\+Space/);
  });

  it('plans as two parallel steps, then the summary', () => {
    const plan = planWorkflow(compileWorkflow(validateWorkflow(STARTER_WORKFLOW)));
    assert.equal(plan.workflow, 'Starter');
    assert.deepEqual(plan.levels.map((l) => [...l].sort()), [['list', 'todos'], ['summary']]);
  });

  describe('run by the CLI in a fresh repository', () => {
    let repo: { root: string; home: string };
    const file = path.join('.orchestrator', 'workflows', 'starter.yaml');

    before(() => {
      assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`);
      repo = makeRepo('orch-starter');
      fs.mkdirSync(path.join(repo.root, '.orchestrator', 'workflows'), { recursive: true });
      fs.writeFileSync(path.join(repo.root, file), STARTER_WORKFLOW);
      fs.mkdirSync(path.join(repo.root, 'src'));
      fs.writeFileSync(path.join(repo.root, 'src', 'list.ts'), 'export function first<T>(xs: T[]): T | undefined {\n  // TODO: handle the empty list\n  return xs[0];\n}\n');
      fs.writeFileSync(path.join(repo.root, 'src', 'clean.ts'), 'export const answer = 42;\n');
    });
    after(() => {
      if (repo) fs.rmSync(repo.root, { recursive: true, force: true });
    });

    it('validates clean through the CLI', async () => {
      const r = await runCli(['validate', file], { cwd: repo.root, env: cliEnv(repo.home) });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, '1 file: 0 errors, 0 warnings\n');
    });

    it('runs to success, and `findings latest` lists the TODO', async () => {
      const run = await runCli(['run', file], { cwd: repo.root, env: cliEnv(repo.home), timeoutMs: 60_000 });
      assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
      assert.match(run.stdout, /3\/3 steps done/);

      const r = await runCli(['findings', 'latest', '--json'], { cwd: repo.root, env: cliEnv(repo.home) });
      assert.equal(r.code, 0, r.stderr);
      const findings = JSON.parse(r.stdout) as Finding[];
      assert.equal(findings.length, 1, r.stdout);
      const [todo] = findings;
      assert.equal(todo.step, 'todos');
      assert.equal(todo.severity, 'info');
      assert.equal(todo.rule, 'todo');
      assert.equal(todo.file?.replace(/^\.\//, ''), 'src/list.ts');
      assert.equal(todo.line, 2);
      assert.match(todo.message, /TODO: handle the empty list/);
    });
  });
});
