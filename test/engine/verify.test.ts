/**
 * Done needs evidence (issue 12, part 3): `verify:` rounds and `changes: required`, through the
 * real engine, real bash checks and real git. The agent is a small bash script configured as a
 * `type: command` provider: it reads its prompt on stdin, keeps each prompt in a state folder
 * outside the repository, and counts its calls, so a test can see what a follow-up asked.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';
import { loadSession, sessionPaths } from '../../server/src/store/sessionStore';
import { descriptionAt, keysAt } from '../../server/src/workflow/schemaNav';
import { validateWorkflow, fileExists } from '../../server/src/workflow/validate';

const SECRET = 'sk-Qz81x7c1e9aW';
const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/**
 * The agent: call n saves its prompt as $STATE/prompt-n and runs `body` (with $N set) in the
 * step's folder; it answers "answer n".
 */
function agentTool(body: string): { file: string; state: string } {
  const bin = temp('orch-verify-tool-');
  const state = temp('orch-verify-state-');
  const file = path.join(bin, 'tool');
  fs.writeFileSync(
    file,
    `#!/usr/bin/env bash\nset -e\nN=$(( $(ls "${state}" | grep -c '^prompt-' || true) + 1 ))\ncat > "${state}/prompt-$N"\n${body}\necho "answer $N"\n`,
  );
  fs.chmodSync(file, 0o755);
  return { file, state };
}

/** A real git repository with one commit, a provider `t` for the tool, and the workflow. */
function gitRepo(tool: string | undefined, workflow: string): string {
  const dir = temp('orch-verify-repo-');
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 't');
  fs.writeFileSync(path.join(dir, 'README.md'), 'hello\n');
  fs.writeFileSync(path.join(dir, 'dirty.txt'), 'one\n');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  fs.writeFileSync(path.join(dir, 'dirty.txt'), 'one, changed before the session\n');
  fs.mkdirSync(path.join(dir, '.orchestrator'));
  if (tool) fs.writeFileSync(path.join(dir, '.orchestrator', 'config.yaml'), `providers:\n  t:\n    type: command\n    command: [${tool}]\n`);
  fs.writeFileSync(path.join(dir, 'w.workflow.yaml'), workflow);
  return dir;
}

async function run(dir: string) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ORCHESTRATOR_')) env[k] = v;
  const s = await startSession(path.join(dir, 'w.workflow.yaml'), {}, { repoRoot: dir, homeDir: temp('orch-verify-home-'), env: { ...env, ORCHESTRATOR_SECRET_MINE: SECRET } });
  await s.done;
  const state = loadSession(dir, s.id).state;
  const paths = sessionPaths(dir, s.id);
  const log = (step: string, attempt = 1): string => fs.readFileSync(paths.stepLog(step, attempt), 'utf8');
  const stepFiles = (step: string): string[] => fs.readdirSync(path.dirname(paths.stepLog(step, 1)));
  return { state, log, stepFiles, promptFile: (step: string, name: string) => fs.readFileSync(path.join(path.dirname(paths.stepLog(step, 1)), name), 'utf8') };
}

const prompts = (state: string): string[] => fs.readdirSync(state).filter((f) => f.startsWith('prompt-')).sort();

const agentWorkflow = (step: string): string => `name: w\nagents:\n  a: { provider: t }\nsteps:\n  - id: build\n    agent: a\n    prompt: Create fixed.txt\n${step}`;

