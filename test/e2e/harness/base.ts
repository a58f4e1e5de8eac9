/**
 * The base of CodeServer: one code-server process (started by start.ts) and its browser page.
 * Opening and stopping them, their logs, screenshots, and waitFor(), whose timeout error carries
 * describe() (what is on the screen) and a screenshot of that moment.
 *
 * CodeServer's helpers are split by area into a chain of classes, one file each, each layer
 * using the ones before it:
 *
 *   CodeServerBase (base.ts)          process, page, logs, screenshots, waitFor()
 *   → QuickInputDriver (quick-input.ts)  command palette, quick pick, input box
 *   → EditorDriver (editors.ts)          editors, diff editors, modal dialogs
 *   → ViewDriver (views.ts)              activity bar, views, trees, context menus
 *   → StatusDriver (status.ts)           Problems panel, notifications, status bar, Restricted Mode
 *   → CodeServer (code-server.ts)        describe(), which reads every area
 *
 * Tests see only CodeServer (through ../harness.ts).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { killGroup, liveServers, tempDirs } from './cleanup';
import { TIMEOUT } from './env';
import type { StartOptions } from './start';
import { waitFor } from './wait';
import { shotsDir } from './workspace';

export abstract class CodeServerBase {
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

  /** A text summary of the screen: editor tabs, quick input, notifications, views, status bar (CodeServer writes it: it reads every area). */
  abstract describe(): Promise<string>;

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
}
