/**
 * The example pipeline (.orchestrator/workflows/implement.yaml, issue 12 part 7) end to end through
 * the built CLI, with a fake CLI agent (a bash script, configured as `type: command` providers)
 * that really edits files in its worktree: plan → backend ∥ frontend in worktrees, checked by
 * verify: → git/merge → audit → approval → git/apply. Disjoint edits merge and land on the user's
 * branch after the approval; overlapping edits conflict at the merge, with a finding per file, and
 * nothing reaches the user's tree.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cliEnv, makeRepo, runCli, waitFor } from '../cli/cliProcess';

const EXAMPLE = path.join(import.meta.dirname, '..', '..', '.orchestrator', 'workflows', 'implement.yaml');
const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** The agent: plans, edits files as its step asks (in its folder: the step's worktree), audits. */
const AGENT = `#!/usr/bin/env bash
prompt=$(cat)
case "$ORCHESTRATOR_STEP_ID" in
  plan) echo "Plan: the backend adds server.js, the frontend adds web.js." ;;
  backend)
    if [ "$OVERLAP" = 1 ]; then echo "backend = 1" > shared.conf; fi
    echo 'exports.health = () => "ok";' > server.js; echo "backend done" ;;
  frontend)
    if [ "$OVERLAP" = 1 ]; then echo "frontend = 2" > shared.conf; fi
    echo '<p id="status"></p>' > web.js; echo "frontend done" ;;
  audit)
    printf 'Looks right.\\n\\n\`\`\`findings\\n[{"severity": "low", "message": "no test for health()", "file": "server.js", "line": 1, "rule": "untested"}]\\n\`\`\`\\n' ;;
  *) echo "unexpected step $ORCHESTRATOR_STEP_ID: $prompt" >&2; exit 3 ;;
esac
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

function project(overlap: boolean) {
  const { root, home } = makeRepo('orch-implement');
  made.push(root);
  fs.rmSync(path.join(root, '.git'), { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(root, 'README.md'), '# app\n');
  fs.writeFileSync(path.join(root, 'shared.conf'), 'base = 0\n');
  fs.writeFileSync(path.join(root, '.gitignore'), '.home/\n');
  fs.mkdirSync(path.join(root, '.orchestrator', 'workflows'), { recursive: true });
  fs.copyFileSync(EXAMPLE, path.join(root, '.orchestrator', 'workflows', 'implement.yaml'));
  fs.writeFileSync(path.join(root, 'agent.sh'), AGENT, { mode: 0o755 });
  const cmd = `    type: command\n    command: [${path.join(root, 'agent.sh')}]\n    prompt: stdin\n`;
  fs.writeFileSync(path.join(root, '.orchestrator', 'config.yaml'), `providers:\n  implementer:\n${cmd}  reviewer:\n${cmd}`);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'start');
  // Uncommitted work of the user's own, in a file the change does not touch: it must survive.
  fs.writeFileSync(path.join(root, 'README.md'), '# app\n\nmy notes, not committed\n');
  fs.writeFileSync(path.join(root, 'scratch.txt'), 'untracked\n');
  const env = cliEnv(home, overlap ? { OVERLAP: '1' } : {});
  const cli = (...args: string[]) => runCli(args, { cwd: root, env, timeoutMs: 300_000 });
  return { root, cli };
}

const inputs = ['-i', 'check=test -f server.js -o -f web.js'];

describe('the example pipeline: plan → backend ∥ frontend in worktrees → merge → audit → approval → apply', () => {
  it('disjoint edits merge, wait for the approval, then land on the current branch; the user\'s own changes stay', async () => {
    const { root, cli } = project(false);
    const head = git(root, 'rev-parse', 'HEAD');
    const started = await cli('run', '.orchestrator/workflows/implement.yaml', '--detach', ...inputs);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim().split(/\s+/).pop()!;
    const show = async () => JSON.parse((await cli('show', id, '--json')).stdout) as { status: string; steps: Record<string, { status: string; reason?: string; outputs: Record<string, string> }> };
    const waiting = await waitFor(async () => {
      const s = await show();
      return s.status === 'waiting' || ['failed', 'succeeded', 'cancelled'].includes(s.status) ? s : undefined;
    }, 'the approval', 300_000);
    assert.equal(waiting.status, 'waiting', JSON.stringify(waiting.steps));
    // Nothing has reached the user's branch yet.
    assert.equal(git(root, 'rev-parse', 'HEAD'), head);
    assert.ok(!fs.existsSync(path.join(root, 'server.js')));
    const merged = waiting.steps.integrate.outputs;
    assert.deepEqual(merged.changed_files.split('\n').sort(), ['server.js', 'web.js']);
    assert.equal(waiting.steps.backend.outputs.changed_files, 'server.js');

    assert.equal((await cli('approve', id, 'approve')).code, 0);
    const end = await waitFor(async () => {
      const s = await show();
      return s.status !== 'waiting' && s.status !== 'running' ? s : undefined;
    }, 'the end', 300_000);
    assert.equal(end.status, 'succeeded', JSON.stringify(end.steps));
    assert.equal(fs.readFileSync(path.join(root, 'server.js'), 'utf8'), 'exports.health = () => "ok";\n');
    assert.ok(fs.existsSync(path.join(root, 'web.js')));
    assert.equal(fs.readFileSync(path.join(root, 'README.md'), 'utf8'), '# app\n\nmy notes, not committed\n');
    assert.equal(fs.readFileSync(path.join(root, 'scratch.txt'), 'utf8'), 'untracked\n');
    assert.equal(git(root, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
    const findings = JSON.parse((await cli('findings', id, '--json')).stdout) as { rule?: string }[];
    assert.ok(findings.some((f) => f.rule === 'untested'));
    // Worktrees are gone when the session ends.
    assert.equal(git(root, 'worktree', 'list').split('\n').length, 1, git(root, 'worktree', 'list'));
  });

  it('overlapping edits conflict at the merge: one finding per conflicted file, nothing reaches the user\'s tree', async () => {
    const { root, cli } = project(true);
    const head = git(root, 'rev-parse', 'HEAD');
    const r = await cli('run', '.orchestrator/workflows/implement.yaml', '--quiet', ...inputs);
    assert.equal(r.code, 1, r.stderr);
    const id = (JSON.parse((await cli('list', '--json')).stdout) as { id: string }[])[0].id;
    const s = JSON.parse((await cli('show', id, '--json')).stdout) as { steps: Record<string, { status: string }> };
    assert.equal(s.steps.backend.status, 'succeeded');
    assert.equal(s.steps.frontend.status, 'succeeded');
    assert.equal(s.steps.integrate.status, 'failed');
    assert.notEqual(s.steps.land.status, 'succeeded');
    const findings = JSON.parse((await cli('findings', id, '--json')).stdout) as { rule?: string; file?: string; line?: number }[];
    assert.deepEqual(findings.filter((f) => f.rule === 'merge-conflict').map((f) => [f.file, f.line]), [['shared.conf', 1]]);
    assert.equal(git(root, 'rev-parse', 'HEAD'), head);
    assert.equal(fs.readFileSync(path.join(root, 'shared.conf'), 'utf8'), 'base = 0\n');
  });
});
