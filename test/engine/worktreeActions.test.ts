/**
 * The git actions with real git: `git/merge` of worktree steps (disjoint edits merge; overlapping
 * ones fail with one merge-conflict finding per file, the worktree kept for inspection until
 * delete), and `git/apply` in each mode, with its refusals changing nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { deleteSession } from '../../server/src/store/portable';
import { cleanupRepos, runToRest, statuses } from './helpers';
import { fingerprint, makeGitRepo, orchestratorBranches, showAt, worktreeList, type GitRepo } from './gitRepo';

after(cleanupRepos);

function mergeFlow(editA: string, editB: string, tail = ''): string {
  return `name: merge
steps:
  - id: backend
    workspace: worktree
    run: ${editA}
  - id: frontend
    workspace: worktree
    run: ${editB}
  - id: integrate
    needs: [backend, frontend]
    uses: git/merge
    with: { from: [backend, frontend] }
${tail}`;
}

const realRoot = (r: GitRepo) => fs.realpathSync(r.root);

describe('git/merge', () => {
  it('merges disjoint edits into its own branch', async () => {
    const r = makeGitRepo(mergeFlow(`sed -i 's/a2/A2/' src/a.txt`, `sed -i 's/b2/B2/' src/b.txt`), { dirty: true });
    const before = fingerprint(r);
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)));
    const m = f.state.steps.integrate.outputs;
    assert.equal(m.branch, `orchestrator/${f.id}/integrate`);
    assert.equal(showAt(r, m.commit, 'src/a.txt'), 'a1\nA2\na3\n');
    assert.equal(showAt(r, m.commit, 'src/b.txt'), 'b1\nB2\nb3\n');
    assert.deepEqual(m.changed_files.split('\n'), ['src/a.txt', 'src/b.txt']);
    assert.equal(m.base, f.state.steps.backend.outputs.base);
    assert.deepEqual(fingerprint(r), before);
    assert.deepEqual(worktreeList(r), [realRoot(r)]);
  });

  it('fails on a conflict with one merge-conflict finding per file, keeps the worktree; delete removes it and the branches', async () => {
    const r = makeGitRepo(
      mergeFlow(`sed -i 's/two/backend/; s/a1/AB/' shared.txt src/a.txt`, `sed -i 's/two/frontend/; s/a1/AF/' shared.txt src/a.txt`),
      { dirty: true },
    );
    const before = fingerprint(r);
    const f = await runToRest(r);
    const s = f.state.steps.integrate;
    assert.equal(s.status, 'failed');
    assert.match(s.reason ?? '', /2 conflicted file\(s\) merging step frontend: shared.txt, src\/a.txt \(the worktree .* is kept for inspection\)/);
    const found = f.state.rawFindings.filter((x) => x.rule === 'merge-conflict').map((x) => ({ file: x.file, line: x.line, step: x.step }));
    assert.deepEqual(found.sort((a, b) => String(a.file).localeCompare(String(b.file))), [
      { file: 'shared.txt', line: 2, step: 'integrate' },
      { file: 'src/a.txt', line: 1, step: 'integrate' },
    ]);
    const kept = path.join(realRoot(r), '.orchestrator', 'worktrees', f.id, 'integrate');
    assert.deepEqual(worktreeList(r), [realRoot(r), kept], 'the conflicted worktree is kept');
    assert.match(fs.readFileSync(path.join(kept, 'shared.txt'), 'utf8'), /<<<<<<< /);
    assert.deepEqual(fingerprint(r), before);

    await deleteSession(r.root, f.id);
    assert.deepEqual(worktreeList(r), [realRoot(r)]);
    assert.deepEqual(orchestratorBranches(r), []);
    assert.equal(fs.existsSync(kept), false);
    assert.deepEqual(fs.existsSync(path.join(r.root, '.git', 'worktrees')) ? fs.readdirSync(path.join(r.root, '.git', 'worktrees')) : [], [], "git's records of the worktrees are gone");
    assert.deepEqual(fingerprint(r), before);
  });
});

/** backend edits src/a.txt in a worktree; `between` (a shared step) may move the user's branch; then git/apply. */
function applyFlow(mode: string, edit = `sed -i 's/a2/A2/' src/a.txt`, between = 'echo'): string {
  return `name: apply
steps:
  - id: backend
    workspace: worktree
    run: ${edit}
  - id: between
    needs: backend
    run: ${between}
  - id: land
    needs: between
    uses: git/apply
    with: { from: backend, mode: ${mode} }
`;
}

const MOVE = `git -c user.name=U -c user.email=u@example.com commit -q --allow-empty -m moved`;

