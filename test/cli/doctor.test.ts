/**
 * `orchestrator doctor` through the built CLI on real temp repositories: each problem it claims to
 * find is made to happen (a workflow that does not validate, an unknown config key, a config that
 * does not parse, a secret file others can read, no .gitignore keeping secrets out, a session
 * folder whose state and log are damaged, a provider whose tool is missing or whose key is not
 * set, a state folder others can write to), doctor finds it, and its fix fixes it. Exit codes
 * (0 nothing fails, 1 something does, 2 a bad fix id) and the --json shape.
 *
 * Dead runners, leftover step processes and worktrees: doctorSessions.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertUsageError, cliEnv, runCli, type CliResult } from './cliProcess';
import { cleanupRepos, makeRepo } from '../engine/helpers';
import { makeGitRepo } from '../engine/gitRepo';

after(cleanupRepos);

interface Check {
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: { description: string; action?: string };
}
interface Report {
  ok: boolean;
  summary: { pass: number; warn: number; fail: number };
  checks: Check[];
  fixes?: { action: string; ok: boolean; message: string }[];
}

const VALID = 'name: ok\nsteps:\n  - id: a\n    run: echo a\n';

async function doctor(root: string, home: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ r: CliResult; report: Report }> {
  const r = await runCli(['doctor', '--json', ...args], { cwd: root, env: cliEnv(home, env) });
  assert.ok(r.code === 0 || r.code === 1, `exit 0 or 1 expected, got ${r.code}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.code, report.ok ? 0 : 1, 'the exit code says whether anything fails');
  return { r, report };
}

function check(report: Report, id: string): Check {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${JSON.stringify(report.checks.map((x) => x.id))}`);
  return c;
}

function write(root: string, rel: string, text: string, mode?: number): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
  if (mode !== undefined) fs.chmodSync(path.join(root, rel), mode);
}

describe('orchestrator doctor', { timeout: 120_000 }, () => {
  it('a healthy repository: every check passes, exit 0; --json has every check with its id, title, status and detail', async () => {
    const repo = makeGitRepo(VALID);
    write(repo.root, '.orchestrator/.gitignore', 'sessions/\nsecrets/\nworktrees/\n');
    write(repo.root, '.orchestrator/workflows/main.yaml', VALID);
    const { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(report.summary, { pass: report.checks.length, warn: 0, fail: 0 });
    for (const c of report.checks) {
      assert.deepEqual(Object.keys(c).filter((k) => k !== 'fix').sort(), ['detail', 'id', 'status', 'title']);
      assert.equal(typeof c.detail, 'string');
    }
    const ids = report.checks.map((c) => c.id);
    for (const id of ['node', 'state-folder', 'state-permissions', 'state-space', 'secrets.used', 'secrets.permissions', 'secrets.gitignore', 'config', 'workflow:.orchestrator/workflows/main.yaml', 'workflow:wf.workflow.yaml', 'providers', 'sessions', 'step-processes', 'worktrees']) {
      assert.ok(ids.includes(id), `${id} is checked`);
    }
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    assert.match(check(report, 'node').detail, new RegExp(`Node ${process.versions.node.replace(/\./g, '\\.')} \\(needs >=20\\)`));
    assert.match(check(report, 'state-space').detail, /\d+(\.\d)? [KMGT]?B free/);

    const human = await runCli(['doctor'], { cwd: repo.root, env: cliEnv(repo.home) });
    assert.equal(human.code, 0);
    const lines = human.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('✓ ')).length, report.checks.length, 'one line per check');
    assert.match(lines.at(-1)!, new RegExp(`^${report.checks.length} checks: ${report.checks.length} passed, 0 warnings, 0 failed$`));
  });

  it('a workflow that does not validate fails with its first error; exit 1', async () => {
    const repo = makeRepo('name: bad\nsteps:\n  - id: a\n    run: echo a\n    nedds: [zz]\n');
    const { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 1);
    const c = check(report, 'workflow:wf.workflow.yaml');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /^wf\.workflow\.yaml:5:5 schema unknown key 'nedds'/);
    assert.match(c.fix!.description, /orchestrator validate wf\.workflow\.yaml/);
    const human = await runCli(['doctor'], { cwd: repo.root, env: cliEnv(repo.home) });
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^✗ Workflow wf\.workflow\.yaml: wf\.workflow\.yaml:5:5 schema unknown key 'nedds'.* → fix the errors: orchestrator validate wf\.workflow\.yaml lists them all$/m);
    assert.match(human.stdout, /1 failed$/m);
  });

  it('an unknown config key is flagged with its line (a warning: exit 0); a config that does not parse fails', async () => {
    const repo = makeRepo(VALID);
    write(repo.root, '.orchestrator/config.yaml', 'providers:\n  local:\n    type: openai\n    modle: llama\nretenton: { keep: 3 }\n');
    let { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 0);
    const c = check(report, 'config:.orchestrator/config.yaml');
    assert.equal(c.status, 'warn');
    assert.equal(c.detail, "2 problems: .orchestrator/config.yaml:4:5: unknown key 'modle' in providers.local. Did you mean 'model'?; .orchestrator/config.yaml:5:1: unknown key 'retenton'. Did you mean 'retention'?", 'each once (the schema and the provider loader both see modle)');

    write(repo.home, '.orchestrator/config.yaml', 'providers: [oops\n');
    ({ r, report } = await doctor(repo.root, repo.home));
    assert.equal(r.code, 1);
    const home = check(report, 'config:~/.orchestrator/config.yaml');
    assert.equal(home.status, 'fail');
    assert.match(home.detail, /^1 problem: ~\/\.orchestrator\/config\.yaml:\d+:\d+: /);
  });

  it('a secret file others can read: warned; --fix chmod-secrets makes it 600 (home and repository)', async () => {
    const repo = makeRepo(VALID);
    write(repo.root, '.orchestrator/.gitignore', 'secrets/\n');
    write(repo.root, '.orchestrator/secrets/API_KEY', 'sk-test-value\n', 0o644);
    write(repo.home, '.orchestrator/secrets/HOME_KEY', 'sk-home-value\n', 0o640);
    write(repo.root, '.orchestrator/secrets/OK_KEY', 'fine\n', 0o600);
    let { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 0, 'a warning only');
    const c = check(report, 'secrets.permissions.repo');
    assert.equal(c.status, 'warn');
    assert.match(c.detail, /^other users can read .*secrets\/ \(0755\), API_KEY \(0644\) in .*\/\.orchestrator\/secrets$/, 'the folder (made 755 by mkdir) and the file');
    const home = check(report, 'secrets.permissions.home');
    assert.match(home.detail, /^other users can read .*secrets\/ \(0755\), HOME_KEY \(0640\) in .*\/\.orchestrator\/secrets$/);
    assert.ok(!r.stdout.includes('sk-test-value') && !r.stdout.includes('sk-home-value'), 'no secret value is printed');
    assert.equal(c.fix?.action, 'chmod-secrets');
    assert.equal(home.fix?.action, 'chmod-secrets');

    ({ r, report } = await doctor(repo.root, repo.home, ['--fix', 'chmod-secrets']));
    assert.equal(r.code, 0);
    assert.deepEqual(report.fixes?.map((f) => [f.action, f.ok]), [['chmod-secrets', true]]);
    assert.equal(fs.statSync(path.join(repo.root, '.orchestrator/secrets/API_KEY')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(repo.home, '.orchestrator/secrets/HOME_KEY')).mode & 0o777, 0o600);
    assert.equal(check(report, 'secrets.permissions').status, 'pass');
  });

  it('no .gitignore keeping secrets out of git: fails with secrets there; --fix write-gitignore writes it (git then ignores them)', async () => {
    const repo = makeGitRepo(VALID);
    write(repo.root, '.orchestrator/secrets/API_KEY', 'sk-test\n', 0o600);
    let { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 1);
    let c = check(report, 'secrets.gitignore');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /^git would commit \.orchestrator\/secrets\/API_KEY/);
    assert.match(c.fix!.description, /orchestrator init/);
    assert.equal(c.fix?.action, 'write-gitignore');
    assert.ok(!fs.existsSync(path.join(repo.root, '.orchestrator/.gitignore')), 'doctor itself wrote nothing');
    assert.match(repo.git('status', '--porcelain', '--untracked-files=all'), /\.orchestrator\/secrets\/API_KEY/, 'git sees the secret file');

    ({ r, report } = await doctor(repo.root, repo.home, ['--fix', 'write-gitignore']));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(report.fixes?.[0].message, 'wrote .orchestrator/.gitignore (sessions/, secrets/, worktrees/)');
    assert.equal(check(report, 'secrets.gitignore').status, 'pass');
    assert.doesNotMatch(repo.git('status', '--porcelain', '--untracked-files=all'), /secrets/, 'git ignores the secrets now');

    // A .gitignore of the repository's own that leaves secrets/ out: the line is added, the rest kept.
    fs.writeFileSync(path.join(repo.root, '.orchestrator/.gitignore'), 'sessions/');
    ({ report } = await doctor(repo.root, repo.home));
    c = check(report, 'secrets.gitignore');
    assert.match(c.fix!.description, /add the line secrets\/ to \.orchestrator\/\.gitignore/);
    assert.equal(c.fix?.action, 'write-gitignore');
    ({ r, report } = await doctor(repo.root, repo.home, ['--fix', 'write-gitignore']));
    assert.equal(r.code, 0);
    assert.equal(fs.readFileSync(path.join(repo.root, '.orchestrator/.gitignore'), 'utf8'), 'sessions/\nsecrets/\n');
  });

  it('a session folder whose state.json and log.jsonl are damaged does not load: fails, with what to do', async () => {
    const repo = makeRepo(VALID);
    const broken = '20260101-000000-aaaa';
    const empty = '20260101-000001-bbbb';
    write(repo.root, `.orchestrator/sessions/${broken}/state.json`, '{"id": "20260101-0');
    write(repo.root, `.orchestrator/sessions/${broken}/log.jsonl`, 'not an event\n\u0000\u0001garbage\n{"seq": 3, "type": "step.started", "step": "a"\n');
    write(repo.root, `.orchestrator/sessions/${empty}/state.json`, 'null');
    write(repo.root, `.orchestrator/sessions/${empty}/log.jsonl`, '');
    const { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 1);
    const a = check(report, `session-load:${broken}`);
    assert.equal(a.status, 'fail');
    assert.match(a.title, /is damaged|does not load/);
    assert.match(a.detail, /state\.json of session 20260101-000000-aaaa does not parse|log\.jsonl of session 20260101-000000-aaaa is damaged/);
    assert.match(a.fix!.description, new RegExp(`orchestrator delete ${broken} removes it`));
    const b = check(report, `session-load:${empty}`);
    assert.equal(b.status, 'fail');
    assert.equal(b.title, `Session ${empty} does not load`);
    assert.match(b.detail, /has no events/);
  });

  it('a finished session with the lock of a runner that died after finishing it: warned; --fix clear-lock removes the stale lock', async () => {
    const repo = makeRepo(VALID);
    const run = await runCli(['run', repo.file, '--quiet'], { cwd: repo.root, env: cliEnv(repo.home) });
    assert.equal(run.code, 0, run.stderr);
    const id = fs.readdirSync(path.join(repo.root, '.orchestrator', 'sessions')).find((n) => !n.startsWith('.'))!;
    // The lock as a runner writes it, of a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const lockFile = path.join(repo.root, '.orchestrator', 'sessions', id, 'lock');
    fs.writeFileSync(lockFile, JSON.stringify({ pid: Number(gone.stdout), host: os.hostname(), token: 'deadbeefdeadbeef', acquiredAt: new Date().toISOString() }) + '\n');
    let { r, report } = await doctor(repo.root, repo.home);
    assert.equal(r.code, 0);
    const c = check(report, `stale-lock:${id}`);
    assert.equal(c.status, 'warn');
    assert.match(c.detail, new RegExp(`^the session is succeeded, but a lock left by process ${gone.stdout} on host `));
    assert.equal(c.fix?.action, `clear-lock:${id}`);
    ({ r, report } = await doctor(repo.root, repo.home, ['--fix', `clear-lock:${id}`]));
    assert.deepEqual(report.fixes, [{ action: `clear-lock:${id}`, ok: true, message: `removed the stale lock of session ${id}` }]);
    assert.ok(!fs.existsSync(lockFile));
    assert.equal(check(report, 'sessions').status, 'pass');
  });

  it('providers the workflows use: a missing tool and a key not set fail; found and set, they pass with the version', async () => {
    const wf = 'name: agents\nagents:\n  coder: { provider: claude-code }\n  api: { provider: openai }\n  nope: { provider: nonesuch }\nsteps:\n  - id: a\n    agent: coder\n    prompt: hi\n';
    const repo = makeRepo(wf);
    const bin = path.join(repo.root, 'bin');
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    fs.mkdirSync(bin);
    let { r, report } = await doctor(repo.root, repo.home, [], env);
    assert.equal(r.code, 1);
    assert.equal(check(report, 'provider:claude-code').status, 'fail');
    assert.match(check(report, 'provider:claude-code').detail, /^claude not found on PATH; no key \(ANTHROPIC_API_KEY not set\): the tool's own login is used; used by wf\.workflow\.yaml$/);
    assert.equal(check(report, 'provider:openai').status, 'fail');
    assert.match(check(report, 'provider:openai').detail, /key OPENAI_API_KEY not set/);
    assert.match(check(report, 'provider:openai').fix!.description, /ORCHESTRATOR_SECRET_OPENAI_API_KEY/);
    assert.match(check(report, 'provider:nonesuch').detail, /^unknown provider 'nonesuch'/);
    assert.equal(check(report, 'provider:nonesuch').status, 'warn', 'not configured at all: a warning (a recording can replay it)');

    fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\necho "2.1.197 (Claude Code)"\n', { mode: 0o755 });
    write(repo.root, '.orchestrator/secrets/OPENAI_API_KEY', 'sk-openai-test\n', 0o600);
    ({ r, report } = await doctor(repo.root, repo.home, [], env));
    const claude = check(report, 'provider:claude-code');
    assert.equal(claude.status, 'pass');
    assert.equal(claude.detail, `${path.join(bin, 'claude')} (2.1.197 (Claude Code)); no key (ANTHROPIC_API_KEY not set): the tool's own login is used; used by wf.workflow.yaml`);
    assert.equal(check(report, 'provider:openai').status, 'pass');
    assert.match(check(report, 'provider:openai').detail, /^key OPENAI_API_KEY set/);
    assert.ok(!r.stdout.includes('sk-openai-test'));
  });

  it('a state folder others can write to: warned; --fix restrict-state-folder removes their write access', async () => {
    const repo = makeRepo(VALID);
    write(repo.root, '.orchestrator/.gitignore', 'secrets/\n');
    fs.mkdirSync(path.join(repo.root, '.orchestrator/sessions'));
    fs.chmodSync(path.join(repo.root, '.orchestrator'), 0o777);
    fs.chmodSync(path.join(repo.root, '.orchestrator/sessions'), 0o757);
    let { report } = await doctor(repo.root, repo.home);
    const c = check(report, 'state-permissions');
    assert.equal(c.status, 'warn');
    assert.match(c.detail, /^others can write to \.orchestrator \(777\), \.orchestrator\/sessions \(757\)/);
    ({ report } = await doctor(repo.root, repo.home, ['--fix', 'all']));
    assert.deepEqual(report.fixes?.map((f) => f.action), ['restrict-state-folder']);
    assert.equal(fs.statSync(path.join(repo.root, '.orchestrator')).mode & 0o777, 0o775);
    assert.equal(fs.statSync(path.join(repo.root, '.orchestrator/sessions')).mode & 0o777, 0o755);
    assert.equal(check(report, 'state-permissions').status, 'pass');
  });

  it('--fix all applies every fix offered; a fix with nothing left to do says so', async () => {
    const repo = makeGitRepo(VALID);
    write(repo.root, '.orchestrator/secrets/API_KEY', 'sk\n', 0o644);
    let { r, report } = await doctor(repo.root, repo.home, ['--fix', 'all']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(report.fixes?.map((f) => [f.action, f.ok]).sort(), [['chmod-secrets', true], ['write-gitignore', true]]);
    assert.equal(report.summary.fail + report.summary.warn, 0, JSON.stringify(report.checks.filter((c) => c.status !== 'pass')));
    ({ r, report } = await doctor(repo.root, repo.home, ['--fix', 'chmod-secrets']));
    assert.equal(r.code, 0);
    assert.deepEqual(report.fixes, [{ action: 'chmod-secrets', ok: true, message: 'nothing to do: only their owner can read the secret files and folders' }]);
    const human = await runCli(['doctor', '--fix', 'all'], { cwd: repo.root, env: cliEnv(repo.home) });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^nothing to fix$/m);
  });

  it('a fix id doctor does not know is a usage error (exit 2, one line)', async () => {
    const repo = makeRepo(VALID);
    assertUsageError(await runCli(['doctor', '--fix', 'reboot'], { cwd: repo.root, env: cliEnv(repo.home) }), /'reboot' is not a fix doctor knows \(fixes: resume:SESSION, .*write-gitignore\)/);
    assertUsageError(await runCli(['doctor', '--fix', 'stop-processes'], { cwd: repo.root, env: cliEnv(repo.home) }), /needs a session id: stop-processes:SESSION/);
    assertUsageError(await runCli(['doctor', '--fix', 'stop-processes:../../etc'], { cwd: repo.root, env: cliEnv(repo.home) }), /needs a session id/);
  });
});