describe('verify on an agent step', () => {
  it('passes on the first round: one call, the check in the log', async () => {
    const t = agentTool('echo ok > fixed.txt');
    const dir = gitRepo(t.file, agentWorkflow('    verify: test -f fixed.txt\n'));
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'succeeded', r.state.steps.build.reason);
    assert.deepEqual(prompts(t.state), ['prompt-1']);
    assert.match(r.log('build'), /^\[verify\] round 1 of 3: test -f fixed\.txt$/m);
    assert.match(r.log('build'), /^\[verify\] round 1 of 3: test -f fixed\.txt passed$/m);
    assert.equal(r.state.steps.build.outputs.text.trim(), 'answer 1');
  });

  it('the log shows the check as it runs: an expression in verify: is shown evaluated', async () => {
    const t = agentTool('echo ok > fixed.txt');
    const wf = `name: w\ninputs:\n  check: { default: test -f fixed.txt }\nagents:\n  a: { provider: t }\nsteps:\n  - id: build\n    agent: a\n    prompt: Create fixed.txt\n    verify: \${{ inputs.check }}\n`;
    const dir = gitRepo(t.file, wf);
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'succeeded', r.state.steps.build.reason);
    assert.match(r.log('build'), /^\[verify\] round 1 of 3: test -f fixed\.txt passed$/m);
    assert.doesNotMatch(r.log('build'), /\$\{\{/);
  });

  it('fails, then passes on round 2: the agent is asked again with its answer and the check\'s output', async () => {
    const t = agentTool('if [ "$N" -ge 2 ]; then echo ok > fixed.txt; fi');
    const check = `[ -f fixed.txt ] || { echo "noise line"; echo "FAIL: fixed.txt is missing" >&2; exit 1; }`;
    const dir = gitRepo(t.file, agentWorkflow(`    verify:\n      - 'true'\n      - '${check}'\n`));
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'succeeded', r.state.steps.build.reason);
    assert.equal(r.state.steps.build.attempt, 1);
    assert.deepEqual(prompts(t.state), ['prompt-1', 'prompt-2']);
    const second = fs.readFileSync(path.join(t.state, 'prompt-2'), 'utf8');
    assert.match(second, /Create fixed\.txt/, 'the original task');
    assert.match(second, /answer 1/, 'its previous answer');
    assert.match(second, /FAIL: fixed\.txt is missing/, "the check's output");
    assert.match(second, /exited 1/);
    assert.match(second, /round 2 of 3/);
    assert.doesNotMatch(fs.readFileSync(path.join(t.state, 'prompt-1'), 'utf8'), /FAIL/);
    const log = r.log('build');
    assert.match(log, /^\[verify\] round 1 of 3: \[ -f fixed\.txt \] .* exited 1$/m);
    assert.match(log, /^FAIL: fixed\.txt is missing$/m, 'the check\'s output is in the log');
    assert.match(log, /^\[verify\] asking the agent again with the check's output \(round 2 of 3\)$/m);
    assert.match(log, /^\[verify\] round 2 of 3: \[ -f fixed\.txt \] .* passed$/m);
    // In order: round 1 fails before round 2 is asked.
    assert.ok(log.indexOf('round 1 of 3: [') < log.indexOf('asking the agent again'));
    assert.ok(log.indexOf('asking the agent again') < log.indexOf('answer 2'));
    assert.ok(r.stepFiles('build').includes('1.round2.prompt.md'), r.stepFiles('build').join(' '));
    assert.match(r.promptFile('build', '1.round2.prompt.md'), /FAIL: fixed\.txt is missing/);
  });

  it('fails every round: failed with the first line of the output, and not retried by retry:', async () => {
    const t = agentTool('true');
    const dir = gitRepo(t.file, agentWorkflow(`    retry: { max_attempts: 3, backoff: 1ms }\n    verify:\n      run: 'echo "3 tests failed"; echo details; exit 4'\n      attempts: 2\n`));
    const r = await run(dir);
    const s = r.state.steps.build;
    assert.equal(s.status, 'failed');
    assert.equal(s.attempt, 1, 'the rounds were the retries');
    assert.equal(s.reason, 'verification failed: 3 tests failed (`echo "3 tests failed"; echo details; exit 4` exited 4, round 2 of 2)');
    assert.deepEqual(prompts(t.state), ['prompt-1', 'prompt-2']);
    assert.match(r.log('build'), /^\[verify\] round 2 of 2: .* exited 4$/m);
  });

  it('masks secrets in the follow-up prompt, the saved prompts and the log', async () => {
    const t = agentTool('true');
    const dir = gitRepo(t.file, agentWorkflow(`    verify:\n      run: 'echo "token=\${{ secrets.MINE }} rejected"; exit 1'\n      attempts: 2\n`));
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'failed');
    const second = fs.readFileSync(path.join(t.state, 'prompt-2'), 'utf8');
    assert.match(second, /token=\*\*\* rejected/);
    assert.ok(!second.includes(SECRET), 'no secret in what the agent is sent');
    assert.ok(!r.log('build').includes(SECRET), 'no secret in the log');
    assert.match(r.log('build'), /^token=\*\*\* rejected$/m);
    for (const f of r.stepFiles('build')) assert.ok(!r.promptFile('build', f).includes(SECRET), f);
    assert.ok(!(r.state.steps.build.reason ?? '').includes(SECRET));
  });
});

