/**
 * CodeServer: one running code-server with its browser page, and the helpers tests call on it
 * (`vs.runCommand(…)`, `vs.waitForTreeRow(…)`, …). Made by startCodeServer() (start.ts).
 */
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { killGroup, liveServers, tempDirs } from './cleanup';
import { TIMEOUT } from './env';
import { findRow, rowTexts } from './rows';
import type { StartOptions } from './start';
import { escapeRegExp, list, matches, q, show, waitFor, type TextMatch } from './wait';
import { shotsDir } from './workspace';


export interface QuickInputState {
  visible: boolean;
  value: string;
  placeholder: string;
  title: string;
  /** Validation or info message under the input. */
  message: string;
  /** aria-labels of the rendered rows. */
  rows: string[];
}

/** Workspace Trust's status bar entry (shown only in Restricted Mode). */
const RESTRICTED = '#status\\.workspaceTrust, .statusbar-item[id="status.workspaceTrust"]';

export class CodeServer {
  private browser: Browser | undefined;
  private _page: Page | undefined;
  private browserLog: string[] = [];
  private stopped = false;
  readonly url: string;

  constructor(
    private readonly child: ChildProcess,
    private readonly root: string,
    readonly port: number,
    readonly options: StartOptions,
    private readonly readLog: () => string,
  ) {
    this.url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}`;
  }

  get page(): Page {
    if (!this._page) throw new Error('the browser is not open');
    return this._page;
  }

  /** code-server's stdout and stderr so far (its own log; the extension host logs are under user-data). */
  serverLog(): string {
    return this.readLog();
  }

  /**
   * The log file of an output channel of the extension host, e.g. "Orchestrator" (what the Output
   * panel shows for it; read from user-data/logs, so no need to open the panel). '' when none yet.
   */
  outputLog(channel = 'Orchestrator'): string {
    return this.findLogs((f) => path.basename(f) === `${channel}.log`);
  }

  /** The extension host's own log (activation errors, extension crashes). */
  extensionHostLog(): string {
    return this.findLogs((f) => /exthost\d*[\\/]remoteexthost\.log$/.test(f));
  }

  private findLogs(pick: (file: string) => boolean): string {
    const dir = path.join(this.root, 'user-data', 'logs');
    const files = fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter(pick).sort() : [];
    return files.map((f) => fs.readFileSync(f, 'utf8')).join('');
  }

  /** Browser console errors and page errors so far. */
  consoleLog(): string {
    return this.browserLog.join('\n');
  }

  /** @internal */
  async open(executablePath: string, viewport: { width: number; height: number }): Promise<void> {
    this.browser = await chromium.launch({
      executablePath,
      // Chromium keeps crash reports under $XDG_CONFIG_HOME/chromium: not in the user's home.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(this.root, 'browser-config'), XDG_CACHE_HOME: path.join(this.root, 'browser-cache') },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await this.browser.newContext({ viewport });
    this._page = await context.newPage();
    this._page.on('console', (m) => {
      if (m.type() === 'error') this.browserLog.push(`console: ${m.text().slice(0, 500)}`);
    });
    this._page.on('pageerror', (e) => this.browserLog.push(`pageerror: ${e.message}`));
    await this._page.goto(this.url, { timeout: TIMEOUT });
    await this.page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: TIMEOUT });
    // The explorer (or the restored view) is up once the workbench has laid out its parts.
    await this.page.locator('.part.statusbar').first().waitFor({ state: 'visible', timeout: TIMEOUT });
  }

  /** Closes the browser, kills code-server (by the pid we started, with its group), removes the temp dirs. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.browser?.close().catch(() => undefined);
    const pid = this.child.pid;
    if (pid && this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
      killGroup(pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
      killGroup(pid, 'SIGKILL'); // the extension host and its children, if any outlived the server
    }
    if (pid) liveServers.delete(pid);
    if (process.env.ORCH_E2E_KEEP === '1') {
      tempDirs.delete(this.root);
      tempDirs.delete(this.options.workspace);
      console.log(`[e2e] ORCH_E2E_KEEP=1: kept ${this.root} and ${this.options.workspace}`);
      return;
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    tempDirs.delete(this.root);
    if (tempDirs.has(this.options.workspace)) {
      fs.rmSync(this.options.workspace, { recursive: true, force: true });
      tempDirs.delete(this.options.workspace);
    }
  }

  /** Saves `<shots>/<name>` (".png" added when missing) and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.resolve(shotsDir(), name.endsWith('.png') ? name : `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  // -------------------------------------------------------------------------------------------
  // What is on the screen (for error messages)
  // -------------------------------------------------------------------------------------------

