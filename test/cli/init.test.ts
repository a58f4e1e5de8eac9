/**
 * `orchestrator init [--portable | --no-portable] [--json]` through the REAL built CLI on real git
 * repositories: what it creates, that a second run writes nothing (same bytes, inodes and mtimes)
 * and says so, that it never overwrites a user's file, and what git ignores in each mode, asked
 * of git itself (`git status`, `git check-ignore`) on real session, secret and worktree files.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configTemplate } from '../../server/src/config/template';
import { NORMAL_GITIGNORE, PORTABLE_GITIGNORE } from '../../server/src/setup/gitignoreModes';
import type { InitReport } from '../../server/src/setup/init';
import { STARTER_WORKFLOW } from '../../server/src/setup/starter';
import { CLI, runCli } from './cliProcess';
import { allFiles, committable, fingerprint, gitIgnores, gitTemp, removeTemps, type GitTemp } from './setupHelpers';

const init = (t: GitTemp, ...args: string[]) => runCli(['init', ...args], { cwd: t.root, env: t.env });
const initJson = async (t: GitTemp, ...args: string[]): Promise<InitReport> => {
  const r = await init(t, ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as InitReport;
};
const actions = (r: InitReport): Record<string, string> => Object.fromEntries(r.items.map((i) => [i.path, i.action]));

/** Real files in each part of `.orchestrator/`, as a session, a secret and a worktree step leave them. */
function machineFiles(t: GitTemp): void {
  const s = '.orchestrator/sessions/20260101-000000-aaaa';
  for (const f of ['state.json', 'log.jsonl', 'steps/a/1.log', 'lock', 'control.jsonl', 'steps/a/1.proc', '.scratch/x']) t.write(`${s}/${f}`, '{}\n');
  t.write('.orchestrator/sessions/.20260101-000000-aaaa.runner.log', 'log\n');
  t.write('.orchestrator/secrets/TOKEN', 'tok3n-value\n', 0o600);
  t.write('.orchestrator/worktrees/20260101-000000-aaaa/a/file.txt', 'x\n');
}

