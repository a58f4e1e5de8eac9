/**
 * The editor experience, checked like a user in a real VS Code (code-server + Chromium): the
 * Orchestrator views, Start Orchestration through its input prompts, a session's steps reaching
 * success, findings in the Findings view and the Problems panel, a live log tab, the run graph,
 * a silent step in Stuck, and a window reload with a session still running. Screenshots of each
 * view go to the folder run.ts prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { copyFixture, REPO_ROOT, startCodeServer, VSIX, type CodeServer } from './harness';

async function nodeStatuses(f: Frame): Promise<string[]> {
  const got = await f.evaluate<string[]>('Array.from(document.querySelectorAll("g.node")).map((n) => n.getAttribute("data-id") + "=" + n.getAttribute("data-status") + (n.getAttribute("data-stuck") ? "+stuck" : ""))');
  return got.sort();
}

/**
 * Waits until a graph webview (body[data-ready="1"] once media/graph.js has drawn) shows exactly
 * these `step=status` nodes, and returns them. The webview is an iframe inside an iframe.
 */
async function waitForGraph(vs: CodeServer, want: string[]): Promise<string[]> {
  let seen: string[][] = [];
  return vs
    .waitFor(`a graph webview with ${want.join(', ')}`, async () => {
      seen = [];
      for (const f of vs.page.frames()) {
        try {
          if ((await f.evaluate('document.body && document.body.dataset.ready === "1"')) !== true) continue;
          const got = await nodeStatuses(f);
          seen.push(got);
          if (JSON.stringify(got) === JSON.stringify([...want].sort())) return got;
        } catch {
          /* a frame going away */
        }
      }
      return undefined;
    })
    .catch((e: Error) => {
      throw new Error(`${e.message}\ngraphs on screen:\n${seen.map((g) => `  ${g.join(', ')}`).join('\n') || '  (none)'}`);
    });
}

function sessionIds(ws: string): string[] {
  const dir = path.join(ws, '.orchestrator', 'sessions');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^\d{8}-\d{6}-/.test(n)).sort() : [];
}