  /** A text summary of the screen: editor tabs, quick input, notifications, views, status bar. */
  async describe(): Promise<string> {
    const p = this.page;
    const texts = async (sel: string, attr?: string) =>
      await p.locator(sel).evaluateAll(
        (els: { getAttribute(n: string): string | null; textContent: string | null }[], a) =>
          els.map((e) => ((a ? e.getAttribute(a) : null) ?? e.textContent ?? '').trim().replace(/\s+/g, ' ')).filter(Boolean),
        attr,
      );
    const qi = await this.quickInputState();
    const parts = [
      `on screen:`,
      `  editor tabs: ${(await texts('.tabs-container .tab', 'aria-label')).join(' | ') || '(none)'}`,
      `  quick input: ${qi.visible ? `value=${q(qi.value)} placeholder=${q(qi.placeholder)} title=${q(qi.title)} message=${q(qi.message)}\n${list(qi.rows)}` : '(closed)'}`,
      `  notifications:\n${list(await this.notificationsWithButtons())}`,
      `  dialogs:\n${list(await texts('.monaco-dialog-box', undefined))}`,
      `  side bar: ${(await texts('.part.sidebar .composite.title h2')).join(' | ') || '(none)'}; panes: ${(await texts('.part.sidebar .pane-header h3.title')).join(' | ')}`,
      `  panel: ${(await texts('.part.panel .composite-bar .action-item.checked .action-label', 'aria-label')).join(' | ') || '(closed)'}`,
      `  context menu:\n${list(await texts('.context-view .action-item .action-label', 'aria-label'))}`,
      `  status bar: ${(await texts('.part.statusbar .statusbar-item', 'aria-label')).join(' | ')}`,
      `  Orchestrator output (last lines):\n${list(this.outputLog().trimEnd().split('\n').filter(Boolean).slice(-15))}`,
    ];
    return parts.join('\n');
  }

  /** describe() plus a screenshot `fail-<n>-<what>.png`; used in every helper's timeout error. */
  private async failureDetail(what: string): Promise<string> {
    let shot = '';
    try {
      const name = `fail-${Date.now()}-${what.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.png`;
      shot = `\nscreenshot: ${await this.screenshot(name)}`;
    } catch (e) {
      shot = `\n(no screenshot: ${String(e)})`;
    }
    return (await this.describe()) + shot;
  }

