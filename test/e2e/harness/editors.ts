/**
 * CodeServer's editor helpers: opening a workspace file with Quick Open, the active editor's tab
 * and text, the two sides of a diff editor, and modal dialogs (showWarningMessage with modal).
 */
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { QuickInputDriver } from './quick-input';
import { findRow } from './rows';
import { matches, q, show, type TextMatch } from './wait';

/** Editors and modal dialogs: see base.ts for the chain of layers. */
export abstract class EditorDriver extends QuickInputDriver {
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
}
