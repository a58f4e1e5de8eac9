/**
 * CodeServer's view helpers: the activity bar, views (panes) wherever they live, tree rows
 * (the Sessions, Stuck and Findings trees: rows, waiting for them, expanding, clicking, inline
 * actions, tooltips), welcome views, and context menus.
 */
import type { Locator } from 'playwright-core';
import { EditorDriver } from './editors';
import { TIMEOUT } from './env';
import { findRow, rowTexts } from './rows';
import { escapeRegExp, list, matches, q, show, waitFor, type TextMatch } from './wait';

/** Activity bar, views, trees, context menus: see base.ts for the chain of layers. */
export abstract class ViewDriver extends EditorDriver {
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
    // A row drawn again under the click (a live session's duration ticks each second) can swallow
    // the right-click: right-click again when no menu opened, the last time waiting the full TIMEOUT.
    const opened = () => this.page.locator('.monaco-menu').first().isVisible();
    for (let click = 1; ; click++) {
      await (await this.treeRow(row, viewTitle)).click({ button: 'right' });
      if (click === 5) {
        await this.waitFor(`a context menu on the row ${String(row)}`, opened);
        break;
      }
      if (await waitFor('', opened, { timeout: 5_000 }).then(() => true, () => false)) break;
      console.log(`[e2e] no context menu on the row ${String(row)} after right-click ${click}; right-clicking again`);
    }
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
}
