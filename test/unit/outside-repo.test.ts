/**
 * `outside-repo`: files a workflow reads must stay inside the repository (symlinks resolved)
 * unless `allow_outside_repo` allows them. Real folders and symlinks in a temp dir.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileExists } from '../../server/src/workflow/validate';
import { outsideRepo, realPath } from '../../server/src/workflow/repoPaths';
import { expectProblems, messages } from '../helpers/marked';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-outside-')));
after(() => fs.rmSync(base, { recursive: true, force: true }));
const repo = path.join(base, 'repo');
const elsewhere = path.join(base, 'elsewhere');
fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
fs.mkdirSync(path.join(repo, 'prompts'));
fs.mkdirSync(elsewhere);
fs.writeFileSync(path.join(elsewhere, 'secret.md'), 'outside\n');
fs.writeFileSync(path.join(repo, 'prompts', 'a.md'), 'inside\n');
fs.symlinkSync(path.join(elsewhere, 'secret.md'), path.join(repo, 'prompts', 'link.md'));
fs.symlinkSync(path.join(repo, 'prompts', 'a.md'), path.join(repo, 'inside-link.md'));
const opts = { file: path.join(repo, 'wf.workflow.yaml'), repoRoot: repo, fileExists };

describe('outsideRepo (the rule)', () => {
  it('decides on real paths, and for a path that does not exist yet by its nearest folder', () => {
    assert.equal(outsideRepo(repo, path.join(repo, 'prompts', 'a.md'), undefined), undefined);
    assert.equal(outsideRepo(repo, path.join(repo, 'inside-link.md'), undefined), undefined);
    assert.equal(outsideRepo(repo, path.join(repo, 'out', 'not-yet.sarif'), undefined), undefined);
    assert.deepEqual(outsideRepo(repo, path.join(repo, 'prompts', 'link.md'), undefined), { path: path.join(repo, 'prompts', 'link.md'), real: path.join(elsewhere, 'secret.md'), viaSymlink: true });
    assert.deepEqual(outsideRepo(repo, '/etc/passwd', undefined), { path: '/etc/passwd', real: realPath('/etc/passwd'), viaSymlink: false });
    assert.equal(outsideRepo(repo, path.join(repo, '..', 'repo2', 'x'), undefined)?.viaSymlink, false, 'a sibling folder with the same prefix is outside');
  });

  it('allow_outside_repo: true allows anything; a list allows its files and what is under its folders', () => {
    assert.equal(outsideRepo(repo, '/etc/passwd', true), undefined);
    assert.equal(outsideRepo(repo, path.join(elsewhere, 'secret.md'), ['../elsewhere']), undefined);
    assert.equal(outsideRepo(repo, path.join(repo, 'prompts', 'link.md'), [path.join(elsewhere, 'secret.md')]), undefined);
    assert.ok(outsideRepo(repo, '/etc/passwd', ['../elsewhere']));
  });
});

describe('outside-repo (warning)', () => {
  it('instructions, context, findings and findings/sarif files that leave the repository, at the value', () => {
    const v = expectProblems(
      `
      name: x
      agents:
        a: { provider: codex, instructions: [[../../../../../../../../etc/passwd]], context: [prompts/a.md, [[/etc/hostname]]] }
        b: { provider: codex, instructions: prompts/a.md }
      steps:
        - id: s
          agent: a
          prompt: hi
          context: [[[../elsewhere/secret.md]]]
        - id: r
          run: echo
          findings: [[/etc/passwd]]
        - id: w
          run: echo
          working_directory: prompts
          findings: ../out/ok.sarif
        - id: i
          uses: findings/sarif
          with: { file: [[../../elsewhere/x.sarif]] }
          working_directory: prompts
        - id: e
          run: echo
          findings: "/tmp/\${{ session.id }}.sarif"
      `,
      ['outside-repo', 'outside-repo', 'outside-repo', 'outside-repo', 'outside-repo'],
      opts,
    );
    assert.equal(v.problems[0].severity, 'warning');
    assert.equal(
      messages(v)[1],
      `context file '/etc/hostname' is outside the repository ${repo}${realPath('/etc/hostname') === '/etc/hostname' ? '' : ` (${realPath('/etc/hostname')})`}: the step will fail rather than read it; if the workflow really should read it, add allow_outside_repo: true at the top level of the workflow (or allow_outside_repo: [/etc/hostname] to allow just this path)`,
    );
  });

  it('a symlink inside the repository that points out counts as outside, and the message says where it leads', () => {
    const v = expectProblems(
      `
      name: x
      agents:
        a: { provider: codex, instructions: [[prompts/link.md]], context: [inside-link.md] }
      steps: [{ id: s, agent: a, prompt: hi }]
      `,
      ['outside-repo'],
      opts,
    );
    assert.match(messages(v)[0], new RegExp(`^instructions file 'prompts/link.md' is a symlink to ${path.join(elsewhere, 'secret.md')}, outside the repository ${repo}: `));
  });

  it('allow_outside_repo: true silences them; a list silences only what it covers', () => {
    const wf = (allow: string, hostname: string) => `
      name: x
      ${allow}
      agents:
        a: { provider: codex, instructions: prompts/link.md, context: [${hostname}] }
      steps: [{ id: s, agent: a, prompt: hi }]
      `;
    expectProblems(wf('allow_outside_repo: true', '/etc/hostname'), [], opts);
    expectProblems(wf('allow_outside_repo: [../elsewhere]', '[[/etc/hostname]]'), ['outside-repo'], opts);
  });

  it('needs the file system: without fileExists (no file checks) nothing is reported', () => {
    expectProblems(
      `
      name: x
      steps: [{ id: r, run: echo, findings: /etc/passwd }]
      `,
      [],
    );
  });

  it('allow_outside_repo takes true/false or a non-empty list of paths', () => {
    expectProblems(
      `
      name: x
      allow_outside_repo: [[yes please]]
      steps: [{ id: r, run: echo }]
      `,
      ['schema'],
    );
  });
});