  /** waitFor() with describe() + a screenshot in the error. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeout = TIMEOUT): Promise<T> {
    return waitFor(what, probe, { timeout, describe: () => this.failureDetail(what) });
  }

  // -------------------------------------------------------------------------------------------
  // Quick input (command palette, quick pick, input box)
  // -------------------------------------------------------------------------------------------

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** The quick input's state: visible, typed value, placeholder, title, validation message, rows. */
  async quickInputState(): Promise<QuickInputState> {
    const closed: QuickInputState = { visible: false, value: '', placeholder: '', title: '', message: '', rows: [] };
    const w = this.quickInput.first();
    if (!(await w.count()) || !(await w.isVisible().catch(() => false))) return closed;
    type El = { textContent: string | null; value?: string; getAttribute(n: string): string | null; querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
    const st = await w
      .evaluate((e: El) => {
        const input = e.querySelector('.quick-input-box input');
        return {
          visible: true,
          value: input?.value ?? '',
          placeholder: input?.getAttribute('placeholder') ?? '',
          title: (e.querySelector('.quick-input-title')?.textContent ?? '').trim(),
          message: (e.querySelector('.quick-input-message')?.textContent ?? '').trim(),
          rows: Array.from(e.querySelectorAll('.monaco-list-row')).map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').trim()),
        };
      })
      .catch(() => closed);
    return st;
  }

  /** Labels of the quick input's visible rows (aria-label: label, description, detail). */
  async quickInputRows(): Promise<string[]> {
    return (await this.quickInputState()).rows;
  }

  /** Waits until the quick input is open and returns its input box. */
  async waitForQuickInput(what = 'the quick input to open'): Promise<Locator> {
    await this.waitFor(what, async () => (await this.quickInputState()).visible);
    return this.quickInput.locator('.quick-input-box input').first();
  }

  /** After Enter/click: waits until the quick input closed or moved on to another question. */
  private async quickInputAdvanced(before: QuickInputState, what: string): Promise<void> {
    await this.waitFor(`the quick input to close or ask the next question after ${what}`, async () => {
      const s = await this.quickInputState();
      return !s.visible || s.value !== before.value || s.placeholder !== before.placeholder || s.title !== before.title;
    });
  }

  /**
   * Runs a command from the command palette by its title, with or without its category
   * ("Orchestrator: Validate Workflow" or "Validate Workflow"). Returns once the palette closed or
   * the command opened its own quick input (answer it with quickPick / quickInputAnswer).
   */
  async runCommand(title: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+Shift+P');
    const input = await this.waitForQuickInput('the command palette to open (Ctrl+Shift+P)');
    await input.fill(`>${title}`);
    const want = title.trim().toLowerCase();
    const row = await this.waitFor(`a command titled ${q(title)} in the command palette`, () =>
      findRow(this.quickInput.locator('.monaco-list-row'), (r) => {
        const label = r.label.toLowerCase();
        return label === want || label.endsWith(`: ${want}`);
      }),
    );
    const before = await this.quickInputState();
    await row.click();
    await this.quickInputAdvanced(before, `running ${q(title)}`);
  }

  /** Types `text` into the open quick input (replacing what is there) and presses Enter. */
  async quickInputAnswer(text: string): Promise<void> {
    const input = await this.waitForQuickInput(`the quick input to answer ${q(text)}`);
    await input.fill(text);
    const s = await this.quickInputState();
    await input.press('Enter');
    await this.quickInputAdvanced(s, `answering ${q(text)}`);
  }

  /**
   * Picks the row of the open quick pick whose label matches (a string: the row's label, or the
   * start of its aria-label; a RegExp: tested on the label and the aria-label). A string is typed
   * as a filter first; with a RegExp, `filter` is typed if given, and rows below the fold are
   * reached by paging down the list.
   */
  async quickPick(label: TextMatch, filter?: string): Promise<void> {
    const input = await this.waitForQuickInput(`a quick pick to choose ${show(label)}`);
    const typed = filter ?? (typeof label === 'string' ? label : undefined);
    if (typed !== undefined) await input.fill(typed);
    let lastFocus = '';
    const row = await this.waitFor(`a row ${show(label)} in the quick pick`, async () => {
      const rows = this.quickInput.locator('.monaco-list-row');
      const found = await findRow(rows, (r) =>
        typeof label === 'string'
          ? r.label.toLowerCase() === label.toLowerCase() || r.aria.toLowerCase().startsWith(label.toLowerCase())
          : label.test(r.label) || label.test(r.aria),
      );
      if (found) return found;
      // Not rendered (the list is virtual): page down while that moves the focus (not at the end).
      const focused = (await input.getAttribute('aria-activedescendant').catch(() => '')) ?? '';
      if (focused !== lastFocus) {
        lastFocus = focused;
        await input.press('PageDown');
      }
      return undefined;
    });
    const s = await this.quickInputState();
    await row.click();
    await this.quickInputAdvanced(s, `picking ${show(label)}`);
  }

  /** Closes the quick input if it is open (Escape). */
  async closeQuickInput(): Promise<void> {
    if (!(await this.quickInputState()).visible) return;
    await this.page.keyboard.press('Escape');
    await this.waitFor('the quick input to close', async () => !(await this.quickInputState()).visible);
  }

  // -------------------------------------------------------------------------------------------
  // Editors
  // -------------------------------------------------------------------------------------------

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab to be active. */
  async openFile(relPath: string): Promise<void> {
    const base = path.basename(relPath);
    const dir = path.dirname(relPath);
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+P');
    const input = await this.waitForQuickInput('Quick Open to open (Ctrl+P)');
    await input.fill(relPath);
    // A row's label is the file name, its description the folder ("broken.yaml  .orchestrator/workflows").
    const row = await this.waitFor(`${q(relPath)} among Quick Open's results`, () =>
      findRow(this.quickInput.locator('.monaco-list-row'), (r) => r.label === base && (dir === '.' || r.description === dir || r.description.endsWith(`/${dir}`))),
    );
    await row.click();
    await this.waitForActiveEditor(base);
  }

  /** Waits until the active editor tab's label is `name` (a file name), and returns the tab. */
  async waitForActiveEditor(name: TextMatch): Promise<Locator> {
    return this.waitFor(`the active editor to be ${show(name)}`, async () => {
      const tab = this.page.locator('.editor-group-container.active .tabs-container .tab.active').first();
      if (!(await tab.count())) return undefined;
      // The tab's aria-label is the file name (its .label-name holds the name without the extension).
      const label = ((await tab.getAttribute('aria-label', { timeout: 1000 }).catch(() => '')) ?? '').trim();
      return matches(name, label) ? tab : undefined;
    });
  }

  /** The text of the active editor, as Monaco renders its visible lines. */
  async editorText(): Promise<string> {
    const lines = this.page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line');
    return (await lines.allTextContents()).join('\n').replace(/\u00a0/g, ' ');
  }

  /** The two sides of the active diff editor as Monaco renders their visible lines ('' for an empty side); undefined when the active editor is no diff. */
  async diffEditorText(): Promise<{ original: string; modified: string } | undefined> {
    const diff = this.page.locator('.editor-group-container.active .monaco-diff-editor').first();
    if (!(await diff.count())) return undefined;
    const side = async (cls: string) => (await diff.locator(`.editor.${cls} .view-lines .view-line`).allTextContents()).join('\n').replace(/\u00a0/g, ' ');
    return { original: await side('original'), modified: await side('modified') };
  }

  // -------------------------------------------------------------------------------------------
  // Modal dialogs (showWarningMessage with modal: true, …)
  // -------------------------------------------------------------------------------------------

  /** Waits for a modal dialog and returns its message (with its detail) and its buttons. */
  async dialog(): Promise<{ text: string; buttons: string[] }> {
    const box = this.page.locator('.monaco-dialog-box').first();
    return this.waitFor('a modal dialog', async () => {
      if (!(await box.isVisible().catch(() => false))) return undefined;
      const text = ((await box.locator('.dialog-message-container').first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
      const buttons = (await box.locator('.dialog-buttons .monaco-button').allTextContents()).map((b) => b.trim()).filter(Boolean);
      return { text, buttons };
    });
  }

  /** Clicks a button of the modal dialog and waits for the dialog to close. */
  async clickDialogButton(label: string): Promise<void> {
    await this.page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: label }).first().click();
    await this.waitFor('the dialog to close', async () => !(await this.page.locator('.monaco-dialog-box').first().isVisible().catch(() => false)));
  }

  // -------------------------------------------------------------------------------------------
  // Activity bar, views, trees
  // -------------------------------------------------------------------------------------------

  /** Labels of the activity bar's items (e.g. "Explorer (Ctrl+Shift+E)", "Orchestrator"). */
  async activityBarItems(): Promise<string[]> {
    return await this.page
      .locator('.part.activitybar .action-item .action-label')
      .evaluateAll((els: { getAttribute(n: string): string | null }[]) => els.map((e) => e.getAttribute('aria-label') ?? '').filter(Boolean));
  }

  /**
   * Shows the view container whose activity bar item's aria-label is `title` (or starts with
   * "<title> (", e.g. "Explorer" for "Explorer (Ctrl+Shift+E)"). Does not toggle it closed when
   * it is already shown.
   */
  async openActivityBarView(title: TextMatch): Promise<void> {
    const items = this.page.locator('.part.activitybar .action-item .action-label');
    let there: string[] = [];
    const item = await this.waitFor(`an activity bar item ${show(title)}`, async () => {
      there = await this.activityBarItems();
      return findRow(items, (r) => (typeof title === 'string' ? matches(title, r.aria) || r.aria.toLowerCase().startsWith(`${title.toLowerCase()} (`) || r.aria.toLowerCase().startsWith(`${title.toLowerCase()} - `) : title.test(r.aria)));
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nactivity bar items:\n${list(there)}`);
    });
    // Clicking the item of the container already shown would hide the side bar: check first.
    const li = item.locator('xpath=ancestor::li[1]');
    const isOpen = async () => /\bchecked\b/.test((await li.getAttribute('class')) ?? '') && (await this.page.locator('.part.sidebar').first().isVisible());
    // force: a badge (counts, or a view's progress) sits over the icon and takes the click; it bubbles to the item.
    if (!(await isOpen())) await item.click({ force: true });
    // Right after a (re)load a click can land before the workbench listens (and a second click
    // would toggle the side bar away): after 5 s, ask with the command "View: Show <title>" instead.
    const t0 = Date.now();
    let asked = false;
    await this.waitFor(`the view container ${show(title)} to be shown`, async () => {
      if (await isOpen()) return true;
      if (!asked && typeof title === 'string' && Date.now() - t0 > 5000) {
        asked = true;
        await this.runCommand(`View: Show ${title}`).catch(() => undefined);
      }
      return false;
    });
  }

  /**
   * Shows a view by its title with "View: Open View" (works wherever the view lives: side bar,
   * panel, secondary side bar).
   */
  async openView(title: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+P');
    const input = await this.waitForQuickInput('Quick Open to open (Ctrl+P)');
    await input.fill(`view ${title}`);
    await this.quickPick(new RegExp(`^${escapeRegExp(title)}\\b`, 'i'));
    await this.pane(title);
  }

  /**
   * The pane (a view in a side bar or the panel) whose header title is `viewTitle` (case-
   * insensitive). A view alone in its container has no visible header; its container's title
   * ("Orchestrator: Sessions" or just "Sessions") is accepted too.
   */
  async pane(viewTitle: string): Promise<Locator> {
    const want = viewTitle.trim().toLowerCase();
    type El = { textContent: string | null; querySelector(s: string): El | null; checkVisibility(): boolean };
    return this.waitFor(`a visible view titled ${q(viewTitle)}`, async () => {
      const panes = this.page.locator('.pane');
      const titles = await panes.evaluateAll((els: El[]) =>
        els.map((e) => (e.checkVisibility() ? (e.querySelector('.pane-header h3.title')?.textContent ?? '').trim().toLowerCase() : null)),
      );
      const i = titles.indexOf(want);
      if (i >= 0) return panes.nth(i);
      // A single view: the composite title carries its name.
      const comps = this.page.locator('.part.sidebar, .part.auxiliarybar, .part.panel');
      const m = await comps.count();
      for (let i = 0; i < m; i++) {
        const c = comps.nth(i);
        if (!(await c.isVisible())) continue;
        const titles = (await c.locator('.composite.title h2').allTextContents()).map((s) => s.trim().toLowerCase());
        if (titles.some((t) => t === want || t.endsWith(`: ${want}`))) {
          const visiblePanes = c.locator('.pane');
          if ((await visiblePanes.count()) === 1) return visiblePanes.first();
        }
      }
      return undefined;
    });
  }

  /** Expands the view's pane when it is collapsed (clicks its header). */
  async expandPane(viewTitle: string): Promise<Locator> {
    const pane = await this.pane(viewTitle);
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
      await this.waitFor(`the view ${q(viewTitle)} to expand`, async () => (await header.getAttribute('aria-expanded')) !== 'false');
    }
    return pane;
  }

  /** The text of a view's body: its welcome content when it has no rows ("No sessions yet. …"), else its rows' text. */
  async viewText(viewTitle: string): Promise<string> {
    const pane = await this.expandPane(viewTitle);
    return ((await pane.locator('.pane-body').first().innerText()) ?? '').trim();
  }

  /** Clicks a button or link in a view's body (e.g. a welcome view's "Start Orchestration"). */
  async clickInView(viewTitle: string, text: TextMatch): Promise<void> {
    const pane = await this.expandPane(viewTitle);
    const target = await this.waitFor(`a button or link ${show(text)} in the view ${q(viewTitle)}`, () =>
      findRow(pane.locator('.pane-body .monaco-button, .pane-body a'), (r) => matches(text, r.text)),
    );
    await target.click();
  }

  /** The rendered rows of a tree/list view (aria-label, else their text), top to bottom. */
  async treeRows(viewTitle: string): Promise<string[]> {
    const pane = await this.expandPane(viewTitle);
    return rowTexts(pane.locator('.monaco-list-row'));
  }

  /** Waits until a row of the view matches and returns its text. */
  async waitForTreeRow(viewTitle: string, match: RegExp | ((row: string) => boolean), timeout = TIMEOUT): Promise<string> {
    const test = typeof match === 'function' ? match : (r: string) => match.test(r);
    let last: string[] = [];
    return this.waitFor(
      `a row ${typeof match === 'function' ? 'accepted by the predicate' : String(match)} in the view ${q(viewTitle)}`,
      async () => {
        last = await this.treeRows(viewTitle);
        return last.find(test);
      },
      timeout,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nrows of ${q(viewTitle)}:\n${list(last)}`);
    });
  }

