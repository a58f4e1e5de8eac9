/**
 * `verify:` on `uses: git/merge` (real git, real bash): the check runs once in the merged
 * worktree, with a run step's environment; when it fails the step fails with `verification
 * failed: <first line>` (no agent, so no rounds), its outputs kept. Other actions refuse verify
 * at validation, saying why.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { sessionPaths } from '../../server/src/store/sessionStore';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { cleanupRepos, runToRest, statuses } from './helpers';
import { fingerprint, makeGitRepo, showAt, worktreeList } from './gitRepo';

after(cleanupRepos);

/** backend and frontend edit different files in worktrees; integrate merges them and runs `verify`; `after` needs it. */
function flow(verify: string, extra = ''): string {
  return `name: merge-verify
steps:
  - id: backend
    workspace: worktree
    run: sed -i 's/a2/A2/' src/a.txt
  - id: frontend
    workspace: worktree
    run: sed -i 's/b2/B2/' src/b.txt
  - id: integrate
    needs: [backend, frontend]
    uses: git/merge
    with: { from: [backend, frontend] }
    env: { WHO: integration }
    verify: ${verify}
${extra}  - id: after
    needs: integrate
    run: echo after
`;
}

const logOf = (root: string, id: string, step: string): string => fs.readFileSync(sessionPaths(root, id).stepLog(step, 1), 'utf8');

describe('verify on git/merge', () => {
  it('passes: the check ran in the merged tree with the step environment, once', async () => {
    const r = makeGitRepo('');
    const counter = path.join(r.home, 'checks');
    fs.writeFileSync(
      r.file,
      flow(`'echo run >> ${counter} && grep -q A2 src/a.txt && grep -q B2 src/b.txt && test "$WHO/$ORCHESTRATOR_STEP_ID" = integration/integrate && test "$(git rev-parse HEAD)" = "$(git rev-parse orchestrator/$ORCHESTRATOR_SESSION_ID/integrate)"'`),
    );
    const before = fingerprint(r);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)) + (f.state.steps.integrate.reason ?? ''));
    assert.equal(fs.readFileSync(counter, 'utf8'), 'run\n', 'the check ran once');
    const log = logOf(r.root, f.id, 'integrate');
    assert.match(log, /\[verify\] round 1 of 1: echo run >> .* passed/);
    assert.equal(showAt(r, f.state.steps.integrate.outputs.commit, 'src/b.txt'), 'b1\nB2\nb3\n');
    assert.deepEqual(fingerprint(r), before, "the user's tree is not touched");
  });

  it('fails: the step fails with the first line of the check, no rounds (attempts is ignored), outputs kept, dependents do not run', async () => {
    const r = makeGitRepo('');
    const counter = path.join(r.home, 'checks');
    fs.writeFileSync(r.file, flow(`{ run: 'echo run >> ${counter}; echo "tests: 1 failed (b.txt has B2)"; exit 3', attempts: 3 }`));
    const f = await runToRest(r);
    const s = f.state.steps.integrate;
    assert.equal(s.status, 'failed');
    assert.match(s.reason ?? '', /^verification failed: tests: 1 failed \(b\.txt has B2\) \(`echo run >> .*` exited 3\)$/);
    assert.equal(fs.readFileSync(counter, 'utf8'), 'run\n', 'one check: there is no agent to ask again');
    assert.equal(s.outputs.branch, `orchestrator/${f.id}/integrate`);
    assert.equal(showAt(r, s.outputs.commit, 'src/a.txt'), 'a1\nA2\na3\n', 'the merged commit is kept for a look');
    assert.ok(['skipped', 'cancelled'].includes(f.state.steps.after.status), `a step that needs it does not run (${f.state.steps.after.status})`);
    assert.match(logOf(r.root, f.id, 'integrate'), /\[verify\] round 1 of 1: echo run >> .* exited 3/);
    assert.deepEqual(worktreeList(r), [fs.realpathSync(r.root)], 'the worktree goes with the session (its commit stays on the branch)');
  });

  it('retry: applies to a failing check (a flaky test may pass next time)', async () => {
    const r = makeGitRepo('');
    const counter = path.join(r.home, 'checks');
    fs.writeFileSync(r.file, flow(`'echo run >> ${counter}; test "$(wc -l < ${counter})" -ge 2'`, '').replace('    env: { WHO: integration }\n', '    retry: { max_attempts: 2, backoff: 0 }\n'));
    const f = await runToRest(r);
    assert.equal(f.state.steps.integrate.status, 'succeeded', f.state.steps.integrate.reason);
    assert.equal(f.state.steps.integrate.attempt, 2);
    assert.equal(fs.readFileSync(counter, 'utf8'), 'run\nrun\n');
  });
});

describe('verify and changes on built-in actions, validated', () => {
  const problemsOf = (step: string) =>
    validateWorkflow(`name: w\nsteps:\n  - id: a\n    workspace: worktree\n    run: x\n  - id: s\n    needs: a\n${step}`).problems.map((p) => `${p.code} ${p.severity}: ${p.message}`);
  it('verify on git/merge is accepted', () => {
    assert.deepEqual(problemsOf('    uses: git/merge\n    with: { from: [a] }\n    verify: [npm run build, npm test]\n'), []);
  });
  it('verify on the other actions, and changes on any, is an error saying what to do', () => {
    assert.deepEqual(problemsOf('    uses: git/apply\n    with: { from: a }\n    verify: npm test\n'), [
      "schema error: 'verify' is not run on git/apply, which changes your own working tree: check the work before it lands, with verify: on the git/merge or worktree step it applies",
    ]);
    assert.deepEqual(problemsOf('    uses: findings/sarif\n    with: { file: r.sarif }\n    verify: npm test\n'), [
      "schema error: 'verify' runs on git/merge only among the built-in actions (it tests the merged tree); findings/sarif has no tree of its own to test: move the check to a run step that needs this one, or remove verify",
    ]);
    assert.deepEqual(problemsOf('    uses: git/merge\n    with: { from: [a] }\n    changes: required\n'), [
      "schema error: 'changes' is not checked on a built-in action (git/merge): put changes: required on the run or agent steps that do the work, or remove changes",
    ]);
  });
});
