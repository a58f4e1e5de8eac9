/** Scratch folders (raw step outputs) left by a runner that was killed are removed by the next runner. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';

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
