/**
 * CodeServer: one running code-server with its browser page, and the helpers tests call on it
 * (`vs.runCommand(…)`, `vs.waitForTreeRow(…)`, …). Made by startCodeServer() (start.ts). Its
 * helpers live in the layers it extends, one file per area (the chain is described in base.ts);
 * this last layer adds describe(), the summary of every area that timeout errors carry.
 */
import { StatusDriver } from './status';
import { list, q } from './wait';

export class CodeServer extends StatusDriver {
  /** A text summary of the screen: editor tabs, quick input, notifications, views, status bar. */
  override async describe(): Promise<string> {
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
}
