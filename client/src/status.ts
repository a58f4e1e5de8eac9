/**
 * The status bar item while sessions run, and notifications: toasts for what needs the user (a
 * session failed or was interrupted, an approval waits, a step is stuck; interrupted sessions are
 * offered once after a start), status bar messages for the rest (a start, a success, a cancel).
 * What each says and where is announce.ts.
 */
import * as vscode from 'vscode';
import { readConfig } from './config';
import type { SessionModel } from './model';
import type { SessionSummary, StepState } from './protocol';
import { endAnnouncement, isNewEnd, statusBarView } from './announce';
const OFFERED_KEY = 'orchestrator.offeredResume';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('orchestrator.sessions', vscode.StatusBarAlignment.Left, 50);
  private readonly subs: vscode.Disposable[];

  constructor(private readonly model: SessionModel) {
    this.item.name = 'Orchestrator Sessions';
    this.item.command = 'orchestrator.sessions.focus';
    this.subs = [this.item, model.onDidChangeSession(() => this.update()), model.onDidChangeStuck(() => this.update())];
  }

  update(): void {
    const v = statusBarView(this.model.sessions(), this.model.stuck().length);
    if (!v) return this.item.hide();
    this.item.text = v.text;
    this.item.tooltip = new vscode.MarkdownString(v.tooltip);
    this.item.backgroundColor = v.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: v.accessibility };
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

export class Notifier implements vscode.Disposable {
  private readonly subs: vscode.Disposable[];
  /** Approvals already announced (session:step:attempt). */
  private readonly asked = new Set<string>();

  constructor(private readonly model: SessionModel, private readonly state: vscode.Memento) {
    this.subs = [
      model.onDidChangeSession((c) => {
        if (!c) return void this.offerInterrupted();
        if (c.previous && isNewEnd(c.previous, c.summary)) this.transition(c.summary);
      }),
      model.onDidChangeSteps((c) => {
        for (const st of c.steps) this.approval(c.id, st);
      }),
      model.onDidStepGetStuck((n) => {
        if (!readConfig().notifications) return;
        const s = model.summary(n.id);
        const what = s ? `${s.workflow} (${n.id})` : n.id;
        void vscode.window.showWarningMessage(`Orchestrator: step ${n.step} of ${what} has printed nothing since ${new Date(n.lastHeardAt).toLocaleTimeString()}.`, 'Open Log', 'Retry', 'Cancel Session').then((pick) => {
          const arg = { id: n.id, step: n.step };
          if (pick === 'Open Log') void vscode.commands.executeCommand('orchestrator.openLog', arg);
          if (pick === 'Retry') void vscode.commands.executeCommand('orchestrator.retryStep', arg);
          if (pick === 'Cancel Session') void vscode.commands.executeCommand('orchestrator.cancelSession', n.id);
        });
      }),
    ];
  }

  /** How many times each session has ended so (failed, interrupted...) while this window watched. */
  private readonly ends = new Map<string, number>();

  private transition(s: SessionSummary): void {
    if (!readConfig().notifications) return;
    const key = `${s.id}:${s.status}`;
    const nth = (this.ends.get(key) ?? 0) + 1;
    this.ends.set(key, nth);
    const a = endAnnouncement(s, nth, new Date(s.finishedAt ?? s.updatedAt).toLocaleTimeString());
    if (!a) return;
    if (a.where === 'statusBar') return void vscode.window.setStatusBarMessage(a.message, 10_000);
    const show = a.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(a.message, ...a.buttons).then((p) => this.act(p, s));
  }

  private approval(id: string, st: StepState): void {
    if (st.status !== 'waiting' || !st.approval || st.approval.answer) return;
    const key = `${id}:${st.id}:${st.attempt}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    if (!readConfig().notifications) return;
    const s = this.model.summary(id);
    void vscode.window.showWarningMessage(`Orchestrator: ${s?.workflow ?? id} asks: ${st.approval.question} (session ${id}, step ${st.id}${st.attempt > 1 ? `, attempt ${st.attempt}` : ''})`, 'Approve', 'Reject', 'Show Session').then((p) => {
      const arg = { id, step: st.id };
      if (p === 'Approve') void vscode.commands.executeCommand('orchestrator.approveStep', arg);
      if (p === 'Reject') void vscode.commands.executeCommand('orchestrator.rejectStep', arg);
      if (p === 'Show Session') void vscode.commands.executeCommand('orchestrator.sessions.focus');
    });
  }

  /** After a start or reload: interrupted sessions not offered before get one offer to resume. */
  private offerInterrupted(): void {
    const offered = new Set(this.state.get<string[]>(OFFERED_KEY, []));
    const fresh = this.model.sessions().filter((s) => s.status === 'interrupted' && !offered.has(s.id));
    if (!fresh.length) return;
    for (const s of fresh) offered.add(s.id);
    void this.state.update(OFFERED_KEY, [...offered].slice(-200));
    if (!readConfig().notifications) return;
    const msg = fresh.length === 1 ? `Orchestrator: session ${fresh[0].id} of ${fresh[0].workflow} was interrupted (its runner stopped).` : `Orchestrator: ${fresh.length} sessions were interrupted (their runners stopped).`;
    void vscode.window.showWarningMessage(msg, fresh.length === 1 ? 'Resume' : 'Pick One to Resume').then((p) => {
      if (p === 'Resume') void vscode.commands.executeCommand('orchestrator.resumeSession', fresh[0].id);
      if (p === 'Pick One to Resume') void vscode.commands.executeCommand('orchestrator.resumeSession');
    });
  }

  private act(pick: string | undefined, s: SessionSummary): void {
    if (pick === 'Show Findings') void vscode.commands.executeCommand('orchestrator.showFindings', s.id);
    if (pick === 'Show Graph') void vscode.commands.executeCommand('orchestrator.showGraph', s.id);
    if (pick === 'Resume') void vscode.commands.executeCommand('orchestrator.resumeSession', s.id);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
