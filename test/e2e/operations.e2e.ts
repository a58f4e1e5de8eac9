/**
 * The operations features in a real VS Code (code-server + Chromium), with real files in the
 * temp workspace: Initialize Repository…, Set Secret… (a hidden value, written 0600 and never
 * shown) and List Secrets on a folder without .orchestrator/; the Doctor panel (a webview) showing
 * a loose secret file and a .gitignore that lets secrets into git, its Fix buttons repairing both
 * on disk; diagnostics of .orchestrator/config.yaml as it is opened and cleared as it is fixed in
 * the editor; and Prune Sessions… from the Sessions view's menu, its dry run confirmed in a
 * dialog, removing exactly the sessions it listed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { copyFixture, REPO_ROOT, startCodeServer, VSIX, waitFor, type CodeServer } from './harness';
import { clickInWebview, waitForWebview } from './webview';

const CLI = path.join(REPO_ROOT, 'server', 'out', 'cli.js');
const DOCTOR = /^Orchestrator: Doctor$/;
const mode = (f: string): number => fs.statSync(f).mode & 0o777;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trimEnd();
}

function sessionIds(ws: string): string[] {
  const dir = path.join(ws, '.orchestrator', 'sessions');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^\d{8}-\d{6}-/.test(n)).sort() : [];
}

interface Check {
  id: string;
  status: string;
  text: string;
}

/** The Doctor page's rows: check id, status (its class) and text. */
async function doctorChecks(f: Frame): Promise<Check[]> {
  return f.locator('li.check').evaluateAll((els: { className: string; innerText: string; getAttribute(n: string): string | null }[]) =>
    els.map((e) => ({ id: e.getAttribute('data-id') ?? '', status: e.className.replace(/\bcheck\b/, '').trim(), text: e.innerText.replace(/\s+/g, ' ').trim() })),
  );
}

/** Waits until the Doctor panel shows its report (not "Checking…") with a row accepted by `want`, and returns that row. */
async function waitForCheck(vs: CodeServer, what: string, want: (c: Check) => boolean): Promise<Check> {
  return waitForWebview(vs, DOCTOR, `the Doctor row ${what}`, async (f) => {
    if (/Checking…|Working…/.test(await f.locator('#summary').innerText())) return undefined;
    return (await doctorChecks(f)).find(want);
  });
}

/**
 * Clicks an item of a view's "More Actions..." menu (its title bar's overflow) and waits until
 * `ran` says the command answered. In our runs the first menu of a fresh window now and then
 * closed on the click without running the item, or did not open on the click at all (the title
 * bar's actions are drawn again while the extension starts, and a click can land on the old
 * button): then it clicks again, opens the menu and clicks its item again.
 */
async function viewMenu(vs: CodeServer, view: string, item: string, ran: () => Promise<boolean>): Promise<void> {
  const opened = () => vs.page.locator('.monaco-menu').first().isVisible();
  for (let attempt = 1; ; attempt++) {
    const pane = await vs.expandPane(view);
    const header = pane.locator('.pane-header').first();
    for (let click = 1; ; click++) {
      await header.hover();
      await header.locator('.actions .action-label[aria-label^="More Actions"]').first().click();
      if (click === 5) {
        await vs.waitFor(`the menu of the view ${view}`, opened);
        break;
      }
      if (await waitFor('', opened, { timeout: 5_000 }).then(() => true, () => false)) break;
      console.log(`[e2e] the menu of the view ${view} did not open on click ${click}; clicking again`);
    }
    await vs.clickMenuItem(item);
    if (attempt === 3) return void (await vs.waitFor(`${item} to answer`, ran));
    if (await waitFor('', ran, { timeout: 10_000 }).then(() => true, () => false)) return;
    console.log(`[e2e] ${item}: nothing answered the click in the menu; opening it again`);
  }
}

/** Prune Sessions… answered: its rule question or its confirmation is up. */
const pruneAsks = (vs: CodeServer) => async (): Promise<boolean> =>
  (await vs.quickInputState()).visible || (await vs.page.locator('.monaco-dialog-box').first().isVisible().catch(() => false));

