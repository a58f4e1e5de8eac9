/**
 * The DAG as a picture: a webview (media/graph.js, media/graph.css) under a strict CSP with no
 * remote resources, drawn in theme colours. A session's graph is redrawn as its steps change
 * (from pushed notifications); a plan's graph as its file is saved.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import type { SessionModel } from './model';
import { PlanRequest, SessionGraphRequest, type GraphDto } from './protocol';

type Source = { kind: 'session'; id: string } | { kind: 'plan'; uri: vscode.Uri };

const GRAPH_VIEW_TYPE = 'orchestrator.graph';

function nonce(): string {
  let s = '';
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

export class GraphPanels implements vscode.Disposable {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; source: Source; timer?: NodeJS.Timeout }>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly ctx: Ctx, model: SessionModel, private readonly onOpenStep: (session: string, step: string) => void) {
    this.subs = [
      model.onDidChangeSteps((c) => this.redrawSoon(`session:${c.id}`)),
      model.onDidChangeSession((c) => {
        if (c) this.redrawSoon(`session:${c.summary.id}`);
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => this.redrawSoon(`plan:${doc.uri.toString()}`)),
      ctx.onDidStartHost(() => {
        for (const key of this.panels.keys()) this.redrawSoon(key);
      }),
    ];
  }

  async showSession(id: string): Promise<void> {
    await this.show({ kind: 'session', id }, `Graph · ${id}`);
  }

  async showPlan(uri: vscode.Uri): Promise<boolean> {
    const plan = await this.ctx.send(PlanRequest, { uri: uri.toString() });
    if (!plan.ok) {
      const n = plan.problems.filter((p) => p.severity === 'error').length;
      const pick = await vscode.window.showErrorMessage(`Orchestrator: the workflow has ${n} error(s); fix them to see its plan.`, 'Show Problems');
      if (pick) await vscode.commands.executeCommand('workbench.actions.view.problems');
      return false;
    }
    await this.show({ kind: 'plan', uri }, `Plan · ${plan.workflow}`, plan.graph);
    return true;
  }

  private key(source: Source): string {
    return source.kind === 'session' ? `session:${source.id}` : `plan:${source.uri.toString()}`;
  }

  private async show(source: Source, title: string, graph?: GraphDto): Promise<void> {
    const key = this.key(source);
    const have = this.panels.get(key);
    if (have) {
      have.panel.reveal(undefined, true);
      await this.redraw(key);
      return;
    }
    const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media');
    const panel = vscode.window.createWebviewPanel(GRAPH_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: false });
    await this.adopt(panel, source, title, graph);
  }

  private async adopt(panel: vscode.WebviewPanel, source: Source, title: string, graph?: GraphDto): Promise<void> {
    const key = this.key(source);
    const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media');
    const w = panel.webview;
    const n = nonce();
    const script = w.asWebviewUri(vscode.Uri.joinPath(media, 'graph.js'));
    const style = w.asWebviewUri(vscode.Uri.joinPath(media, 'graph.css'));
    w.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${w.cspSource} data:; style-src ${w.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${title.replace(/[<>&]/g, '')}</title>
</head>
<body>
<div id="graph-root" role="region" aria-label="${title.replace(/["<>&]/g, '')}"></div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
    const entry: { panel: vscode.WebviewPanel; source: Source; timer?: NodeJS.Timeout } = { panel, source };
    this.panels.set(key, entry);
    panel.onDidDispose(() => {
      if (entry.timer) clearTimeout(entry.timer);
      this.panels.delete(key);
    });
    w.onDidReceiveMessage((m: { type?: string; step?: string }) => {
      if (m?.type === 'ready') void this.redraw(key);
      if (m?.type === 'openStep' && typeof m.step === 'string') {
        if (source.kind === 'session') this.onOpenStep(source.id, m.step);
        else void revealStep(source.uri, m.step);
      }
    });
    panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.visible) void this.redraw(key);
    });
    if (graph) await w.postMessage({ type: 'graph', graph });
    else await this.redraw(key);
  }

  private redrawSoon(key: string): void {
    const e = this.panels.get(key);
    if (!e || e.timer) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.redraw(key);
    }, 150);
  }

  private async redraw(key: string): Promise<void> {
    const e = this.panels.get(key);
    if (!e || !e.panel.visible) return;
    try {
      let graph: GraphDto;
      if (e.source.kind === 'session') graph = await this.ctx.send(SessionGraphRequest, { id: e.source.id });
      else {
        const plan = await this.ctx.send(PlanRequest, { uri: e.source.uri.toString() });
        if (!plan.ok) return; // keep the last good picture while the file has errors
        graph = plan.graph;
      }
      await e.panel.webview.postMessage({ type: 'graph', graph });
    } catch (err) {
      this.ctx.output.warn(`graph ${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  dispose(): void {
    for (const e of this.panels.values()) e.panel.dispose();
    for (const s of this.subs) s.dispose();
  }
}

/** Puts the cursor on a step's `id:` in its workflow file. */
async function revealStep(uri: vscode.Uri, step: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const base = step.replace(/\[.*$/, '');
  const m = new RegExp(`^\\s*(-\\s*)?id:\\s*['"]?${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?\\s*$`, 'm').exec(doc.getText());
  const pos = m ? doc.positionAt(m.index + m[0].indexOf('id:')) : new vscode.Position(0, 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
}
