/**
 * CodeServer's helpers for what the workbench reports: the Problems panel, notification toasts
 * (and their buttons), the status bar and Restricted Mode.
 */
import type { Locator } from 'playwright-core';
import { TIMEOUT } from './env';
import { findRow, rowTexts } from './rows';
import { ViewDriver } from './views';
import { list, matches, show, type TextMatch } from './wait';


/** Workspace Trust's status bar entry (shown only in Restricted Mode). */
const RESTRICTED = '#status\\.workspaceTrust, .statusbar-item[id="status.workspaceTrust"]';

/** Problems, notifications, status bar: see base.ts for the chain of layers. */
export abstract class StatusDriver extends ViewDriver {
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
