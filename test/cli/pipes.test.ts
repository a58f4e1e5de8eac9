/**
 * Output into a pipe that closes early (issue 10, part 6): `orchestrator logs ID | head -1` used to
 * die of EPIPE with a stack trace. Real shell pipes (`bash -c 'node cli.js … | head -1'`): nothing on
 * stderr, the first line on stdout, and the command itself ends quietly (141, as a Unix tool killed
 * by SIGPIPE). `run` keeps running its session to the end instead (dying there would leave it
 * interrupted). Outputs are over a megabyte, far beyond a pipe's buffer, so the reader is gone
 * while the command still writes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cliEnv, makeRepo, runCli } from './cliProcess';

const { root, home } = makeRepo('orch-pipes');
const env = cliEnv(home);
let id = '';

/** Runs `script` in bash; returns its stdout, stderr and the CLI's own exit status (PIPESTATUS[0], via a file). */
function shell(script: string): Promise<{ stdout: string; stderr: string; cliStatus: number }> {
  const statusFile = path.join(root, `status-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${script}; echo "\${PIPESTATUS[0]}" > ${statusFile}`], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bash -c '${script}' did not finish\nstderr: ${stderr}`));
    }, 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr, cliStatus: Number(fs.readFileSync(statusFile, 'utf8').trim()) });
    });
  });
}

const node = `'${process.execPath}' '${CLI}'`;

before(async () => {
  // One step prints 300,000 lines (about 2 MB); another reports 3,000 findings (big JSON, many events).
  fs.writeFileSync(
    path.join(root, 'loud.workflow.yaml'),
    `name: loud
steps:
  - id: loud
    run: seq 1 300000
  - id: findings
    run: |
      for i in $(seq 1 3000); do echo "::finding severity=low file=src/f$i.ts line=$i rule=r$i::finding number $i with some words to make it longer"; done
`,
  );
  const r = await runCli(['run', 'loud.workflow.yaml', '--quiet'], { cwd: root, env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  id = (JSON.parse((await runCli(['list', '--json'], { cwd: root, env })).stdout) as { id: string }[])[0].id;
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('a pipe closed early: the command ends quietly', () => {
  const cases: [string, string, RegExp][] = [
    ['logs ID STEP', `logs ${'ID'} loud`, /^1$/],
    ['logs ID (events)', 'logs ID', /^\S+ session\.started$/],
    ['logs ID --json', 'logs ID --json', /^\{"v":2,"by":"orchestrator [^"]+","seq":1,/],
    ['findings ID', 'findings ID', /^SEVERITY\s+LOCATION/],
    ['findings ID --format sarif', 'findings ID --format sarif', /^\{$/],
    ['show ID --json', 'show ID --json', /^\{$/],
  ];
  for (const [name, args, first] of cases) {
    it(`${name} | head -1`, async () => {
      const r = await shell(`${node} ${args.replace('ID', id)} | head -1`);
      assert.equal(r.stderr, '', 'nothing on stderr (no EPIPE stack trace)');
      assert.match(r.stdout.trimEnd(), first);
      assert.equal(r.stdout.split('\n').length, 2, 'one line');
      assert.equal(r.cliStatus, 141, 'ended as a Unix tool ends when its reader goes away');
    });
  }

  it('run | head -1: the session still runs to its end, and run exits as it would have', async () => {
    fs.writeFileSync(
      path.join(root, 'gated.workflow.yaml'),
      // The step waits until the reader is gone, so every line after the first meets a closed pipe.
      'name: gated\nsteps:\n  - id: wait\n    run: while [ ! -e reader-gone ]; do sleep 0.05; done\n  - id: then\n    needs: wait\n    run: seq 1 10\n',
    );
    const r = await shell(`${node} run gated.workflow.yaml | { head -1; exec 0<&-; touch reader-gone; }`);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Session \S+: gated \(2 steps\)\n$/);
    assert.equal(r.cliStatus, 0, 'the session succeeded');
    const [s] = JSON.parse((await runCli(['list', '--json'], { cwd: root, env })).stdout) as { workflow: string; status: string }[];
    assert.deepEqual([s.workflow, s.status], ['gated', 'succeeded']);
  });
});
