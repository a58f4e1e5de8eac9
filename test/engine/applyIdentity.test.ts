/**
 * `git/apply` with `mode: merge` makes its merge commit in the user's repository as `git commit`
 * there would: by the repository's own identity (its config, else the global config git reads),
 * the orchestrator's name only when git has none; the message names the session, the step it
 * brings and the step that applied it. HOME, XDG_CONFIG_HOME and GIT_CONFIG_GLOBAL point at temp
 * files (GIT_CONFIG_NOSYSTEM set), so the machine's own git config cannot leak in.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { cleanupRepos, runToRest } from './helpers';
import { makeGitRepo, type GitRepo } from './gitRepo';

after(cleanupRepos);

const FLOW = `name: land
steps:
  - id: backend
    workspace: worktree
    run: sed -i 's/a2/A2/' src/a.txt
  - id: between
    needs: backend
    run: git -c user.name=U -c user.email=u@example.com commit -q --allow-empty -m moved
  - id: land
    needs: between
    uses: git/apply
    with: { from: backend, mode: merge }
`;

const VARS = ['HOME', 'XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL'];
let saved: Record<string, string | undefined> = {};

/** A repository, and this process's git config pointed at an empty global file of the repository's temp home. */
function repo(): { r: GitRepo; globalConfig: string } {
  const r = makeGitRepo(FLOW);
  const globalConfig = path.join(r.home, 'gitconfig');
  fs.writeFileSync(globalConfig, '');
  Object.assign(process.env, { HOME: r.home, XDG_CONFIG_HOME: path.join(r.home, '.config'), GIT_CONFIG_GLOBAL: globalConfig, GIT_CONFIG_NOSYSTEM: '1' });
  return { r, globalConfig };
}

/** `name <email>` of the author and the committer of HEAD, and its message. */
function head(r: GitRepo): { author: string; committer: string; message: string } {
  const [author, committer, ...message] = r.git('log', '-1', '--format=%an <%ae>%n%cn <%ce>%n%B').split('\n');
  return { author, committer, message: message.join('\n').trim() };
}

describe('git/apply merge: who the merge commit is by', () => {
  beforeEach(() => {
    saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
    for (const k of VARS) delete process.env[k];
  });
  afterEach(() => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("the repository's own identity (its config), and a message naming the session and steps", async () => {
    const { r } = repo();
    r.git('config', 'user.name', 'Repo Person');
    r.git('config', 'user.email', 'repo.person@example.com');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    const c = head(r);
    assert.equal(c.author, 'Repo Person <repo.person@example.com>');
    assert.equal(c.committer, 'Repo Person <repo.person@example.com>');
    const branch = `orchestrator/${f.id}/backend`;
    assert.equal(
      c.message,
      [
        `orchestrator: merge step backend of session ${f.id}`,
        '',
        `The work of step backend (${branch} ${f.state.steps.backend.outputs.commit.slice(0, 12)}) in session ${f.id} of workflow land, brought in by step land (git/apply, mode merge).`,
        '',
        `Orchestrator-Session: ${f.id}`,
        'Orchestrator-Step: backend',
      ].join('\n'),
    );
    assert.equal(r.git('log', '-1', '--format=%(trailers:key=Orchestrator-Session,valueonly)').trim(), f.id, 'git reads the trailers');
  });

  it('the global identity, from the config file git reads (GIT_CONFIG_GLOBAL)', async () => {
    const { r, globalConfig } = repo();
    fs.writeFileSync(globalConfig, '[user]\n\tname = Global Person\n\temail = global@example.com\n');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    assert.equal(head(r).author, 'Global Person <global@example.com>');
    assert.equal(head(r).committer, 'Global Person <global@example.com>');
  });

  it("the orchestrator's name only where git has none", async () => {
    const { r } = repo();
    assert.doesNotMatch(r.git('config', '--list'), /^user\./m, 'no identity configured');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    assert.equal(head(r).author, 'Synapse Orchestrator <orchestrator@localhost>');
    assert.equal(head(r).committer, 'Synapse Orchestrator <orchestrator@localhost>');
  });

  it('each of name and email: what git has, the fallback for the other', async () => {
    const { r } = repo();
    r.git('config', 'user.name', 'Only A Name');
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', f.state.steps.land.reason);
    assert.equal(head(r).author, 'Only A Name <orchestrator@localhost>');
  });
});
