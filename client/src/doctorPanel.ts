/**
 * *Orchestrator: Doctor*: the host's doctor report in a panel (doctorHtml.ts), each check with its
 * fix and a button where one can be applied. A fix goes to the host (DoctorFixRequest), which
 * checks again; a resume goes through *Resume Session* (trust, and the question about a changed
 * workflow file), then the checks run again.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { doctorHtml, type DoctorPage } from './doctorHtml';
import { DoctorFixRequest, DoctorRequest } from './protocol';

const VIEW_TYPE = 'orchestrator.doctor';

class DoctorPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly ctx: Ctx) {}

  async show(): Promise<void> {
    if (this.panel) this.panel.reveal();
    else {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Orchestrator: Doctor', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
      this.panel = panel;
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
      });
      panel.webview.onDidReceiveMessage((m: { type?: string; action?: unknown }) => {
        if (m?.type === 'rerun') void this.check();
        else if (m?.type === 'fix' && typeof m.action === 'string') void this.fix(m.action);
      });
    }
    await this.check();
  }

  private render(page: DoctorPage): void {
    const w = this.panel?.webview;
    if (w) w.html = doctorHtml(page, crypto.randomBytes(16).toString('base64'), w.cspSource);
  }

  private async check(): Promise<void> {
    this.render({ busy: true });
    try {
      this.render({ report: await this.ctx.send(DoctorRequest, {}) });
    } catch (e) {
      this.render({ error: `Doctor could not run: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  private async fix(action: string): Promise<void> {
    const colon = action.indexOf(':');
    const kind = colon < 0 ? action : action.slice(0, colon);
    const id = colon < 0 ? '' : action.slice(colon + 1);
    if (kind === 'resume' && id) {
      // The editor's own resume: trust, and what to do when the workflow file changed.
      await vscode.commands.executeCommand('orchestrator.resumeSession', id);
      await this.check();
      return;
    }
    try {
      const { outcome, report } = await this.ctx.send(DoctorFixRequest, { action });
      this.ctx.output.info(`doctor ${action}: ${outcome.message}`);
      this.render({ report, outcome });
    } catch (e) {
      this.render({ error: `The fix did not run: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

export function registerDoctorCommand(ctx: Ctx): vscode.Disposable[] {
  const panel = new DoctorPanel(ctx);
  return [panel, vscode.commands.registerCommand('orchestrator.doctor', () => panel.show())];
}