  /** Waits until no row of the view matches. */
  async waitForNoTreeRow(viewTitle: string, match: RegExp, timeout = TIMEOUT): Promise<void> {
    await this.waitFor(`no row ${String(match)} in the view ${q(viewTitle)}`, async () => !(await this.treeRows(viewTitle)).some((r) => match.test(r)), timeout);
  }

  /** The first rendered row (in `viewTitle`, else anywhere in the side bars and panel) matching `row`. */
  async treeRow(row: RegExp, viewTitle?: string): Promise<Locator> {
    const scope = viewTitle ? await this.expandPane(viewTitle) : this.page.locator('.part.sidebar, .part.auxiliarybar, .part.panel');
    return this.waitFor(`a row ${String(row)}${viewTitle ? ` in the view ${q(viewTitle)}` : ''}`, () =>
      findRow(scope.locator('.monaco-list-row'), (r) => row.test(r.aria || r.text)),
    );
  }

  /** Expands a collapsed tree row (by its twistie) and waits for it to be expanded. */
  async expandTreeRow(row: RegExp, viewTitle?: string): Promise<void> {
    const r = await this.treeRow(row, viewTitle);
    if ((await r.getAttribute('aria-expanded')) === 'false') {
      await r.locator('.monaco-tl-twistie').first().click();
      await this.waitFor(`the row ${String(row)} to expand`, async () => (await r.getAttribute('aria-expanded')) !== 'false');
    }
  }

