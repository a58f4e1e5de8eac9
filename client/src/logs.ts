/**
 * Live step logs in editor tabs: a read-only virtual document per step (`orchestrator-log:`),
 * filled by `followLog` and then by the host's `logAppended` notifications as the step prints.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { FollowLogRequest, LogAppendedNotification, UnfollowLogRequest } from './protocol';

export const LOG_SCHEME = 'orchestrator-log';

interface Doc {
  session: string;
  step: string;
  attempt: number;
  text: string;
  following: boolean;
}

/** `orchestrator-log:/SESSION/STEP.log` (the step id is encoded; matrix ids have brackets). */
export function logUri(session: string, step: string): vscode.Uri {
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${session}/${encodeURIComponent(step)}.log` });
}

function parse(uri: vscode.Uri): { session: string; step: string } | undefined {
  const m = /^\/([^/]+)\/(.+)\.log$/.exec(uri.path);
  return m ? { session: m[1], step: decodeURIComponent(m[2]) } : undefined;
}

export class LogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, Doc>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly ctx: Ctx) {
    this.subs = [
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this),
      ctx.onNotification(LogAppendedNotification, (n) => {
        const key = logUri(n.id, n.step).toString();
        const d = this.docs.get(key);
        if (!d) return;
        if (n.reset) {
          d.attempt = n.attempt;
          d.text = `── attempt ${n.attempt} ──\n`;
        }
        d.text += n.text;
        this.changedSoon(key);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme !== LOG_SCHEME) return;
        const d = this.docs.get(doc.uri.toString());
        if (!d) return;
        this.docs.delete(doc.uri.toString());
        if (d.following) void this.ctx.send(UnfollowLogRequest, { id: d.session, step: d.step }).catch(() => undefined);
      }),
      // After a host restart, follow again (the new host knows nothing of the old follows).
      ctx.onDidStartHost(() => {
        for (const [key, d] of this.docs) if (d.following) void this.follow(vscode.Uri.parse(key), d);
      }),
    ];
  }

  /** Opens (or shows) the live log tab of a step. */
  async open(session: string, step: string): Promise<void> {
    const uri = logUri(session, step);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'log').then(undefined, () => doc);
    await vscode.window.showTextDocument(uri, { preview: false });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    const have = this.docs.get(key);
    if (have) return have.text;
    const ref = parse(uri);
    if (!ref) return `not a step log: ${key}`;
    const d: Doc = { ...ref, attempt: 0, text: '', following: false };
    this.docs.set(key, d);
    try {
      await this.follow(uri, d);
    } catch (e) {
      d.text = `Could not open the log of ${ref.step} in session ${ref.session}: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    return d.text;
  }

  private async follow(uri: vscode.Uri, d: Doc): Promise<void> {
    const r = await this.ctx.send(FollowLogRequest, { id: d.session, step: d.step });
    d.following = true;
    d.attempt = r.attempt;
    const head = r.attempt === 0 ? `(${d.step} has not started yet; its output will appear here)\n` : r.attempt > 1 ? `── attempt ${r.attempt} ──\n` : '';
    d.text = head + (r.skippedBytes ? `… (${r.skippedBytes} bytes before this are in the step's log file)\n` : '') + r.text;
    this.changed.fire(uri);
  }

  /** Coalesces updates (a chatty step prints many lines a second). */
  private changedSoon(key: string): void {
    this.pending.add(key);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      for (const k of this.pending) this.changed.fire(vscode.Uri.parse(k));
      this.pending.clear();
    }, 100);
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const s of this.subs) s.dispose();
  }
}
