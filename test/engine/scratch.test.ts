/**
 * Scratch folders (raw step outputs) left by a runner that was killed are removed by the next
 * runner, and by the next read of the session they belonged to.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';
import { loadSession } from '../../server/src/store/sessionStore';
import { CLI, cliEnv, killTrees, makeRepo, processesWithEnv, sessionFolders, waitFor } from '../cli/cliProcess';

describe('scratch folders of dead runners', () => {
  it('are removed when a runner starts its first step; a live one is left alone', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), `orch-steps-${deadPid}-`));
    fs.writeFileSync(path.join(stale, '1-outputs'), 'token=raw-secret-value\n');
    const live = fs.mkdtempSync(path.join(os.tmpdir(), `orch-steps-${process.ppid}-`));
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-scratch-'));
    fs.mkdirSync(path.join(repo, '.git'));
    fs.writeFileSync(path.join(repo, 'w.workflow.yaml'), 'name: w\nsteps:\n  - id: a\n    run: echo hi\n');
    try {
      const s = await startSession(path.join(repo, 'w.workflow.yaml'), {}, { repoRoot: repo });
      assert.equal((await s.done).status, 'succeeded');
      assert.equal(fs.existsSync(stale), false, 'the dead runner\'s scratch folder was removed');
      assert.equal(fs.existsSync(live), true, 'a live process\'s folder is kept');
    } finally {
      for (const d of [stale, live, repo]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the scratch folder of a runner killed while a step ran', () => {
  it('is removed at the next read of its session, and not while the runner lives', async () => {
    const { root, home } = makeRepo('orch-scratch-kill');
    fs.writeFileSync(
      path.join(root, 'wf.yaml'),
      ['name: w', 'steps:', '  - id: a', '    run: |', '      echo "token=raw-secret-value" >> "$ORCHESTRATOR_OUTPUT"', '      echo "$ORCHESTRATOR_OUTPUT" > where', '      while [ ! -e release ]; do sleep 0.02; done', ''].join('\n'),
    );
    const runner = spawn(process.execPath, [CLI, 'run', 'wf.yaml', '--quiet'], { cwd: root, env: cliEnv(home), stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    try {
      const raw = await waitFor(() => fs.readFileSync(path.join(root, 'where'), 'utf8').trim() || undefined, 'the step to write its output');
      assert.match(fs.readFileSync(raw, 'utf8'), /raw-secret-value/);
      const [id] = sessionFolders(root);
      loadSession(root, id);
      assert.ok(fs.existsSync(raw), 'a live runner\'s outputs are left alone');
      runner.kill('SIGKILL');
      await exited;
      killTrees(processesWithEnv('ORCHESTRATOR_SESSION_ID', id)); // the step, which outlived its runner
      assert.ok(fs.existsSync(raw), 'the killed runner left the raw output behind');
      loadSession(root, id);
      assert.ok(!fs.existsSync(path.dirname(raw)), 'the next read of the session removed the scratch folder');
      assert.ok(!fs.existsSync(path.join(root, '.orchestrator', 'sessions', id, '.scratch')), 'and its pointer');
    } finally {
      runner.kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
