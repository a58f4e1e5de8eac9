/**
 * CodeServer's quick input helpers: the command palette (runCommand), quick picks, input boxes,
 * and the quick input's state for assertions and error messages.
 */
import type { Locator } from 'playwright-core';
import { CodeServerBase } from './base';
import { findRow } from './rows';
import { q, show, type TextMatch } from './wait';


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

/** Quick input (command palette, quick pick, input box): see base.ts for the chain of layers. */
export abstract class QuickInputDriver extends CodeServerBase {
  // -------------------------------------------------------------------------------------------
  // Quick input (command palette, quick pick, input box)
  // -------------------------------------------------------------------------------------------

  protected get quickInput(): Locator {
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
}
