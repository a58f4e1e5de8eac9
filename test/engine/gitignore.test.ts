/**
 * `.orchestrator/.gitignore` keeps sessions/ and secrets/ out of git, and workflows and config.yaml
 * committable; it is written also when `.orchestrator/` already existed (a config.yaml, a secret
 * made by hand), not only when a session creates the folder. Real git.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { resolveSecrets } from '../../server/src/engine/secrets';
import { GITIGNORE_TEXT } from '../../server/src/store/gitignore';
import { SessionWatcher } from '../../server/src/store/sessionWatcher';
import { cleanupRepos, makeRepo, runToRest, type Repo } from './helpers';

after(cleanupRepos);

/** A real git repository with .orchestrator/config.yaml, a workflow and a secret, and no .gitignore. */
function repoWithOrchestratorFolder(): Repo {
  const repo = makeRepo(`name: g\nsteps:\n  - id: a\n    run: echo hi\n`);
  fs.rmSync(repo.path('.git'), { recursive: true });
  execFileSync('git', ['init', '-q', repo.root]);
  fs.mkdirSync(repo.path('.orchestrator', 'workflows'), { recursive: true });
  fs.mkdirSync(repo.path('.orchestrator', 'secrets'));
  fs.writeFileSync(repo.path('.orchestrator', 'config.yaml'), 'providers: {}\n');
  fs.writeFileSync(repo.path('.orchestrator', 'workflows', 'w.yaml'), 'name: w\nsteps:\n  - id: a\n    run: echo hi\n');
  fs.writeFileSync(repo.path('.orchestrator', 'secrets', 'TOKEN'), 's3cr3t-value\n');
  return repo;
}

/** What `git add -A` would take under .orchestrator/. */
function committable(repo: Repo): string[] {
  const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', '.orchestrator'], { cwd: repo.root, encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => l.slice(3)).sort();
}

describe('.orchestrator/.gitignore', () => {
  it('is written when secrets are read from an existing .orchestrator/secrets/ (before any session): secrets ignored, config and workflows not', () => {
    const repo = repoWithOrchestratorFolder();
    assert.ok(committable(repo).includes('.orchestrator/secrets/TOKEN'), 'the setup: the secret is committable');
    assert.equal(resolveSecrets({ env: {}, repoRoot: repo.root }).get('TOKEN'), 's3cr3t-value');
    assert.equal(repo.read('.orchestrator', '.gitignore'), GITIGNORE_TEXT);
    assert.deepEqual(committable(repo), ['.orchestrator/.gitignore', '.orchestrator/config.yaml', '.orchestrator/workflows/w.yaml']);
  });

  it("is written when the editor's host starts on a repository whose .orchestrator/ has only a config.yaml", () => {
    const repo = repoWithOrchestratorFolder();
    fs.rmSync(repo.path('.orchestrator', 'secrets'), { recursive: true });
    const watcher = new SessionWatcher(repo.root);
    watcher.start();
    watcher.stop();
    assert.equal(repo.read('.orchestrator', '.gitignore'), GITIGNORE_TEXT);
  });

  it('a session in a repository whose .orchestrator/config.yaml existed: its files are ignored; an existing .gitignore is left as it is', async () => {
    const repo = repoWithOrchestratorFolder();
    fs.rmSync(repo.path('.orchestrator', 'secrets'), { recursive: true });
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded');
    assert.deepEqual(committable(repo), ['.orchestrator/.gitignore', '.orchestrator/config.yaml', '.orchestrator/workflows/w.yaml']);

    const own = repoWithOrchestratorFolder();
    fs.writeFileSync(own.path('.orchestrator', '.gitignore'), 'secrets/\n');
    await runToRest(own);
    assert.equal(own.read('.orchestrator', '.gitignore'), 'secrets/\n', 'the repository chose to commit its sessions');
  });
});