describe('a folder without .orchestrator/: Initialize, secrets, Doctor, config.yaml', () => {
  let vs: CodeServer;
  let ws: string;
  const NAME = 'E2E_TOKEN';
  const VALUE = `e2e-value-${crypto.randomBytes(6).toString('hex')}`;
  const secretFile = () => path.join(ws, '.orchestrator', 'secrets', NAME);

  /** Everything the user or a log could have seen: the workbench's text, toasts, status bar, output channels, logs. */
  async function everythingShown(): Promise<string> {
    return [
      await vs.page.locator('body').innerText(),
      ...(await vs.notificationsWithButtons()),
      ...(await vs.statusBarItems()),
      vs.outputLog('Orchestrator'),
      vs.extensionHostLog(),
      vs.serverLog(),
      vs.consoleLog(),
    ].join('\n');
  }

  before(async () => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-e2e-ops-'));
    fs.writeFileSync(path.join(ws, 'README.md'), '# nothing set up here yet\n');
    git(ws, 'init', '-q', '-b', 'main');
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: true });
    // A palette opened before the extension's contributions are registered lists none of its
    // commands: wait for its view (nothing activates it in a folder without workflows).
    await vs.openActivityBarView('Orchestrator');
    await vs.waitFor('the Sessions welcome text', async () => /No workflow in this workspace yet/.test(await vs.viewText('Sessions')));
  });
  after(async () => {
    await vs?.stop();
    if (ws && process.env.ORCH_E2E_KEEP !== '1') fs.rmSync(ws, { recursive: true, force: true });
  });

  it('Initialize Repository… creates config.yaml, workflows/, meta.json and .gitignore', async () => {
    assert.equal(fs.existsSync(path.join(ws, '.orchestrator')), false);
    await vs.runCommand('Orchestrator: Initialize Repository…');
    await vs.quickPick('Normal');
    const dir = path.join(ws, '.orchestrator');
    const want = ['config.yaml', 'workflows', 'meta.json', '.gitignore'];
    await vs.waitFor(`.orchestrator/{${want.join(',')}} on disk`, () => want.every((f) => fs.existsSync(path.join(dir, f))));
    assert.ok(fs.statSync(path.join(dir, 'workflows')).isDirectory());
    assert.ok(fs.readdirSync(path.join(dir, 'workflows')).some((f) => f.endsWith('.yaml')), 'a starter workflow');
    assert.match(fs.readFileSync(path.join(dir, 'config.yaml'), 'utf8'), /^# Synapse Orchestrator settings/);
    assert.deepEqual(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')), ['sessions/', 'secrets/', 'worktrees/']);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { stateFormatVersion?: unknown };
    assert.equal(typeof meta.stateFormatVersion, 'number');
    // What it did is said in the Orchestrator output.
    await vs.waitFor('the init report in the output', () => /created \.orchestrator\/config\.yaml/.test(vs.outputLog()));
  });

  it('Set Secret… takes the value in a hidden box and writes it to .orchestrator/secrets/ with mode 0600, showing it nowhere', async () => {
    await vs.runCommand('Orchestrator: Set Secret…');
    await vs.quickInputAnswer(NAME);
    const input = await vs.waitForQuickInput('the value box');
    await vs.waitFor('the value box to be a password box', async () => (await input.getAttribute('type')) === 'password');
    assert.match((await vs.quickInputState()).title, new RegExp(`Set Secret ${NAME}`));
    await vs.quickInputAnswer(VALUE);
    await vs.quickPick('This repository');
    await vs.waitFor(`${secretFile()} on disk`, () => fs.existsSync(secretFile()));
    assert.equal(mode(secretFile()).toString(8), '600');
    assert.equal(fs.readFileSync(secretFile(), 'utf8').trimEnd(), VALUE);
    await vs.waitFor('the status bar to say the secret was saved', async () => (await vs.statusBarItems()).some((s) => new RegExp(`secret ${NAME} saved \\(mode 0600\\)`).test(s)));
    assert.ok(!(await everythingShown()).includes(VALUE), 'the value is shown or logged somewhere');
  });

  it('List Secrets shows the secret\'s name and where it is, never its value; Test says where it resolves from', async () => {
    await vs.runCommand('Orchestrator: List Secrets');
    const row = await vs.waitFor(`a row ${NAME} in the secrets list`, async () => {
      const s = await vs.quickInputState();
      return s.title === 'Secrets (values are never shown)' && s.rows.find((r) => r.includes(NAME));
    });
    assert.match(row, /\.orchestrator\/secrets\/E2E_TOKEN/);
    assert.ok(!(await vs.quickInputState()).rows.some((r) => r.includes(VALUE)));
    await vs.quickPick(new RegExp(NAME));
    await vs.quickPick('Test');
    await vs.waitForNotification(new RegExp(`${NAME} resolves from \\.orchestrator/secrets/${NAME}\\.`));
    assert.ok(!(await everythingShown()).includes(VALUE), 'the value is shown or logged somewhere');
  });

  it('Doctor shows a loose secret file and a .gitignore that lets secrets in; its Fix buttons repair both on disk and the rows pass', async () => {
    fs.chmodSync(secretFile(), 0o644);
    const gitignore = path.join(ws, '.orchestrator', '.gitignore');
    fs.writeFileSync(gitignore, 'sessions/\nworktrees/\n');
    await vs.runCommand('Orchestrator: Doctor');
    await vs.waitForActiveEditor('Orchestrator: Doctor');

    const loose = await waitForCheck(vs, 'secrets.permissions (warn)', (c) => c.id.startsWith('secrets.permissions') && c.status === 'warn');
    assert.match(loose.text, new RegExp(`Secret files are private: other users can read ${NAME} \\(0644\\) in .*/\\.orchestrator/secrets → chmod -R go-rwx .* Fix$`));
    const leak = await waitForCheck(vs, 'secrets.gitignore (fail)', (c) => c.id === 'secrets.gitignore' && c.status !== 'pass');
    assert.match(leak.text, /^. Git keeps secrets out: .*secrets.* → .* Fix$/);
    await vs.screenshot('30-doctor-problems.png');

    await clickInWebview(vs, DOCTOR, 'li.check[data-id^="secrets.permissions"] button[data-action="chmod-secrets"]');
    await waitForWebview(vs, DOCTOR, 'the chmod outcome', async (f) => /Done: made 1 secret file \(600\)/.test(await f.locator('body').innerText()));
    assert.equal(mode(secretFile()).toString(8), '600');
    await waitForCheck(vs, 'secrets.permissions (pass)', (c) => c.id === 'secrets.permissions' && c.status === 'pass' && /no other user can read the secret files/.test(c.text));

    await clickInWebview(vs, DOCTOR, 'li.check[data-id="secrets.gitignore"] button[data-action="write-gitignore"]');
    await waitForWebview(vs, DOCTOR, 'the .gitignore outcome', async (f) => /Done: added secrets\/ to \.orchestrator\/\.gitignore/.test(await f.locator('body').innerText()));
    assert.equal(fs.readFileSync(gitignore, 'utf8'), 'sessions/\nworktrees/\nsecrets/\n');
    assert.equal(git(ws, 'check-ignore', '.orchestrator/secrets/E2E_TOKEN'), '.orchestrator/secrets/E2E_TOKEN');
    await waitForCheck(vs, 'secrets.gitignore (pass)', (c) => c.id === 'secrets.gitignore' && c.status === 'pass');
    // No fix left for the secrets, and no value in the page.
    await waitForWebview(vs, DOCTOR, 'no secrets row with a fix button', async (f) => (await f.locator('li.check[data-id^="secrets"] button').count()) === 0);
    await waitForWebview(vs, DOCTOR, 'a page without the value', async (f) => !(await f.locator('body').innerText()).includes(VALUE));
    await vs.screenshot('31-doctor-fixed.png');
  });

  it('config.yaml: an unknown key and a bad value show as problems and squiggles; fixing the file in the editor clears them', async () => {
    const config = path.join(ws, '.orchestrator', 'config.yaml');
    fs.writeFileSync(config, 'concurency: 4\nstuck_after: soon\n');
    await vs.openFile('.orchestrator/config.yaml');
    await vs.waitForProblem(/^Warning: unknown key 'concurency'\. Did you mean 'concurrency'\? orchestrator\(unknown-key\) \[Ln 1, Col 1\]$/);
    await vs.waitForProblem(/^Error: stuck_after must be a duration such as 90s, 5m or 1h, not 'soon' orchestrator\(bad-value\) \[Ln 2, Col 14\]$/);
    const editor = vs.page.locator('.editor-group-container.active .monaco-editor').first();
    await vs.waitFor('a warning and an error squiggle in the editor', async () => (await editor.locator('.squiggly-warning').count()) > 0 && (await editor.locator('.squiggly-error').count()) > 0);
    await vs.screenshot('32-config-problems.png');

    // Fix it as a user would: replace the text in the editor and save.
    await editor.locator('.view-lines').first().click();
    await vs.page.keyboard.press('Control+A');
    await vs.page.keyboard.insertText('concurrency: 4\nstuck_after: 90s\n');
    await vs.page.keyboard.press('Control+S');
    await vs.waitFor('config.yaml saved', () => fs.readFileSync(config, 'utf8') === 'concurrency: 4\nstuck_after: 90s\n');
    await vs.waitFor('the squiggles to go', async () => (await editor.locator('.squiggly-warning, .squiggly-error').count()) === 0);
    await vs.waitFor('no config.yaml problem left', async () => !(await vs.problems()).some((r) => /config\.yaml|concurency|stuck_after/.test(r)));
  });
});