before(() => assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`));
after(removeTemps);

describe('orchestrator init', () => {
  it('creates .gitignore, a commented config.yaml, the starter workflow and meta.json, and says what is next', async () => {
    const t = gitTemp('orch-init');
    t.git('remote', 'add', 'origin', 'https://someone:ghp_SECRETTOKEN123@example.com/org/repo.git');
    const r = await init(t);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Set up \.orchestrator\/ in .+ \(normal mode: sessions, secrets and worktrees stay out of git\)\.\n/);
    for (const f of ['.gitignore', 'config.yaml', 'workflows/starter.yaml', 'meta.json']) assert.match(r.stdout, new RegExp(`created  \\.orchestrator/${f.replace('.', '\\.')}\\n`));
    assert.match(r.stdout, /Next: orchestrator run \.orchestrator\/workflows\/starter\.yaml/);

    assert.equal(t.read('.orchestrator/.gitignore'), NORMAL_GITIGNORE);
    assert.equal(t.read('.orchestrator/config.yaml'), configTemplate());
    assert.equal(t.read('.orchestrator/workflows/starter.yaml'), STARTER_WORKFLOW);
    const meta = JSON.parse(t.read('.orchestrator/meta.json')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta).sort(), ['created', 'gitRemote', 'stateFormatVersion', 'toolVersion']);
    assert.equal(meta.gitRemote, 'https://example.com/org/repo.git', 'the remote without its credentials');
    assert.equal(meta.stateFormatVersion, 2, 'the format this release writes (store/formatVersion.ts)');
    assert.equal(meta.toolVersion, (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version);
    assert.ok(!Number.isNaN(Date.parse(String(meta.created))));
    for (const f of allFiles(path.join(t.root, '.orchestrator'))) assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /ghp_SECRETTOKEN123|someone/, f);
    assert.deepEqual(fs.readdirSync(path.join(t.root, '.orchestrator')).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
  });

  it('a second run writes nothing (same bytes, inodes, mtimes) and says nothing changed; --json says changed: false', async () => {
    const t = gitTemp('orch-init-twice');
    assert.equal((await init(t)).code, 0);
    const before = fingerprint(t.root);
    const again = await init(t);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing changed: \.orchestrator\/ in .+ is already set up \(normal mode/);
    assert.doesNotMatch(again.stdout, /created|updated|Next:/);
    assert.deepEqual(fingerprint(t.root), before);
    const j = await initJson(t);
    assert.equal(j.changed, false);
    assert.ok(j.items.every((i) => i.action === 'kept'), JSON.stringify(j.items));
    assert.deepEqual(fingerprint(t.root), before);
  });

  it('--json: the report (repoRoot, mode, items, changed, workflow, notes, git)', async () => {
    const t = gitTemp('orch-init-json');
    const j = await initJson(t);
    assert.deepEqual(Object.keys(j).sort(), ['changed', 'git', 'items', 'mode', 'notes', 'repoRoot', 'workflow']);
    assert.equal(j.repoRoot, fs.realpathSync(t.root));
    assert.equal(j.mode, 'normal');
    assert.equal(j.changed, true);
    assert.equal(j.git, true);
    assert.deepEqual(j.notes, []);
    assert.equal(j.workflow, path.join(j.repoRoot, '.orchestrator', 'workflows', 'starter.yaml'));
    assert.deepEqual(actions(j), { '.orchestrator/.gitignore': 'created', '.orchestrator/config.yaml': 'created', '.orchestrator/workflows/starter.yaml': 'created', '.orchestrator/meta.json': 'created' });
  });

  it("never overwrites a user's files: each is kept and reported as kept; a folder with workflows gets no starter", async () => {
    const t = gitTemp('orch-init-keep');
    t.write('.orchestrator/config.yaml', 'providers: { mine: { type: codex } }\n');
    t.write('.orchestrator/workflows/deploy.yaml', 'name: d\nsteps:\n  - id: a\n    run: echo\n');
    t.write('.orchestrator/meta.json', '{"created":"2020-01-01T00:00:00.000Z"}\n');
    const j = await initJson(t);
    assert.deepEqual(actions(j), { '.orchestrator/.gitignore': 'created', '.orchestrator/config.yaml': 'kept', '.orchestrator/workflows': 'kept', '.orchestrator/meta.json': 'kept' });
    assert.match(j.items.find((i) => i.path === '.orchestrator/workflows')!.note ?? '', /1 workflow: no starter workflow added/);
    assert.equal(t.read('.orchestrator/config.yaml'), 'providers: { mine: { type: codex } }\n');
    assert.equal(t.read('.orchestrator/meta.json'), '{"created":"2020-01-01T00:00:00.000Z"}\n');
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator/workflows/starter.yaml')));
    assert.equal(j.workflow, undefined);
  });

  it('normal mode: git ignores sessions, secrets and worktrees (real files), and commits workflows, config and meta', async () => {
    const t = gitTemp('orch-init-normal');
    assert.equal((await init(t)).code, 0);
    machineFiles(t);
    assert.deepEqual(committable(t), ['.orchestrator/.gitignore', '.orchestrator/config.yaml', '.orchestrator/meta.json', '.orchestrator/workflows/starter.yaml']);
    for (const f of ['.orchestrator/sessions/20260101-000000-aaaa/state.json', '.orchestrator/secrets/TOKEN', '.orchestrator/worktrees/20260101-000000-aaaa/a/file.txt']) assert.ok(gitIgnores(t, f), f);
    for (const f of ['.orchestrator/config.yaml', '.orchestrator/workflows/starter.yaml', '.orchestrator/meta.json']) assert.ok(!gitIgnores(t, f), f);
  });

  it('portable mode: sessions are committed (not their machine-local files); secrets and worktrees never', async () => {
    const t = gitTemp('orch-init-portable');
    const r = await init(t, '--portable');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /portable mode: sessions are committed; secrets and worktrees never are/);
    assert.equal(t.read('.orchestrator/.gitignore'), PORTABLE_GITIGNORE);
    machineFiles(t);
    const s = '.orchestrator/sessions/20260101-000000-aaaa';
    assert.deepEqual(committable(t), ['.orchestrator/.gitignore', '.orchestrator/config.yaml', '.orchestrator/meta.json', `${s}/log.jsonl`, `${s}/state.json`, `${s}/steps/a/1.log`, '.orchestrator/workflows/starter.yaml'].sort());
    for (const f of ['.orchestrator/secrets/TOKEN', '.orchestrator/worktrees/20260101-000000-aaaa/a/file.txt', `${s}/lock`, `${s}/control.jsonl`, `${s}/steps/a/1.proc`, `${s}/.scratch/x`, '.orchestrator/sessions/.20260101-000000-aaaa.runner.log']) assert.ok(gitIgnores(t, f), f);
    const again = await init(t);
    assert.match(again.stdout, /^Nothing changed: .*portable mode/, 'a run without a flag keeps the mode');
  });

  it('switches mode only when asked, only a .gitignore of its own, and says what git still needs', async () => {
    const t = gitTemp('orch-init-switch');
    await init(t, '--portable');
    machineFiles(t);
    t.git('add', '.orchestrator');
    t.git('commit', '-q', '-m', 'sessions');
    const others = fingerprint(t.root);
    delete others['.orchestrator/.gitignore'];

    const back = await init(t, '--no-portable');
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /updated +\.orchestrator\/\.gitignore \(switched from portable to normal mode\)/);
    assert.match(back.stdout, /To do:\n {2}- git still tracks 3 files of sessions committed in portable mode: git rm -r --cached \.orchestrator\/sessions/);
    assert.equal(t.read('.orchestrator/.gitignore'), NORMAL_GITIGNORE);
    const now = fingerprint(t.root);
    delete now['.orchestrator/.gitignore'];
    assert.deepEqual(now, others, 'only the .gitignore changed');

    const forth = await initJson(t, '--portable');
    assert.equal(forth.mode, 'portable');
    assert.equal(actions(forth)['.orchestrator/.gitignore'], 'updated');
    assert.ok(forth.notes.some((n) => /git add \.orchestrator\/sessions/.test(n)), forth.notes.join('\n'));
  });

  it('a .gitignore edited by hand is never rewritten: init says it was kept and what to change for the mode asked', async () => {
    const t = gitTemp('orch-init-custom');
    t.write('.orchestrator/.gitignore', 'sessions/\n');
    const r = await init(t, '--portable');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.read('.orchestrator/.gitignore'), 'sessions/\n');
    assert.match(r.stdout, /kept +\.orchestrator\/\.gitignore \(edited by hand: left as it is\)/);
    assert.match(r.stdout, /init did not switch it to portable mode: make it ignore secrets\/ and worktrees\/ but not sessions\//);
    assert.match(r.stdout, /git would commit secret files: make \.orchestrator\/\.gitignore ignore secrets\//);
    const j = await initJson(t);
    assert.equal(j.mode, 'custom');
    assert.equal(t.read('.orchestrator/.gitignore'), 'sessions/\n');
  });

  it("an older .gitignore of ours (without worktrees/) is brought up to date; a root .gitignore hiding the workflows is reported", async () => {
    const t = gitTemp('orch-init-older');
    t.write('.orchestrator/.gitignore', '# Machine-local orchestrator state (see docs/sessions.md)\nsessions/\nsecrets/\n');
    t.write('.gitignore', '.orchestrator/workflows/\n');
    const j = await initJson(t);
    assert.equal(actions(j)['.orchestrator/.gitignore'], 'updated');
    assert.equal(t.read('.orchestrator/.gitignore'), NORMAL_GITIGNORE);
    assert.ok(j.notes.some((n) => n.startsWith('git ignores .orchestrator/workflows/ (.gitignore:1: .orchestrator/workflows/)')), j.notes.join('\n'));
  });

  it('works outside git (no remote, no ignore checks) and refuses the home folder (exit 2, its .orchestrator/ is the user\'s own)', async () => {
    const t = gitTemp('orch-init-nogit', { git: false });
    fs.mkdirSync(path.join(t.root, '.orchestrator'));
    const j = await initJson(t);
    assert.equal(j.git, false);
    assert.equal((JSON.parse(t.read('.orchestrator/meta.json')) as { gitRemote: unknown }).gitRemote, null);

    const home = await runCli(['init'], { cwd: t.home, env: t.env });
    assert.equal(home.code, 2, home.stdout + home.stderr);
    assert.match(home.stderr, /^orchestrator: .* is your home folder: .* run orchestrator init inside a repository\n$/);
    assert.ok(!fs.existsSync(path.join(t.home, '.orchestrator')));
  });

  it('the starter it writes runs to success in the fresh repository', async () => {
    const t = gitTemp('orch-init-run');
    await init(t);
    const r = await runCli(['run', '.orchestrator/workflows/starter.yaml', '--quiet'], { cwd: t.root, env: t.env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(committable(t), ['.orchestrator/.gitignore', '.orchestrator/config.yaml', '.orchestrator/meta.json', '.orchestrator/workflows/starter.yaml'], 'the session is not committable');
  });
});