  /** Clicks a tree row (runs its command, selects it). */
  async clickTreeRow(row: RegExp, viewTitle?: string): Promise<void> {
    await (await this.treeRow(row, viewTitle)).click();
  }

  /** Hovers a tree row and clicks its inline action (the icon buttons at the row's right) by title. */
  async treeRowAction(row: RegExp, actionTitle: TextMatch, viewTitle?: string): Promise<void> {
    const r = await this.treeRow(row, viewTitle);
    await r.hover();
    const action = await this.waitFor(`an inline action ${show(actionTitle)} on the row ${String(row)}`, () =>
      findRow(r.locator('.actions .action-label'), (a) => matches(actionTitle, a.aria) || (typeof actionTitle === 'string' && a.aria.toLowerCase().startsWith(`${actionTitle.toLowerCase()} (`))),
    );
    await action.click();
  }

  /**
   * Hovers a tree row's label and returns the text of the hover it raises (its tooltip) once that
   * matches `match` (default: any text). The hover comes after `workbench.hover.delay`.
   */
  async treeRowTooltip(row: RegExp, viewTitle?: string, match: RegExp = /\S/): Promise<string> {
    const r = await this.treeRow(row, viewTitle);
    await r.locator('.monaco-icon-label, .label-name').first().hover();
    let seen: string[] = [];
    return this.waitFor(`the tooltip of the row ${String(row)} to match ${String(match)}`, async () => {
      seen = await this.page.locator('.workbench-hover, .monaco-hover').evaluateAll((els: { innerText: string; checkVisibility(): boolean }[]) => els.filter((e) => e.checkVisibility()).map((e) => e.innerText.trim()));
      return seen.find((t) => match.test(t));
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nhovers on screen:\n${list(seen)}`);
    });
  }

  /** Right-clicks a row (of `viewTitle`, else any view) and clicks `actionTitle` in its context menu. */
  async contextMenu(row: RegExp, actionTitle: TextMatch, viewTitle?: string): Promise<void> {
    const r = await this.treeRow(row, viewTitle);
    await r.click({ button: 'right' });
    await this.waitFor(`a context menu on the row ${String(row)}`, () => this.page.locator('.monaco-menu').first().isVisible());
    await this.clickMenuItem(actionTitle);
  }

  /** Labels of the open context menu's items. */
  async menuItems(): Promise<string[]> {
    return rowTexts(this.page.locator('.monaco-menu .action-item:not(.disabled) .action-label'), 'aria-label');
  }

  /** Clicks an item of the open context menu. */
  async clickMenuItem(actionTitle: TextMatch): Promise<void> {
    let last: string[] = [];
    const item = await this.waitFor(`a context menu item ${show(actionTitle)}`, async () => {
      last = await this.menuItems();
      return findRow(this.page.locator('.monaco-menu .action-item:not(.disabled) .action-label'), (r) => matches(actionTitle, r.aria || r.text));
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nmenu items:\n${list(last)}`);
    });
    // A menu ignores a click that comes while it is still opening: click again until it closes.
    const closed = async () => !(await this.page.locator('.monaco-menu').first().isVisible().catch(() => false));
    for (let attempt = 0; attempt < 3; attempt++) {
      await item.click({ timeout: 5000 }).catch(() => undefined);
      if (await waitFor('', closed, { timeout: 2000 }).then(() => true, () => false)) return;
    }
    await this.waitFor(`the context menu to close after clicking ${show(actionTitle)}`, closed);
  }

  // -------------------------------------------------------------------------------------------
  // Problems, notifications, output
  // -------------------------------------------------------------------------------------------

  /** Shows the Problems panel (when hidden) and returns its rows: file rows, then one per problem. */
  async problems(): Promise<string[]> {
    const panel = await this.problemsPanel();
    type El = { getAttribute(n: string): string | null; textContent: string | null; querySelector(s: string): El | null; className: string };
    return await panel.locator('.monaco-list-row').evaluateAll((els: El[]) =>
      els.map((e) => {
        // (No named inner functions here: tsx would wrap them in a __name() the page does not have.)
        const [message, source, code, line, file] = ['.marker-message', '.marker-source', '.marker-code', '.marker-line', '.monaco-tl-contents'].map((sel) =>
          (e.querySelector(sel)?.textContent ?? '').trim().replace(/\s+/g, ' '),
        );
        // A file row: its aria-label ("1 problems in file broken.yaml of folder .orchestrator/workflows").
        if (!e.querySelector('.marker-message-details-container')) return (e.getAttribute('aria-label') ?? file).trim();
        // A problem: "Error: <message> <source>(<code>) [Ln 8, Col 13]", as the panel shows it.
        const icon = e.querySelector('.marker-icon')?.className ?? '';
        const severity = /\berror\b/.test(icon) ? 'Error' : /\bwarning\b/.test(icon) ? 'Warning' : 'Info';
        return `${severity}: ${message} ${source}${code ? `(${code})` : ''} ${line}`.trim();
      }),
    );
  }

  private async problemsPanel(): Promise<Locator> {
    const panel = this.page.locator('.markers-panel').first();
    if (!(await panel.isVisible().catch(() => false))) {
      // Not Ctrl+Shift+M: it toggles, and would close a panel that is just opening.
      await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
      await this.waitFor('the Problems panel to open', () => panel.isVisible());
    }
    return panel;
  }

  /** Waits until a row of the Problems panel matches (e.g. /unknown-need/) and returns its text. */
  async waitForProblem(match: RegExp, timeout = TIMEOUT): Promise<string> {
    let last: string[] = [];
    return this.waitFor(
      `a problem ${String(match)} in the Problems panel`,
      async () => {
        last = await this.problems();
        return last.find((r) => match.test(r));
      },
      timeout,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nProblems panel rows:\n${list(last)}`);
    });
  }

  /** The texts of the notification toasts on screen (message, then its source and buttons). */
  async notifications(): Promise<string[]> {
    return rowTexts(this.page.locator('.notifications-toasts .notification-toast .notification-list-item-message'), '');
  }

  /** The toasts on screen with their buttons: "<message> [Button] [Button]" (for error messages). */
  async notificationsWithButtons(): Promise<string[]> {
    type El = { textContent: string | null; querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
    return await this.page.locator('.notifications-toasts .notification-toast .monaco-list-row').evaluateAll((els: El[]) =>
      els.map((e) =>
        [(e.querySelector('.notification-list-item-message')?.textContent ?? '').trim()]
          .concat(Array.from(e.querySelectorAll('.notification-list-item-buttons-container .monaco-button')).map((b) => `[${(b.textContent ?? '').trim()}]`))
          .join(' '),
      ),
    );
  }

  /** Waits for a toast whose text matches, and returns it. */
  async waitForNotification(match: RegExp, timeout = TIMEOUT): Promise<string> {
    return this.waitFor(`a notification ${String(match)}`, async () => (await this.notifications()).find((t) => match.test(t)), timeout);
  }

  /** Clicks a button (e.g. "Restart Host") of a notification toast, optionally only of the toast matching `toast`. */
  async clickNotificationButton(text: TextMatch, toast?: RegExp): Promise<void> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast .monaco-list-row');
    const button = await this.waitFor(`a notification button ${show(text)}${toast ? ` on a toast ${String(toast)}` : ''}`, async () => {
      const scope = toast ? await findRow(toasts, (r) => toast.test(r.text)) : toasts;
      return scope && findRow(scope.locator('.notification-list-item-buttons-container .monaco-button'), (b) => matches(text, b.text));
    });
    await button.click();
  }

  /** Text of the status bar items (aria-labels), e.g. to check "Restricted Mode". */
  async statusBarItems(): Promise<string[]> {
    return rowTexts(this.page.locator('.part.statusbar .statusbar-item'), 'aria-label');
  }

  /** @internal Restricted Mode must show for trust=false; fails clearly if the folder was trusted. */
  async expectRestrictedMode(): Promise<void> {
    await this.waitFor('Restricted Mode (the folder must not be trusted)', async () => (await this.page.locator(RESTRICTED).count()) > 0);
  }

  /** Whether the window is in Restricted Mode (Workspace Trust on and the folder not trusted). */
  async isRestricted(): Promise<boolean> {
    return (await this.page.locator(RESTRICTED).count()) > 0;
  }
}