/** A workflow whose one step fails. */
const FAILS = 'version: 1\nname: Fails\nsteps:\n  - id: boom\n    run: exit 3\n';

describe('Prune Sessions… in the Sessions view', () => {
  let vs: CodeServer;
  let ws: string;
  let kept: string[] = [];
  let failed: string[] = [];

  /** Runs a workflow to its end with the CLI and returns its new session's id. */
  function runFromCli(file: string): string {
    const before = new Set(sessionIds(ws));
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--quiet'], { cwd: ws, encoding: 'utf8' });
    assert.ok(r.status === 0 || r.status === 1, `orchestrator run ${file}: ${r.status} ${r.stderr}`);
    const id = sessionIds(ws).find((s) => !before.has(s));
    assert.ok(id, `a new session folder for ${file}`);
    return id;
  }

  before(async () => {
    ws = copyFixture('workspace');
    fs.writeFileSync(path.join(ws, '.orchestrator', 'workflows', 'fails.yaml'), FAILS);
    kept = [runFromCli('.orchestrator/workflows/hello.yaml'), runFromCli('.orchestrator/workflows/hello.yaml')];
    failed = [runFromCli('.orchestrator/workflows/fails.yaml'), runFromCli('.orchestrator/workflows/fails.yaml')];
    vs = await startCodeServer({ workspace: ws, vsix: VSIX, trust: true, viewport: { width: 1400, height: 1100 } });
  });
  after(() => vs?.stop());

  it('shows the dry run in a dialog, removes nothing on Cancel, and on Prune removes exactly the failed sessions from disk and the view', async () => {
    const all = [...kept, ...failed].sort();
    assert.deepEqual(sessionIds(ws), all);
    await vs.openActivityBarView('Orchestrator');
    for (const id of kept) await vs.waitForTreeRow('Sessions', new RegExp(`^Hello, succeeded · .* · ${id}$`));
    for (const id of failed) await vs.waitForTreeRow('Sessions', new RegExp(`^Fails, failed · .* · ${id}$`));

    // No retention configured: it asks for a rule; the dry run is shown, and Cancel removes nothing.
    await viewMenu(vs, 'Sessions', 'Prune Sessions…', pruneAsks(vs));
    await vs.quickPick('All failed sessions');
    let d = await vs.dialog();
    assert.match(d.text, /^Prune 2 sessions \(.+\)\?/);
    for (const id of failed) assert.match(d.text, new RegExp(`${id} +Fails \\(failed\\)`));
    for (const id of kept) assert.ok(!d.text.includes(id), `the dialog lists ${id}, which did not fail`);
    assert.ok(d.buttons.includes('Prune'), `buttons: ${d.buttons.join(', ')}`);
    await vs.screenshot('33-prune-dialog.png');
    await vs.clickDialogButton('Cancel');
    assert.deepEqual(sessionIds(ws), all, 'the dry run and Cancel removed nothing');

    await viewMenu(vs, 'Sessions', 'Prune Sessions…', pruneAsks(vs));
    await vs.quickPick('All failed sessions');
    d = await vs.dialog();
    assert.match(d.text, /^Prune 2 sessions/);
    await vs.clickDialogButton('Prune');
    await vs.waitForNotification(/Orchestrator: removed 2 sessions, freed /);
    assert.deepEqual(sessionIds(ws), [...kept].sort(), 'exactly the failed sessions were removed');
    await vs.waitForNoTreeRow('Sessions', /^Fails, /);
    for (const id of kept) await vs.waitForTreeRow('Sessions', new RegExp(`^Hello, succeeded · .* · ${id}$`));
    await vs.screenshot('34-pruned.png');
  });

  it('with retention configured it asks no rule: keep 1 prunes the older of the two sessions left', async () => {
    fs.writeFileSync(path.join(ws, '.orchestrator', 'config.yaml'), 'retention:\n  keep: 1\n');
    await viewMenu(vs, 'Sessions', 'Prune Sessions…', pruneAsks(vs));
    const d = await vs.dialog();
    assert.match(d.text, /^Prune 1 session \(.+\)\?\s*By retention\.keep 1 \(.*\/\.orchestrator\/config\.yaml:2\):/);
    assert.match(d.text, new RegExp(`${kept[0]} +Hello \\(succeeded\\)`));
    assert.ok(!d.text.includes(kept[1]), 'the newest session is kept');
    await vs.clickDialogButton('Prune');
    await vs.waitForNotification(/Orchestrator: removed 1 session, freed /);
    assert.deepEqual(sessionIds(ws), [kept[1]]);
    await vs.waitForNoTreeRow('Sessions', new RegExp(kept[0]));
    await vs.waitForTreeRow('Sessions', new RegExp(`^Hello, succeeded · .* · ${kept[1]}$`));
  });
});
