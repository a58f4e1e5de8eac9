/**
 * `orchestrator secrets list|set|test|doctor` through the REAL built CLI on real git repositories
 * with a private HOME: values from stdin (not a terminal), file mode 0600 and folder 0700, the
 * value never in stdout, stderr or any file but the secret's own, names refused with the rule,
 * secrets git would commit refused, where each secret resolves from, which workflows read it,
 * every doctor check made to fail, and the one-line warning about files others can read.
 * The hidden terminal prompt is in secretsPrompt.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveSecrets } from '../../server/src/engine/secrets';
import type { CheckResult } from '../../server/src/setup/secretChecks';
import type { SecretListing, SecretTest } from '../../server/src/setup/secretReport';
import { assertUsageError, CLI, runCli } from './cliProcess';
import { allFiles, gitTemp, modeOf, removeTemps, runCliWith, type GitTemp } from './setupHelpers';

const VALUE = 'xq7-Zz9-unique-secret-value';

const WORKFLOW = `name: deploy
steps:
  - id: a
    if: secrets.GATE != ''
    run: echo "\${{ secrets.DEPLOY_TOKEN }}"
  - id: b
    run: echo "\${{ secrets['API_KEY'] }}"
    env:
      X: \${{ secrets[format('{0}', 'K')] }}
`;

const cli = (t: GitTemp, args: string[], extraEnv: Record<string, string> = {}, input?: string) =>
  runCliWith(['secrets', ...args], { cwd: t.root, env: { ...t.env, ...extraEnv }, ...(input !== undefined ? { input } : {}) });

/** A repository after `orchestrator init`, with a workflow reading secrets. */
async function repo(prefix: string): Promise<GitTemp> {
  const t = gitTemp(prefix);
  const r = await runCli(['init'], { cwd: t.root, env: t.env });
  assert.equal(r.code, 0, r.stderr);
  t.write('.orchestrator/workflows/deploy.yaml', WORKFLOW);
  return t;
}

/** No file under the repository or HOME other than `except` holds the value (nor .git's). */
function assertValueOnlyIn(t: GitTemp, except: string[], value = VALUE): void {
  for (const f of [...allFiles(t.root), ...allFiles(t.home)]) {
    if (except.includes(f)) continue;
    assert.ok(!fs.readFileSync(f).includes(Buffer.from(value)), `the value is in ${f}`);
  }
}

