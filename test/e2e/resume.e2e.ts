/**
 * Issue 10, part 5, as a new user meets it in a real VS Code (code-server + Chromium): a session
 * fails, the user fixes the workflow file and clicks *Resume Session*. The editor asks whether to
 * take the changed file or the stored definition (a modal dialog) and does what was chosen; the
 * Sessions row says what the steps came to (`1/3 done · 1 failed · 1 cancelled`), and a failure
 * that repeats raises a new toast each time (`failed again (2nd time)`), while a success raises none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyFixture, REPO_ROOT, startCodeServer, VSIX, type CodeServer } from './harness';

const FILE = '.orchestrator/workflows/fixme.yaml';
const workflow = (b: string): string => `name: Fixme
steps:
  - id: a
    run: echo a
  - id: b
    needs: a
    run: ${b}
  - id: c
    needs: b
    run: echo c
`;

describe('resuming after fixing the workflow file, in a real VS Code', () => {
  let vs: CodeServer;
  let ws: string;
  let id = '';

  before(async () => {
    ws = copyFixture('workspace');
    fs.writeFileSync(path.join(ws, FILE), workflow('exit 3'));
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: true });
  });
  after(() => vs?.stop());

  it('a failed session whose one step succeeded says so in its row', async () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server', 'out', 'cli.js'), 'run', FILE, '--quiet'], { cwd: ws, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    await vs.openActivityBarView('Orchestrator');
    const row = await vs.waitForTreeRow('Sessions', /^Fixme, failed · 1\/3 done · 1 failed · 1 cancelled · /);
    id = / · (\d{8}-\d{6}-\w+)$/.exec(row)![1];
  });

  it('after the file changed, Resume asks; the stored definition fails again, and each failure is a new toast', async () => {
    fs.writeFileSync(path.join(ws, FILE), workflow('echo fixed'));
    for (const nth of [1, 2]) {
      await vs.contextMenu(/^Fixme, failed/, 'Resume Session', 'Sessions');
      const d = await vs.dialog();
      assert.match(d.text, new RegExp(`fixme\\.yaml changed since session ${id} started\\.`));
      assert.ok(d.buttons.includes('Resume with the Changed File') && d.buttons.includes('Resume with the Stored Definition'), d.buttons.join(' | '));
      if (nth === 1) await vs.screenshot('11-resume-question.png');
      await vs.clickDialogButton('Resume with the Stored Definition');
      const toast = await vs.waitForNotification(nth === 1 ? /Fixme \(.*\) failed at .* — 1\/3 done · 1 failed · 1 cancelled/ : /Fixme \(.*\) failed again \(2nd time\) at /);
      assert.match(toast, /step b failed/);
    }
  });

  it('Resume with the Changed File runs the fixed step; the success is no toast', async () => {
    await vs.contextMenu(/^Fixme, failed/, 'Resume Session', 'Sessions');
    await vs.dialog();
    await vs.clickDialogButton('Resume with the Changed File');
    await vs.waitForTreeRow('Sessions', /^Fixme, succeeded · 3\/3 done · /, 60_000);
    assert.ok(!(await vs.notifications()).some((t) => /succeeded/.test(t)), `no success toast: ${(await vs.notifications()).join(' | ')}`);
    await vs.expandTreeRow(/^Fixme, /, 'Sessions');
    await vs.clickTreeRow(/^b, succeeded/, 'Sessions');
    await vs.waitFor('the log of b to show the fixed definition ran', async () => /fixed/.test(await vs.editorText()));
    await vs.screenshot('12-resumed-with-changed-file.png');
  });
});