describe('verify and the step\'s timeout', () => {
  it('a check that outlives the step\'s timeout ends the step timed_out', async () => {
    const t = agentTool('true');
    const dir = gitRepo(t.file, agentWorkflow(`    timeout: 2s\n    verify: sleep 600\n`));
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'timed_out', r.state.steps.build.reason);
    // When the machine is fast enough to reach the check (the usual case), the reason says so.
    if (r.log('build').includes('[verify]')) assert.equal(r.state.steps.build.reason, "verification ran out of the step's time (timeout 2s)");
  });
});

describe('verify on a run step', () => {
  it('a failing check fails the step at once (no rounds), with the reason; retry: applies', async () => {
    const dir = gitRepo(undefined, `name: w\nsteps:\n  - id: s\n    run: echo work >> work.log\n    retry: { max_attempts: 2, backoff: 1ms }\n    verify: ['true', 'echo "bad news" >&2; exit 3']\n`);
    const r = await run(dir);
    const s = r.state.steps.s;
    assert.equal(s.status, 'failed');
    assert.equal(s.reason, 'verification failed: bad news (`echo "bad news" >&2; exit 3` exited 3)');
    assert.equal(s.attempt, 2, 'retried as any failure');
    assert.equal(fs.readFileSync(path.join(dir, 'work.log'), 'utf8'), 'work\nwork\n');
    assert.match(r.log('s'), /^work$|^\[verify\] round 1 of 1: true passed$/m);
    assert.match(r.log('s'), /^bad news$/m);
  });

  it('passes: the step succeeds, the check ran in the step\'s folder with its environment', async () => {
    const dir = gitRepo(undefined, `name: w\nenv: { WF: from-workflow }\nsteps:\n  - id: s\n    working_directory: sub\n    env: { ST: from-step }\n    run: echo made > here.txt\n    verify: test -f here.txt && test "$WF/$ST/$ORCHESTRATOR_STEP_ID" = from-workflow/from-step/s\n`);
    fs.mkdirSync(path.join(dir, 'sub'));
    const r = await run(dir);
    assert.equal(r.state.steps.s.status, 'succeeded', `${r.state.steps.s.reason}\n${r.log('s')}`);
  });

  it('is not run when the step failed', async () => {
    const dir = gitRepo(undefined, `name: w\nsteps:\n  - id: s\n    run: exit 2\n    verify: touch verify-ran\n`);
    const r = await run(dir);
    assert.equal(r.state.steps.s.reason, 'exit code 2');
    assert.ok(!fs.existsSync(path.join(dir, 'verify-ran')));
  });
});