before(() => assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`));
after(removeTemps);

describe('orchestrator secrets set', () => {
  it('reads the value from stdin: file 0600 in a 0700 folder, git ignores it, the value is nowhere else', async () => {
    const t = await repo('orch-sec-set');
    const r = await cli(t, ['set', 'DEPLOY_TOKEN'], {}, `${VALUE}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Saved secret DEPLOY_TOKEN in .orchestrator/secrets/DEPLOY_TOKEN (mode 0600, ignored by git).\n');
    assert.equal(r.stderr, '');
    const file = path.join(t.root, '.orchestrator', 'secrets', 'DEPLOY_TOKEN');
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(path.dirname(file)), 0o700);
    assert.equal(fs.readFileSync(file, 'utf8'), VALUE);
    assert.equal(resolveSecrets({ env: {}, repoRoot: t.root }).get('DEPLOY_TOKEN'), VALUE);
    assert.deepEqual(t.git('status', '--porcelain', '--untracked-files=all', '--', '.orchestrator/secrets'), '');
    assertValueOnlyIn(t, [file]);

    const again = await cli(t, ['set', 'DEPLOY_TOKEN'], {}, 'second-value\n');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Replaced secret DEPLOY_TOKEN/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'second-value');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['DEPLOY_TOKEN'], 'no temp file left');
  });

  it('keeps a value exactly: several lines, and a newline of its own at the end', async () => {
    const t = await repo('orch-sec-exact');
    const pem = '-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----\n';
    assert.equal((await cli(t, ['set', 'PEM'], {}, `${pem}\n`)).code, 0);
    assert.equal((await cli(t, ['set', 'CRLF'], {}, 'windows\r\n')).code, 0);
    const got = resolveSecrets({ env: {}, repoRoot: t.root });
    assert.equal(got.get('PEM'), pem);
    assert.equal(got.get('CRLF'), 'windows');
  });

  it('replaces a file others could read with one they cannot (0600 from the first byte)', async () => {
    const t = await repo('orch-sec-loose');
    const file = t.write('.orchestrator/secrets/OLD', 'old\n', 0o644);
    assert.equal((await cli(t, ['set', 'OLD'], {}, VALUE)).code, 0);
    assert.equal(modeOf(file), 0o600);
  });

  it('--global writes ~/.orchestrator/secrets/NAME (0600, folder 0700) and says when the repository or env wins', async () => {
    const t = await repo('orch-sec-global');
    const r = await cli(t, ['set', 'API_KEY', '--global'], {}, VALUE);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(t.home, '.orchestrator', 'secrets', 'API_KEY');
    assert.equal(r.stdout, 'Saved secret API_KEY in ~/.orchestrator/secrets/API_KEY (mode 0600).\n');
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(path.dirname(file)), 0o700);
    assertValueOnlyIn(t, [file]);

    t.write('.orchestrator/secrets/API_KEY', 'repo\n', 0o600);
    const shadowed = await cli(t, ['set', 'API_KEY', '--global'], { ORCHESTRATOR_SECRET_API_KEY: 'from-env' }, VALUE);
    assert.equal(shadowed.code, 0);
    assert.equal(shadowed.stderr, 'orchestrator: warning: env ORCHESTRATOR_SECRET_API_KEY wins over it: sessions get that value, not this one\n');
  });

  it('refuses a bad name (exit 2, with the names allowed) and an empty value (exit 2); writes nothing', async () => {
    const t = await repo('orch-sec-bad');
    for (const name of ['has space', '1ST', 'a.b', '../x']) {
      const r = await cli(t, ['set', name], {}, VALUE);
      assertUsageError(r, /is not a secret name: a secret name is letters, digits, '_' and '-', starting with a letter or '_'/);
    }
    assertUsageError(await cli(t, ['set', 'EMPTY'], {}, ''), /the value of EMPTY is empty \(stdin gave nothing\): nothing was written/);
    assertUsageError(await cli(t, ['set', 'EMPTY'], {}, '\n'), /is empty/);
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator', 'secrets')));
  });

  it('refuses (exit 1) where git would commit the secret: an ignore file that does not cover it, a tracked file, a linked folder', async () => {
    const t = await repo('orch-sec-git');
    fs.writeFileSync(path.join(t.root, '.orchestrator', '.gitignore'), 'sessions/\n');
    const r = await cli(t, ['set', 'TOKEN'], {}, VALUE);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^orchestrator: TOKEN was not written: git would commit \.orchestrator\/secrets\/TOKEN; make \.orchestrator\/\.gitignore ignore secrets\/, or use --global\n$/);
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator', 'secrets', 'TOKEN')));

    const tracked = await repo('orch-sec-tracked');
    fs.writeFileSync(path.join(tracked.root, '.orchestrator', '.gitignore'), 'sessions/\n');
    tracked.write('.orchestrator/secrets/TOKEN', 'committed\n');
    tracked.git('add', '.orchestrator/secrets/TOKEN');
    fs.writeFileSync(path.join(tracked.root, '.orchestrator', '.gitignore'), 'secrets/\n');
    const r2 = await cli(tracked, ['set', 'TOKEN'], {}, VALUE);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /git tracks \.orchestrator\/secrets\/TOKEN; run git rm --cached/);
    assert.equal(tracked.read('.orchestrator/secrets/TOKEN'), 'committed\n');

    const linked = await repo('orch-sec-link');
    fs.mkdirSync(path.join(linked.root, 'docs'));
    fs.symlinkSync(path.join(linked.root, 'docs'), path.join(linked.root, '.orchestrator', 'secrets'));
    const r3 = await cli(linked, ['set', 'TOKEN'], {}, VALUE);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /is a symbolic link; secrets are written only into a real folder/);
    assert.deepEqual(fs.readdirSync(path.join(linked.root, 'docs')), []);
  });
});

