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
import { expectProblems, messages } from '../helpers/marked';
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
          needs: b
          workspace: [[{ worktree: true, from: b }]]
          run: echo
        - id: b
          run: echo
        - id: s
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
        - id: c
          needs: a
          workspace: { worktree: true, from: [[A]] }
          run: echo
      `,
      ['unknown-need', 'unknown-need'],
    );
  });

  it('workspace.from must name a step this one needs, directly or not (not-upstream)', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          workspace: worktree
          run: echo
        - id: b
          workspace: { worktree: true, from: [[a]] }
          run: echo
        - id: c
          needs: a
          workspace: worktree
          run: echo
        - id: d
          needs: c
          workspace: { worktree: true, from: a }
          run: echo
        - id: e
          needs: d
          workspace: { worktree: true, from: [[e]] }
          run: echo
      `,
      ['not-upstream', 'not-upstream'],
    );
    assert.equal(v.problems[0].severity, 'error');
    assert.deepEqual(messages(v), [
      "step 'b' starts its worktree from 'a' but does not depend on 'a', which may not have run yet: add 'a' to its needs",
      "step 'e' cannot start its worktree from its own commit: name a step it needs, or use workspace: worktree (the session's base commit)",
    ]);
  });

  it('workspace.from must name a step with a commit: a worktree step or git/merge (schema)', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: plain
          run: echo
        - id: wt
          workspace: worktree
          run: echo
        - id: merged
          needs: [plain, wt]
          uses: git/merge
          with: { from: [wt] }
        - id: ok
          needs: merged
          approval: go?
        - id: x1
          needs: ok
          workspace: { worktree: true, from: [[plain]] }
          run: echo
        - id: x2
          needs: ok
          workspace: { worktree: true, from: [[ok]] }
          run: echo
        - id: x3
          needs: ok
          workspace: { worktree: true, from: merged }
          run: echo
        - id: x4
          needs: x3
          workspace: { worktree: true, from: x3 }
          run: echo
      `,
      ['schema', 'schema'],
    );
    assert.deepEqual(messages(v), [
      "step 'plain' has no commit to start a worktree from: only a step with workspace: worktree, or git/merge, has one. Give 'plain' workspace: worktree, or name another step (the steps it needs that have one: wt, merged)",
      "step 'ok' has no commit to start a worktree from: only a step with workspace: worktree, or git/merge, has one. Give 'ok' workspace: worktree, or name another step (the steps it needs that have one: wt, merged)",
    ]);
  });

  it("workspace.from: a step that is a worktree step through defaults counts; one that opts out with shared does not", () => {
    expectProblems(
      `
      name: x
      defaults: { workspace: worktree }
      pipeline:
        - stage: a
          run: echo
        - stage: s
          workspace: shared
          run: echo
        - stage: b
          workspace: { worktree: true, from: a }
          run: echo
        - stage: c
          workspace: { worktree: true, from: [[s]] }
          run: echo
      `,
      ['schema'],
    );
  });

  it('workspace.from names a matrix instance by its id; a step of several instances must be named by one', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: test
          workspace: worktree
          matrix: { os: [linux, mac], node: [20] }
          run: echo
        - id: one
          needs: test
          workspace: { worktree: true, from: "test[os=linux,node=20]" }
          run: echo
        - id: all
          needs: test
          workspace: { worktree: true, from: [[test]] }
          run: echo
        - id: wrong
          needs: test
          workspace: { worktree: true, from: [["test[os=win,node=20]"]] }
          run: echo
        - id: far
          workspace: { worktree: true, from: [["test[os=mac,node=20]"]] }
          run: echo
      `,
      ['schema', 'unknown-need', 'not-upstream'],
    );
    assert.deepEqual(messages(v).slice(0, 2), [
      "step 'test' runs as 2 matrix instances, each with a commit of its own: name one, e.g. 'test[os=linux,node=20]'",
      "step 'test' has no matrix instance 'test[os=win,node=20]': its instances are test[os=linux,node=20], test[os=mac,node=20]",
    ]);
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
