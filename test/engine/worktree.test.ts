/**
 * `workspace: worktree` with real git in temp repositories: parallel steps with disjoint and
 * overlapping edits, each in its own worktree and branch; what they changed committed with the
 * orchestrator's identity; the user's working tree, index, stash, HEAD and branch byte-identical
 * before and after; worktrees gone when the session ends, branches gone on delete.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { deleteSession } from '../../server/src/store/portable';
import { cleanupRepos, runToRest, statuses } from './helpers';
import { fingerprint, makeGitRepo, orchestratorBranches, showAt, worktreeList } from './gitRepo';

after(cleanupRepos);

/** Two parallel worktree steps editing files (`what`: a sed script per step), then a shared step. */
function parallel(editA: string, editB: string): string {
  return `name: wt
defaults:
  workspace: worktree
steps:
  - id: backend
    run: |
      ${editA}
      echo new > src/new-backend.txt
      mkdir -p build && echo out > build/artifact
      echo noise > run.log
  - id: frontend
    run: |
      ${editB}
  - id: report
    needs: [backend, frontend]
    workspace: shared
    run: |
      echo "\${{ steps.backend.outputs.branch }}" > /dev/null
`;
}

describe('workspace: worktree', () => {
  it('runs parallel steps in their own worktrees and commits what each changed (disjoint edits)', async () => {
    const r = makeGitRepo(parallel(`sed -i 's/a2/A2/' src/a.txt`, `sed -i 's/b2/B2/' src/b.txt`), { dirty: true });
    const before = fingerprint(r);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)));
    const be = f.state.steps.backend.outputs;
    const fe = f.state.steps.frontend.outputs;
    assert.equal(be.branch, `orchestrator/${f.id}/backend`);
    assert.equal(fe.branch, `orchestrator/${f.id}/frontend`);
    assert.equal(be.base, r.git('rev-parse', 'HEAD').trim());
    assert.deepEqual(be.changed_files.split('\n'), ['src/a.txt', 'src/new-backend.txt'], 'new files are committed, ignored ones (build/, *.log) are not');
    assert.equal(fe.changed_files, 'src/b.txt');
    assert.match(be.diffstat, /^2 files changed, 2 insertions\(\+\), 1 deletion\(-\)$/);
    assert.equal(r.git('rev-parse', be.branch).trim(), be.commit);
    assert.equal(showAt(r, be.commit, 'src/a.txt'), 'a1\nA2\na3\n');
    assert.equal(showAt(r, be.commit, 'src/b.txt'), 'b1\nb2\nb3\n', "backend does not see frontend's edit");
    assert.equal(showAt(r, fe.commit, 'src/b.txt'), 'b1\nB2\nb3\n');
    assert.equal(showAt(r, be.commit, 'build/artifact'), undefined);
    assert.equal(r.git('log', '-1', '--format=%an <%ae>|%cn <%ce>|%s', be.commit).trim(), 'Synapse Orchestrator <orchestrator@localhost>|Synapse Orchestrator <orchestrator@localhost>|orchestrator: step backend succeeded');
    assert.deepEqual(fingerprint(r), before, "the user's files, index, stash, HEAD and branch are untouched");
    assert.deepEqual(worktreeList(r), [fs.realpathSync(r.root)], 'the worktrees are removed when the session ends');
    assert.deepEqual(fs.readdirSync(r.path('.orchestrator', 'worktrees')).sort(), ['.gitignore']);
    assert.deepEqual(orchestratorBranches(r).sort(), [`orchestrator/${f.id}/backend`, `orchestrator/${f.id}/frontend`], 'the branches stay');
    assert.doesNotMatch(r.git('status', '--porcelain', '--untracked-files=all'), /worktrees/);

    await deleteSession(r.root, f.id);
    assert.deepEqual(orchestratorBranches(r), [], 'delete removes the branches');
    assert.deepEqual(worktreeList(r), [fs.realpathSync(r.root)]);
    assert.deepEqual(fingerprint(r), before);
  });

  it('keeps overlapping edits apart: each branch has its own version of the same lines', async () => {
    const r = makeGitRepo(parallel(`sed -i 's/two/backend/' shared.txt`, `sed -i 's/two/frontend/' shared.txt`), { dirty: true });
    const before = fingerprint(r);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)));
    assert.equal(showAt(r, f.state.steps.backend.outputs.commit, 'shared.txt'), 'one\nbackend\nthree\n');
    assert.equal(showAt(r, f.state.steps.frontend.outputs.commit, 'shared.txt'), 'one\nfrontend\nthree\n');
    assert.equal(r.read('shared.txt'), 'one\ntwo\nthree\n');
    assert.deepEqual(fingerprint(r), before);
  });

  it('commits the changes of a step that fails, and a step that changes nothing has the base as its commit', async () => {
    const r = makeGitRepo(`name: wt
steps:
  - id: broken
    workspace: worktree
    on_error: continue
    run: |
      echo half > src/half.txt
      exit 3
  - id: idle
    workspace: worktree
    run: "true"
`);
    const f = await runToRest(r);
    const b = f.state.steps.broken;
    assert.equal(b.status, 'failed');
    assert.equal(showAt(r, b.outputs.commit, 'src/half.txt'), 'half\n');
    assert.match(r.git('log', '-1', '--format=%s', b.outputs.commit), /orchestrator: step broken failed/);
    const idle = f.state.steps.idle.outputs;
    assert.equal(idle.commit, idle.base);
    assert.equal(idle.changed_files, '');
    assert.equal(idle.diffstat, '');
  });

  it('starts from an upstream step with { worktree: true, from }, and working_directory is relative to the worktree', async () => {
    const r = makeGitRepo(`name: wt
steps:
  - id: first
    workspace: worktree
    run: echo first > src/first.txt
  - id: second
    needs: first
    workspace: { worktree: true, from: first }
    working_directory: src
    run: |
      cat first.txt > seen.txt
      pwd > where.txt
`);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)));
    const s = f.state.steps.second.outputs;
    assert.equal(s.base, f.state.steps.first.outputs.commit);
    assert.deepEqual(s.changed_files.split('\n'), ['src/seen.txt', 'src/where.txt']);
    assert.equal(showAt(r, s.commit, 'src/seen.txt'), 'first\n');
    assert.equal(showAt(r, s.commit, 'src/where.txt')?.trim(), path.join(fs.realpathSync(r.root), '.orchestrator', 'worktrees', f.id, 'second', 'src'));
    assert.equal(r.read('src', 'first.txt'), undefined, "the user's tree never sees it");
  });

  it('starts from one matrix instance named by its id (from: "test[os=linux]")', async () => {
    const r = makeGitRepo(`name: wt
steps:
  - id: test
    workspace: worktree
    matrix: { os: [linux, mac] }
    run: echo \${{ matrix.os }} > src/os.txt
  - id: after
    needs: test
    workspace: { worktree: true, from: "test[os=linux]" }
    run: cat src/os.txt > src/seen.txt
`);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)));
    assert.equal(f.state.steps.after.outputs.base, f.state.steps['test[os=linux]'].outputs.commit);
    assert.equal(showAt(r, f.state.steps.after.outputs.commit, 'src/seen.txt'), 'linux\n');
  });

  it('refuses to start in a repository without a commit, with one clear line', async () => {
    const r = makeGitRepo('name: wt\nsteps:\n  - id: a\n    workspace: worktree\n    run: "true"\n', { commit: false });
    await assert.rejects(runToRest(r), /this repository has no commit yet: commit something first/);
  });

  it('leaves a shared workflow alone: no base recorded, no git run', async () => {
    const r = makeGitRepo('name: wt\nsteps:\n  - id: a\n    run: echo hi > out.txt\n');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded');
    assert.equal(f.state.base, undefined);
    assert.equal(r.read('out.txt'), 'hi\n');
    assert.equal(fs.existsSync(r.path('.orchestrator', 'worktrees')), false);
  });
});