describe('the editor experience in a real VS Code', () => {
  let vs: CodeServer;
  let ws: string;

  before(async () => {
    ws = copyFixture('workspace');
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: true });
  });
  after(() => vs?.stop());

  it('the Orchestrator container has Sessions, Findings and Stuck; an empty Sessions view offers Start Orchestration', async () => {
    await vs.openActivityBarView('Orchestrator');
    await vs.waitFor('the Sessions welcome text', async () => /No sessions yet/.test(await vs.viewText('Sessions')));
    assert.match(await vs.viewText('Findings'), /No findings/);
    assert.match(await vs.viewText('Stuck'), /Nothing is stuck/);
    await vs.screenshot('01-empty-views.png');
  });

  it('Start Orchestration picks a workflow, asks its inputs, and the session reaches success in the Sessions view', async () => {
    await vs.runCommand('Orchestrator: Start Orchestration');
    await vs.quickPick(/review\.yaml/);
    await vs.quickPick('all'); // `scope`: an enum, asked with a quick pick
    await vs.quickInputAnswer('from the UI'); // `note`: an input box (its default was e2e)
    const row = await vs.waitForTreeRow('Sessions', /^Review, succeeded · 3\/3 · .* · \d{8}-\d{6}-\w+$/, 90_000);
    const id = / · (\d{8}-\d{6}-\w+)$/.exec(row)![1];
    assert.deepEqual(sessionIds(ws), [id], 'one session on disk, the one the view shows');
    await vs.expandTreeRow(/^Review, /, 'Sessions');
    for (const step of ['scan', 'lint', 'report']) await vs.waitForTreeRow('Sessions', new RegExp(`^${step}, succeeded`));
    await vs.screenshot('02-sessions.png');
    // The inputs reached the steps: the report step's log, opened from its row, says so.
    await vs.clickTreeRow(/^report, succeeded/, 'Sessions');
    await vs.waitForActiveEditor(/report\.log/);
    await vs.waitFor('the report log to show the inputs', async () => /reviewed all \(from the UI\)/.test(await vs.editorText()));
    await vs.screenshot('03-log.png');
  });

  it('findings appear in the Findings view (merged and disputed marked) and in the Problems panel', async () => {
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Findings', /^high, 1$/);
    const merged = await vs.waitForTreeRow('Findings', /^eval\(\) (runs arbitrary code|is dangerous), merged ×2 · disputed · line 3 · no-eval/);
    assert.ok(merged);
    await vs.waitForTreeRow('Findings', /^TODO left in the code, line 1 · todo · scan/);
    await vs.screenshot('04-findings.png');
    const problem = await vs.waitForProblem(/eval\(\)/);
    assert.match(problem, /^Error: eval\(\) .*merged from .*orchestrator\(no-eval\) \[Ln 3, Col 1\]$/);
    await vs.waitForProblem(/TODO left in the code/);
    await vs.screenshot('05-problems.png');
    // A click opens the file at the line.
    await vs.openActivityBarView('Orchestrator');
    await vs.clickTreeRow(/^eval\(\)/, 'Findings');
    await vs.waitForActiveEditor(/app\.ts/);
  });

  it('Show Graph draws the session DAG coloured by step status', async () => {
    await vs.openActivityBarView('Orchestrator');
    await vs.contextMenu(/^Review, /, 'Show Graph', 'Sessions');
    await waitForGraph(vs, ['lint=succeeded', 'report=succeeded', 'scan=succeeded']);
    await vs.screenshot('06-graph.png');
  });

  it('an approval is announced with buttons that act: Approve asks for a note and the session goes on', async () => {
    await vs.runCommand('Orchestrator: Start Orchestration');
    await vs.quickPick(/gate\.yaml/);
    await vs.waitForNotification(/Gate asks: Ship the build\?/);
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Sessions', /^Gate, waiting · /);
    await vs.screenshot('07-approval.png');
    await vs.clickNotificationButton('Approve', /Ship the build/);
    await vs.quickInputAnswer('looks good');
    await vs.waitForTreeRow('Sessions', /^Gate, succeeded · 3\/3 · /);
    await vs.expandTreeRow(/^Gate, /, 'Sessions');
    await vs.waitForTreeRow('Sessions', /^ship-it, succeeded/);
  });

  it('a session started from the CLI in the same folder appears in the Sessions view', async () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server', 'out', 'cli.js'), 'run', '.orchestrator/workflows/hello.yaml', '--input', 'name=terminal'], { cwd: ws, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Sessions', /^Hello, succeeded · 2\/2 · /);
  });

  it('a silent step shows in Stuck; after a window reload the running session is still live in the views and finishes there', async () => {
    await vs.runCommand('Orchestrator: Start Orchestration');
    await vs.quickPick(/slow\.yaml/);
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Stuck', /^quiet, Slow · last heard/, 60_000);
    await vs.waitForTreeRow('Sessions', /^Slow, running · /);
    await vs.screenshot('08-stuck.png');
    await vs.contextMenu(/^Slow, /, 'Show Graph', 'Sessions');
    await waitForGraph(vs, ['finish=pending', 'quiet=running+stuck', 'warmup=succeeded']);
    const before = sessionIds(ws);

    await vs.page.reload();
    await vs.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await vs.openActivityBarView('Orchestrator');
    await vs.waitForTreeRow('Sessions', /^Slow, running · /);
    await vs.waitForTreeRow('Stuck', /^quiet, Slow/);
    // Graph tabs are not kept across a reload (docs: the editor); open it again: still live.
    await vs.contextMenu(/^Slow, /, 'Show Graph', 'Sessions');
    await waitForGraph(vs, ['finish=pending', 'quiet=running+stuck', 'warmup=succeeded']);
    await vs.screenshot('09-after-reload.png');
    // The runner never stopped: let its quiet step end; the session finishes, and the views and the graph hear of it.
    fs.writeFileSync(path.join(ws, 'slow.go'), '');
    await vs.waitForTreeRow('Sessions', /^Slow, succeeded · 3\/3 · /, 60_000);
    await vs.waitForNoTreeRow('Stuck', /^quiet/);
    await waitForGraph(vs, ['finish=succeeded', 'quiet=succeeded', 'warmup=succeeded']);
    assert.deepEqual(sessionIds(ws), before, 'the same session, not a new one');
  });
});

describe('a restricted (untrusted) workspace', () => {
  let vs: CodeServer;
  let ws: string;

  before(async () => {
    ws = copyFixture('workspace');
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: false });
  });
  after(() => vs?.stop());

  it('validates and shows, but refuses to run and says why', async () => {
    assert.ok(await vs.isRestricted());
    await vs.openActivityBarView('Orchestrator');
    await vs.waitFor('the Sessions view to say the workspace is not trusted', async () => /not trusted/.test(await vs.viewText('Sessions')));
    await vs.runCommand('Orchestrator: Start Orchestration');
    const toast = await vs.waitForNotification(/not trusted, so nothing runs here/);
    assert.match(toast, /start refused/);
    assert.deepEqual(sessionIds(ws), [], 'no session was created');
    await vs.openFile('.orchestrator/workflows/broken.yaml');
    await vs.waitForProblem(/unknown-need/);
    await vs.screenshot('10-restricted.png');
  });
});