describe('changes: required', () => {
  it('an agent that changed nothing: failed, "claims done but changed nothing"', async () => {
    const t = agentTool('true');
    const dir = gitRepo(t.file, agentWorkflow('    changes: required\n'));
    const r = await run(dir);
    assert.equal(r.state.steps.build.status, 'failed');
    assert.equal(r.state.steps.build.reason, 'claims done but changed nothing (changes: required)');
    assert.match(r.log('build'), /^\[changes\] no file changed$/m);
  });

  it('an agent that wrote a file, or changed an already-changed file again, or committed: succeeded', async () => {
    for (const body of ['echo ok > fixed.txt', 'echo more >> dirty.txt', 'echo c > c.txt && git add c.txt && git -c user.email=a@b -c user.name=a commit -qm c']) {
      const t = agentTool(body);
      const dir = gitRepo(t.file, agentWorkflow('    changes: required\n'));
      const r = await run(dir);
      assert.equal(r.state.steps.build.status, 'succeeded', `${body}: ${r.state.steps.build.reason}`);
      assert.match(r.log('build'), /^\[changes\] 1 file changed: (fixed|dirty|c)\.txt$/m, body);
    }
  });

  it('a run step: with and without changes', async () => {
    const dir = gitRepo(undefined, `name: w\nsteps:\n  - id: idle\n    run: echo looking\n    changes: required\n    on_error: continue\n  - id: busy\n    needs: idle\n    if: always()\n    run: echo x > new.txt\n    changes: required\n`);
    const r = await run(dir);
    assert.equal(r.state.steps.idle.status, 'failed');
    assert.equal(r.state.steps.idle.reason, 'claims done but changed nothing (changes: required)');
    assert.equal(r.state.steps.busy.status, 'succeeded', r.state.steps.busy.reason);
  });

  it('outside a git repository: a warning when validated, and the step fails at once saying why', async () => {
    const dir = temp('orch-verify-nogit-');
    fs.mkdirSync(path.join(dir, '.orchestrator'));
    const text = `name: w\nsteps:\n  - id: s\n    run: echo x > new.txt\n    changes: required\n`;
    fs.writeFileSync(path.join(dir, 'w.workflow.yaml'), text);
    const v = validateWorkflow(text, { file: path.join(dir, 'w.workflow.yaml'), repoRoot: dir, fileExists });
    const p = v.problems.find((x) => x.code === 'no-git-repo');
    assert.ok(p, JSON.stringify(v.problems));
    assert.equal(p.severity, 'warning');
    assert.equal(text.slice(p.span.start, p.span.end), 'changes');
    const r = await run(dir);
    assert.equal(r.state.steps.s.status, 'failed');
    assert.match(r.state.steps.s.reason ?? '', /^'changes: required' needs a git repository, and .* is not in one: run git init, or remove changes$/);
    assert.ok(!fs.existsSync(path.join(dir, 'new.txt')), 'refused before the step ran');
  });
});

describe('validation of verify and changes', () => {
  const problemsOf = (step: string) => validateWorkflow(`name: w\nsteps:\n  - id: s\n${step}`).problems.map((p) => `${p.code} ${p.severity}: ${p.message}`);
  it('verify or changes on an approval step is an error at the key', () => {
    const text = `name: w\nsteps:\n  - id: s\n    approval: ok?\n    verify: npm test\n`;
    const p = validateWorkflow(text).problems;
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.equal(p[0].severity, 'error');
    assert.equal(text.slice(p[0].span.start, p[0].span.end), 'verify');
    assert.match(problemsOf('    approval: ok?\n    changes: required\n')[0], /^schema error: 'changes' checks the work of a run or agent step/);
  });
  it('takes a command, a list, or { run, attempts }; nothing else', () => {
    for (const ok of ['verify: npm test', 'verify: [a, b]', 'verify: { run: [a, b] }']) assert.deepEqual(problemsOf(`    run: x\n    ${ok}\n`), [], ok);
    // attempts counts an agent's rounds: on a run step it is accepted, and ignored with a warning (ignored-key).
    assert.deepEqual(problemsOf(`    run: x\n    verify: { run: npm test, attempts: 5 }\n`).map((p) => p.split(':')[0]), ['ignored-key warning']);
    for (const bad of ['verify: { run: a, attempts: 0 }', 'verify: { cmd: a }', 'verify: []', 'changes: yes']) assert.notDeepEqual(problemsOf(`    run: x\n    ${bad}\n`), [], bad);
  });
  it('checks expressions in verify as in run (contexts, shell arithmetic)', () => {
    const found = problemsOf(`    run: x\n    verify: { run: ['echo \${{ inputs.nope }}', "echo $(( \${{ inputs.n }} ))"] }\n`).map((p) => p.split(' ')[0]);
    assert.deepEqual(found.sort(), ['shell-expression', 'unknown-input', 'unknown-input']);
  });
  it('has hover text and completion for its keys', () => {
    assert.match(descriptionAt(['steps', 0, 'verify']) ?? '', /^Evidence that the step did its work/);
    assert.match(descriptionAt(['steps', 0, 'verify', 'attempts']) ?? '', /default 3/);
    assert.match(descriptionAt(['steps', 0, 'changes']) ?? '', /claims done but changed nothing/);
    assert.deepEqual(keysAt(['steps', 0, 'verify']), ['run', 'attempts']);
  });
});