describe('git/apply', () => {
  it('ff: fast-forwards the current branch, keeping the user uncommitted work', async () => {
    const r = makeGitRepo(applyFlow('ff'));
    r.write('untracked.txt', 'mine\n');
    r.write('src/b.txt', 'b1\nmine\nb3\n');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)) + f.state.steps.land.reason);
    assert.equal(r.git('rev-parse', 'HEAD').trim(), f.state.steps.backend.outputs.commit);
    assert.equal(r.git('symbolic-ref', 'HEAD').trim(), 'refs/heads/main');
    assert.equal(r.read('src/a.txt'), 'a1\nA2\na3\n');
    assert.equal(r.read('src/b.txt'), 'b1\nmine\nb3\n');
    assert.equal(r.read('untracked.txt'), 'mine\n');
    assert.equal(f.state.steps.land.outputs.changed_files, 'src/a.txt');
  });

  it('ff: refuses when the branch moved, changing nothing', async () => {
    const r = makeGitRepo(applyFlow('ff', undefined, MOVE));
    const f = await runToRest(r);
    const before = fingerprint(r); // after `between` moved it
    assert.equal(f.state.steps.land.status, 'failed');
    assert.match(f.state.steps.land.reason ?? '', /^git\/apply refused: main moved since the step started .* cannot be fast-forwarded: use mode: merge$/);
    assert.deepEqual(fingerprint(r), before);
  });

  it('merge: makes a merge commit on the moved branch', async () => {
    const r = makeGitRepo(applyFlow('merge', undefined, MOVE));
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    assert.equal(r.git('rev-list', '--parents', '-n', '1', 'HEAD').trim().split(' ').length, 3, 'a merge commit');
    assert.equal(r.read('src/a.txt'), 'a1\nA2\na3\n');
    assert.match(r.git('log', '-1', '--format=%s'), /orchestrator: merge step backend of session/);
    assert.equal(r.git('status', '--porcelain').includes('src/'), false);
  });

  it('uncommitted: applies the change to the files only (HEAD and index stay)', async () => {
    const r = makeGitRepo(applyFlow('uncommitted', `sed -i 's/a2/A2/' src/a.txt && echo n > src/n.txt`, MOVE));
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    const head = r.git('rev-parse', 'HEAD').trim();
    assert.equal(r.git('log', '-1', '--format=%s', head).trim(), 'moved');
    assert.equal(r.read('src/a.txt'), 'a1\nA2\na3\n');
    assert.equal(r.read('src/n.txt'), 'n\n');
    assert.equal(r.git('diff', '--cached', '--name-only'), '', 'nothing staged');
    assert.deepEqual(r.git('status', '--porcelain', '--untracked-files=all').split('\n').filter((l) => l && !l.includes('.orchestrator') && !l.includes('wf.workflow')).sort(), [' M src/a.txt', '?? src/n.txt']);
  });

  for (const mode of ['ff', 'merge', 'uncommitted']) {
    it(`${mode}: refuses when the user's uncommitted changes touch the same files, changing nothing`, async () => {
      const r = makeGitRepo(applyFlow(mode, `sed -i 's/a2/A2/' src/a.txt && echo x > untracked.txt`));
      r.write('src/a.txt', 'a1\nmy edit\na3\n');
      r.write('untracked.txt', 'mine\n');
      const before = fingerprint(r);
      const f = await runToRest(r);
      assert.equal(f.state.steps.land.status, 'failed');
      assert.equal(f.state.steps.land.reason, 'git/apply refused: your uncommitted changes touch 2 file(s) the step changed: src/a.txt, untracked.txt; commit or stash them, then run the step again');
      assert.deepEqual(fingerprint(r), before);
    });
  }

  it('merge: refuses while something is staged, changing nothing', async () => {
    const r = makeGitRepo(applyFlow('merge'), { dirty: true });
    const before = fingerprint(r);
    const f = await runToRest(r);
    assert.equal(f.state.steps.land.reason, 'git/apply refused: you have staged changes, which a merge commit would take in: commit or unstage them (or use mode: uncommitted)');
    assert.deepEqual(fingerprint(r), before);
  });

  it('merge: refuses a merge that would conflict, changing nothing', async () => {
    const r = makeGitRepo(applyFlow('merge', `sed -i 's/a2/A2/' src/a.txt`, `sed -i 's/a2/main/' src/a.txt && git -c user.name=U -c user.email=u@x commit -qam main`));
    const f = await runToRest(r);
    const before = fingerprint(r);
    assert.equal(f.state.steps.land.status, 'failed');
    assert.match(f.state.steps.land.reason ?? '', /^git\/apply refused: merging step backend into main would conflict in src\/a.txt: merge it yourself/);
    assert.deepEqual(fingerprint(r), before);
  });
});
