/**
 * `worktree-needs-git` (error) and the `workspace:` key: a step (or defaults) with `workspace:
 * worktree`, or a `git/*` action, outside a git repository is a diagnostic at the value, not a
 * run-time surprise. Whether the folder is in a repository is a collaborator, as file existence is.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { expectProblems } from '../helpers/marked';
import { isGitRepo, validateWorkflow } from '../../server/src/workflow/validate';
import { loadWorkflowFile } from '../../server/src/engine/sessions';

const notGit = { file: '/repo/wf.yaml', repoRoot: '/repo', fileExists: () => true, isGitRepo: () => false };

describe('worktree-needs-git', () => {
  it('marks every worktree value and git action outside a git repository', () => {
    const v = expectProblems(
      `
      name: x
      defaults: { workspace: [[worktree]] }
      steps:
        - id: a
          workspace: [[{ worktree: true, from: b }]]
          run: echo
        - id: b
          workspace: shared
          run: echo
        - id: m
          uses: [[git/merge]]
          with: { from: [a, b] }
      `,
      ['worktree-needs-git', 'worktree-needs-git', 'worktree-needs-git'],
      notGit,
    );
    assert.equal(v.problems[0].severity, 'error');
    assert.match(v.problems[0].message, /workspace: worktree runs the step in a git worktree, and \/repo is not in a git repository: run git init there \(and commit\), or use workspace: shared/);
  });

  it('says nothing in a git repository, or without the collaborator', () => {
    const text = 'name: x\nsteps:\n  - id: a\n    workspace: worktree\n    run: echo\n';
    assert.deepEqual(validateWorkflow(text, { ...notGit, isGitRepo: () => true }).problems, []);
    assert.deepEqual(validateWorkflow(text).problems, []);
  });

  it('workspace.from must name a step (unknown-need)', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          run: echo
        - id: b
          needs: a
          workspace: { worktree: true, from: [[nope]] }
          run: echo
      `,
      ['unknown-need'],
    );
  });

  it('rejects a bad workspace value as a schema error', () => {
    const v = validateWorkflow('name: x\nsteps:\n  - id: a\n    workspace: isolated\n    run: echo\n');
    assert.deepEqual(v.problems.map((p) => p.code), ['schema']);
  });

  it('stops the start outside a git repository (the real file system)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-nogit-'));
    try {
      assert.equal(isGitRepo(dir), false, 'the temp folder is not inside a repository');
      fs.mkdirSync(path.join(dir, '.orchestrator'));
      const file = path.join(dir, 'wf.yaml');
      fs.writeFileSync(file, 'name: x\nsteps:\n  - id: a\n    workspace: worktree\n    run: echo\n');
      assert.throws(() => loadWorkflowFile(file), /wf\.yaml:4:16 error worktree-needs-git /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
