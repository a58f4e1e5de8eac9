/**
 * The status bar item while sessions run, and notifications that act: a session finished or
 * failed, an approval is waiting, a step is stuck, a session was interrupted (offered once).
 */
import * as vscode from 'vscode';
import { readConfig } from './config';
import type { SessionModel } from './model';
import type { SessionSummary, StepState } from './protocol';

const LIVE = (s: SessionSummary): boolean => s.status === 'running' || s.status === 'waiting';
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
    const live = this.model.sessions().filter(LIVE);
    if (!live.length) return this.item.hide();
    const waiting = live.filter((s) => s.status === 'waiting').length;
    const stuck = this.model.stuck().length;
    const done = live.reduce((n, s) => n + s.done, 0);
    const total = live.reduce((n, s) => n + s.total, 0);
    this.item.text = `$(sync~spin) ${live.length} running · ${done}/${total}${waiting ? ` $(bell) ${waiting}` : ''}${stuck ? ` $(warning) ${stuck}` : ''}`;
    this.item.tooltip = new vscode.MarkdownString(live.map((s) => `**${s.workflow}** \`${s.id}\` — ${s.status}, ${s.done}/${s.total} steps`).join('\n\n') + '\n\nClick to show the Sessions view.');
    this.item.backgroundColor = stuck || waiting ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Orchestrator: ${live.length} session(s) running, ${waiting} waiting for approval, ${stuck} stuck` };
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
        if (c.previous && c.previous.status !== c.summary.status) this.transition(c.summary);
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

  private transition(s: SessionSummary): void {
    if (!readConfig().notifications) return;
    const name = `${s.workflow} (${s.id})`;
    if (s.status === 'succeeded') {
      const buttons = s.findings ? ['Show Findings', 'Show Graph'] : ['Show Graph'];
      void vscode.window.showInformationMessage(`Orchestrator: ${name} succeeded — ${s.done}/${s.total} steps${s.findings ? `, ${s.findings} finding(s)` : ''}.`, ...buttons).then((p) => this.act(p, s));
    } else if (s.status === 'failed' || s.status === 'timed_out') {
      void vscode.window.showErrorMessage(`Orchestrator: ${name} ${s.status === 'failed' ? 'failed' : 'timed out'}${s.reason ? `: ${s.reason}` : ''}.`, 'Show Graph', 'Resume').then((p) => this.act(p, s));
    } else if (s.status === 'interrupted') {
      void vscode.window.showWarningMessage(`Orchestrator: ${name} was interrupted (its runner stopped)${s.reason ? `: ${s.reason}` : ''}.`, 'Resume').then((p) => this.act(p, s));
    }
  }

  private approval(id: string, st: StepState): void {
    if (st.status !== 'waiting' || !st.approval || st.approval.answer) return;
    const key = `${id}:${st.id}:${st.attempt}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    if (!readConfig().notifications) return;
    const s = this.model.summary(id);
    void vscode.window.showWarningMessage(`Orchestrator: ${s?.workflow ?? id} asks: ${st.approval.question}`, 'Approve', 'Reject', 'Show Session').then((p) => {
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