describe('orchestrator secrets list', () => {
  it('names, where each resolves from (and what it wins over), which workflow lines read it; never a value', async () => {
    const t = await repo('orch-sec-list');
    t.write('.orchestrator/secrets/DEPLOY_TOKEN', `${VALUE}-repo\n`, 0o600);
    fs.mkdirSync(path.join(t.home, '.orchestrator', 'secrets'), { recursive: true });
    fs.writeFileSync(path.join(t.home, '.orchestrator', 'secrets', 'DEPLOY_TOKEN'), `${VALUE}-home\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(t.home, '.orchestrator', 'secrets', 'UNUSED'), `${VALUE}-unused\n`, { mode: 0o600 });
    const env = { ORCHESTRATOR_SECRET_GATE: `${VALUE}-env` };

    const r = await cli(t, ['list', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(VALUE));
    const l = JSON.parse(r.stdout) as SecretListing;
    assert.deepEqual(Object.keys(l).sort(), ['dynamic', 'repoRoot', 'secrets', 'workflows']);
    assert.deepEqual(l.workflows, ['.orchestrator/workflows/deploy.yaml', '.orchestrator/workflows/starter.yaml']);
    const by = Object.fromEntries(l.secrets.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(by), ['API_KEY', 'DEPLOY_TOKEN', 'GATE', 'UNUSED']);
    const wf = '.orchestrator/workflows/deploy.yaml';
    assert.deepEqual(by.DEPLOY_TOKEN, {
      name: 'DEPLOY_TOKEN',
      set: true,
      from: { kind: 'repo', at: path.join(l.repoRoot, '.orchestrator', 'secrets', 'DEPLOY_TOKEN') },
      shadowed: [{ kind: 'home', at: path.join(t.home, '.orchestrator', 'secrets', 'DEPLOY_TOKEN') }],
      usedBy: [{ file: wf, line: 5 }],
    });
    assert.deepEqual(by.GATE, { name: 'GATE', set: true, from: { kind: 'env', at: 'env ORCHESTRATOR_SECRET_GATE' }, shadowed: [], usedBy: [{ file: wf, line: 4 }] });
    assert.deepEqual(by.API_KEY, { name: 'API_KEY', set: false, shadowed: [], usedBy: [{ file: wf, line: 7 }] });
    assert.deepEqual(by.UNUSED.usedBy, []);
    assert.deepEqual(l.dynamic, [{ file: wf, line: 9 }]);

    const text = await cli(t, ['list'], env);
    assert.equal(text.code, 0);
    const lines = text.stdout.split('\n');
    assert.match(lines[0], /^NAME +FROM +USED BY$/);
    assert.match(lines[1], /^API_KEY +not set +\.orchestrator\/workflows\/deploy\.yaml:7$/);
    assert.match(lines[2], /^DEPLOY_TOKEN +\.orchestrator\/secrets\/DEPLOY_TOKEN \(wins over ~\/\.orchestrator\/secrets\/DEPLOY_TOKEN\) +\.orchestrator\/workflows\/deploy\.yaml:5$/);
    assert.match(lines[3], /^GATE +env ORCHESTRATOR_SECRET_GATE +\.orchestrator\/workflows\/deploy\.yaml:4$/);
    assert.match(lines[4], /^UNUSED +~\/\.orchestrator\/secrets\/UNUSED +no workflow$/);
    assert.equal(lines.length, 6);
    assert.equal(text.stderr, `orchestrator: warning: ${wf}:9 reads secrets[...] with a computed name: which secret it needs cannot be told\n`);
  });
});

describe('orchestrator secrets test', () => {
  it('says where a secret resolves from and never its value; exit 1 when it does not resolve; exit 2 for a bad name', async () => {
    const t = await repo('orch-sec-test');
    t.write('.orchestrator/secrets/TOKEN', `${VALUE}\n`, 0o600);
    const r = await cli(t, ['test', 'TOKEN']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'TOKEN resolves from .orchestrator/secrets/TOKEN.\n');
    const env = await cli(t, ['test', 'TOKEN', '--json'], { ORCHESTRATOR_SECRET_TOKEN: VALUE });
    assert.equal(env.code, 0);
    assert.doesNotMatch(env.stdout + env.stderr, new RegExp(VALUE));
    const j = JSON.parse(env.stdout) as SecretTest;
    assert.deepEqual({ resolved: j.resolved, from: j.from, shadowed: j.shadowed.map((s) => s.kind) }, { resolved: true, from: { kind: 'env', at: 'env ORCHESTRATOR_SECRET_TOKEN' }, shadowed: ['repo'] });

    const missing = await cli(t, ['test', 'NOPE']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'orchestrator: NOPE is not set (looked for env ORCHESTRATOR_SECRET_NOPE, .orchestrator/secrets/NOPE, ~/.orchestrator/secrets/NOPE): orchestrator secrets set NOPE sets it\n');
    const mj = await cli(t, ['test', 'NOPE', '--json']);
    assert.equal(mj.code, 1);
    assert.equal((JSON.parse(mj.stdout) as SecretTest).resolved, false);

    t.write('.orchestrator/secrets/BLANK', '\n', 0o600);
    const blank = await cli(t, ['test', 'BLANK']);
    assert.equal(blank.code, 0);
    assert.match(blank.stderr, /BLANK is empty/);
    assertUsageError(await cli(t, ['test', 'no good']), /is not a secret name/);
  });
});

describe('orchestrator secrets doctor', () => {
  const checks = async (t: GitTemp, env: Record<string, string> = {}): Promise<{ code: number | null; ok: boolean; byId: Record<string, CheckResult> }> => {
    const r = await cli(t, ['doctor', '--json'], env);
    assert.ok(r.stdout.startsWith('{'), `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: CheckResult[] };
    for (const c of j.checks) assert.deepEqual(Object.keys(c).filter((k) => !['id', 'title', 'status', 'detail', 'fix'].includes(k)), []);
    return { code: r.code, ok: j.ok, byId: Object.fromEntries(j.checks.map((c) => [c.id, c])) };
  };

  it('passes (exit 0) when every secret the workflows read is set, private and ignored', async () => {
    const t = await repo('orch-sec-doc-ok');
    for (const n of ['GATE', 'DEPLOY_TOKEN', 'API_KEY']) assert.equal((await cli(t, ['set', n], {}, VALUE)).code, 0);
    t.write('.orchestrator/workflows/deploy.yaml', WORKFLOW.replace(/ {4}env:\n.*\n/, ''));
    const c = await checks(t);
    assert.equal(c.code, 0);
    assert.equal(c.ok, true);
    assert.deepEqual(Object.fromEntries(Object.values(c.byId).map((x) => [x.id, x.status])), { 'secrets.used': 'pass', 'secrets.permissions': 'pass', 'secrets.gitignore': 'pass' });
    assert.match(c.byId['secrets.used'].detail, /3 secrets used by the workflows, each set: API_KEY \(\.orchestrator\/secrets\/API_KEY\)/);
    const text = await cli(t, ['doctor']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^pass {2}Secrets the workflows use are set: /);
  });

  it('finds each problem it claims to: a missing secret, a computed name, files others can read, git not ignoring, a tracked secret', async () => {
    const t = await repo('orch-sec-doc-bad');
    t.write('.orchestrator/secrets/GATE', `${VALUE}\n`, 0o644);
    t.write('.orchestrator/secrets/BLANK', '', 0o600);
    t.write('.orchestrator/workflows/blank.yaml', 'name: b\nsteps:\n  - id: a\n    run: echo "${{ secrets.BLANK }}"\n');
    fs.chmodSync(path.join(t.root, '.orchestrator', 'secrets'), 0o755);
    fs.writeFileSync(path.join(t.root, '.orchestrator', '.gitignore'), 'sessions/\n');
    t.git('add', '.orchestrator/secrets/GATE');
    const c = await checks(t);
    assert.equal(c.code, 1);
    assert.equal(c.ok, false);
    assert.equal(c.byId['secrets.used.DEPLOY_TOKEN'].status, 'fail');
    assert.equal(c.byId['secrets.used.DEPLOY_TOKEN'].fix, 'orchestrator secrets set DEPLOY_TOKEN');
    assert.match(c.byId['secrets.used.DEPLOY_TOKEN'].detail, /DEPLOY_TOKEN is used by \.orchestrator\/workflows\/deploy\.yaml:5 but is set nowhere/);
    assert.equal(c.byId['secrets.used.API_KEY'].status, 'fail');
    assert.equal(c.byId['secrets.used.BLANK'].status, 'warn');
    assert.equal(c.byId['secrets.used.GATE'], undefined, 'GATE is set');
    assert.equal(c.byId['secrets.dynamic'].status, 'warn');
    const perm = c.byId['secrets.permissions.repo'];
    assert.equal(perm.status, 'warn');
    assert.match(perm.detail, /other users can read .*secrets\/ \(0755\), GATE \(0644\) in /);
    assert.equal(perm.fix, `chmod -R go-rwx ${path.join(fs.realpathSync(t.root), '.orchestrator', 'secrets')}`);
    assert.equal(c.byId['secrets.gitignore'].status, 'fail');
    assert.match(c.byId['secrets.gitignore'].detail, /git would commit \.orchestrator\/secrets\/BLANK/);
    assert.equal(c.byId['secrets.tracked'].status, 'fail');
    assert.match(c.byId['secrets.tracked'].fix!, /^git rm --cached -- \.orchestrator\/secrets\/GATE, then change those secrets$/);
    assert.doesNotMatch(JSON.stringify(c), new RegExp(VALUE));
  });

  it('a repository outside git passes the git check with that said; a home folder others can list is warned about', async () => {
    const t = gitTemp('orch-sec-doc-nogit', { git: false });
    fs.mkdirSync(path.join(t.root, '.orchestrator'));
    fs.mkdirSync(path.join(t.home, '.orchestrator', 'secrets'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(t.home, '.orchestrator', 'secrets'), 0o755);
    const c = await checks(t);
    assert.equal(c.code, 0);
    assert.deepEqual(c.byId['secrets.gitignore'], { id: 'secrets.gitignore', title: 'Git keeps secrets out', status: 'pass', detail: 'not a git repository' });
    assert.equal(c.byId['secrets.permissions.home'].status, 'warn');
    assert.match(c.byId['secrets.permissions.home'].detail, /other users can list .*secrets\/ \(0755\)/);
  });
});

describe('secret files others can read', () => {
  it('every command that reads them says so in one line on stderr, with the chmod; a private file, nothing', async () => {
    const t = await repo('orch-sec-warn');
    t.write('.orchestrator/workflows/echo.yaml', 'name: e\nsteps:\n  - id: a\n    run: echo "${{ secrets.GATE }}" | wc -c\n');
    const file = t.write('.orchestrator/secrets/GATE', `${VALUE}\n`, 0o644);
    const line = `orchestrator: warning: secret file readable by other users: ${path.join(fs.realpathSync(t.root), '.orchestrator', 'secrets', 'GATE')} (0644); run chmod 600 ${path.join(fs.realpathSync(t.root), '.orchestrator', 'secrets', 'GATE')}\n`;
    const run = await runCli(['run', '.orchestrator/workflows/echo.yaml', '--quiet'], { cwd: t.root, env: t.env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, line);
    const test = await cli(t, ['test', 'GATE']);
    assert.equal(test.stderr, line);
    const list = await cli(t, ['list']);
    assert.ok(list.stderr.startsWith(line), list.stderr);
    fs.chmodSync(file, 0o600);
    const quiet = await runCli(['run', '.orchestrator/workflows/echo.yaml', '--quiet'], { cwd: t.root, env: t.env });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });
});
