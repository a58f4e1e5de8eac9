/** Session commands: the Sessions/Stuck/Findings views' menus and the command palette. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { GraphPanels } from '../graphPanel';
import type { LogDocuments } from '../logs';
import type { SessionModel } from '../model';
import { pickSession, pickStep, targetOf } from '../pick';
import {
  ApproveStepRequest,
  CancelSessionRequest,
  CheckDefinitionRequest,
  DeleteSessionRequest,
  ExportSessionRequest,
  ImportSessionRequest,
  PauseSessionRequest,
  RejectStepRequest,
  ResumeSessionRequest,
  RetryStepRequest,
  RUN_WORKFLOW_COMMAND,
  type DefinitionFlags,
  type SessionSummary,
} from '../protocol';
import { resumeQuestion } from '../resumeQuestion';
import type { TreeRow } from '../views/nodes';
import { workspaceRoot } from '../views/providers';

const LIVE = (s: SessionSummary): boolean => s.status === 'running' || s.status === 'waiting';

/** Refuses in an untrusted workspace with a way to change it. */
export async function requireTrust(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const pick = await vscode.window.showWarningMessage(`Orchestrator: this workspace is not trusted, so nothing runs here (${what} refused). Validation and viewing still work.`, 'Manage Workspace Trust');
  if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** Runs a command, showing the host's error message (which says what to do) instead of throwing. */
export function guarded<A extends unknown[]>(ctx: Ctx, f: (...args: A) => Promise<unknown>): (...args: A) => Promise<unknown> {
  return async (...args: A) => {
    try {
      return await f(...args);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      ctx.output.warn(msg);
      void vscode.window.showErrorMessage(`Orchestrator: ${msg}`);
      return undefined;
    }
  };
}

export interface SessionCommandDeps {
  ctx: Ctx;
  model: SessionModel;
  logs: LogDocuments;
  graphs: GraphPanels;
  revealFindings: () => Promise<void>;
}

export function registerSessionCommands(d: SessionCommandDeps): vscode.Disposable[] {
  const { ctx, model } = d;
  const reg = (id: string, f: (arg?: unknown) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(ctx, f));
  const session = async (arg: unknown, title: string, filter?: (s: SessionSummary) => boolean): Promise<string | undefined> => targetOf(arg).session ?? (await pickSession(model, title, filter));

  return [
    reg('orchestrator.refreshSessions', () => model.reload()),
    reg('orchestrator.resumeSession', async (arg) => {
      if (!(await requireTrust('resume'))) return;
      const id = await session(arg, 'Resume Session', (s) => !LIVE(s) && s.status !== 'succeeded');
      if (!id) return;
      if (isLive(id)) return revealLive(id);
      const how = await askDefinition(id);
      if (!how) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Resuming ${id}…` }, () => ctx.send(ResumeSessionRequest, { id, ...how }));
      void vscode.window.setStatusBarMessage(`Orchestrator: session ${id} resumed${how.reload ? ' with the changed workflow file' : ''}`, 5000);
      return { id, ...how };
    }),
    reg('orchestrator.resumeFromStep', async (arg) => {
      if (!(await requireTrust('resume'))) return;
      const t = targetOf(arg);
      const id = t.session ?? (await pickSession(model, 'Resume From Step', (s) => !LIVE(s)));
      if (!id) return;
      const step = t.step ?? (await pickStep(model, id, `Resume ${id} from step… (it and everything after it run again)`));
      if (!step) return;
      if (isLive(id)) return revealLive(id);
      const how = await askDefinition(id);
      if (!how) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Resuming ${id} from ${step}…` }, () => ctx.send(ResumeSessionRequest, { id, from: step, ...how }));
      void vscode.window.setStatusBarMessage(`Orchestrator: session ${id} resumed from ${step}${how.reload ? ' with the changed workflow file' : ''}`, 5000);
      return { id, step, ...how };
    }),
    reg('orchestrator.pauseSession', async (arg) => {
      const id = await session(arg, 'Pause Session', (s) => s.status === 'running');
      if (!id) return;
      const s = await ctx.send(PauseSessionRequest, { id });
      void vscode.window.setStatusBarMessage(`Orchestrator: pausing ${id} (running steps finish, nothing new starts)`, 4000);
      return s;
    }),
    reg('orchestrator.cancelSession', async (arg) => {
      const id = await session(arg, 'Cancel Session', (s) => LIVE(s) || s.status === 'paused');
      if (!id) return;
      const s = await ctx.send(CancelSessionRequest, { id });
      void vscode.window.setStatusBarMessage(`Orchestrator: cancelling ${id}`, 4000);
      return s;
    }),
    reg('orchestrator.retryStep', async (arg) => {
      if (!(await requireTrust('retry'))) return;
      const t = targetOf(arg);
      const id = t.session ?? (await pickSession(model, 'Retry Step'));
      if (!id) return;
      const step = t.step ?? (await pickStep(model, id, 'Retry which step?'));
      if (!step) return;
      // At rest, a retry resumes the session from the step: the same question about a changed file.
      const how = isLive(id) ? {} : await askDefinition(id);
      if (!how) return;
      await ctx.send(RetryStepRequest, { id, step, ...how });
      void vscode.window.setStatusBarMessage(`Orchestrator: ${step} runs again`, 4000);
      return { id, step };
    }),
    reg('orchestrator.approveStep', async (arg) => answer(arg, 'approve')),
    reg('orchestrator.rejectStep', async (arg) => answer(arg, 'reject')),
    reg('orchestrator.openLog', async (arg) => {
      const t = targetOf(arg);
      const id = t.session ?? (await pickSession(model, 'Open Session Log'));
      if (!id) return;
      const step = t.step ?? (await pickStep(model, id, 'Open the log of which step?'));
      if (!step) return;
      await d.logs.open(id, step);
    }),
    reg('orchestrator.openWorkflow', async (arg) => {
      const id = await session(arg, 'Open Workflow');
      if (!id) return;
      const given = model.summary(id)?.file ?? (await model.detail(id)).workflow.file;
      const file = path.isAbsolute(given) ? given : path.resolve(workspaceRoot() ?? '', given);
      await vscode.window.showTextDocument(vscode.Uri.file(file));
    }),
    reg('orchestrator.showFindings', async (arg) => {
      const id = await session(arg, 'Show Findings', (s) => s.findings > 0);
      if (!id) return;
      await model.showFindingsOf(id);
      await d.revealFindings();
    }),
    reg('orchestrator.showGraph', async (arg) => {
      const id = await session(arg, 'Show Graph');
      if (id) await d.graphs.showSession(id);
    }),
    reg('orchestrator.exportSnapshot', async (arg) => {
      const id = await session(arg, 'Export Snapshot');
      if (!id) return;
      const root = workspaceRoot();
      const target = await vscode.window.showSaveDialog({ title: `Export session ${id}`, ...(root ? { defaultUri: vscode.Uri.file(path.join(root, `${id}.orchestrator-session.json`)) } : {}), filters: { 'Session snapshot': ['json'] } });
      if (!target) return;
      const r = await ctx.send(ExportSessionRequest, { id, file: target.fsPath });
      void vscode.window.showInformationMessage(`Orchestrator: session ${id} exported to ${vscode.workspace.asRelativePath(r.file)} (${Math.ceil(r.bytes / 1024)} KiB; secrets were already masked).`);
      return r;
    }),
    reg('orchestrator.importSnapshot', async (arg) => {
      const file = arg instanceof vscode.Uri ? arg : (await vscode.window.showOpenDialog({ title: 'Import a session snapshot', canSelectMany: false, filters: { 'Session snapshot': ['json'] } }))?.[0];
      if (!file) return;
      const r = await ctx.send(ImportSessionRequest, { file: file.fsPath });
      void vscode.window.showInformationMessage(`Orchestrator: session ${r.id} imported.`);
      return r;
    }),
    reg('orchestrator.deleteSession', async (arg) => {
      const id = await session(arg, 'Delete Session', (s) => !LIVE(s));
      if (!id) return;
      const ok = await vscode.window.showWarningMessage(`Delete session ${id}? Its state, event log and step logs are removed from disk.`, { modal: true }, 'Delete');
      if (ok !== 'Delete') return;
      await ctx.send(DeleteSessionRequest, { id });
      return { id };
    }),
    reg('orchestrator.openFinding', async (arg) => {
      const row = arg as TreeRow | undefined;
      if (row?.kind !== 'finding' || !row.finding.file) return;
      const f = row.finding;
      const root = workspaceRoot() ?? '';
      const uri = vscode.Uri.file(path.isAbsolute(f.file!) ? f.file! : path.resolve(root, f.file!));
      const line = Math.max(0, (f.line ?? 1) - 1);
      const col = Math.max(0, (f.column ?? 1) - 1);
      await vscode.window.showTextDocument(uri, { selection: new vscode.Range(line, col, line, col), preview: true });
    }),
  ];

  function isLive(id: string): boolean {
    const s = model.summary(id);
    return !!s && LIVE(s);
  }

  /** A stale button (a toast's Resume on a session that runs again): show the session instead. */
  async function revealLive(id: string): Promise<undefined> {
    void vscode.window.setStatusBarMessage(`Orchestrator: session ${id} is running already`, 5000);
    await vscode.commands.executeCommand('orchestrator.sessions.focus');
    return undefined;
  }

  /**
   * Before a resume: when the workflow file changed since the session started, asks whether to
   * take the changed file or the stored definition (or, when the steps differ, to start afresh).
   * Undefined: the user chose something else than resuming.
   */
  async function askDefinition(id: string): Promise<DefinitionFlags | undefined> {
    const check = await ctx.send(CheckDefinitionRequest, { id });
    const q = resumeQuestion(check, id);
    if (!q) return check.status === 'missing' ? { stored: true } : {};
    const pick = await vscode.window.showWarningMessage(q.message, { modal: true, detail: q.detail }, ...q.buttons.map((b) => b.label));
    const file = vscode.Uri.file(path.resolve(workspaceRoot() ?? '', check.file));
    switch (q.buttons.find((b) => b.label === pick)?.answer) {
      case 'reload':
        return { reload: true };
      case 'stored':
        return { stored: true };
      case 'fresh':
        await vscode.commands.executeCommand(RUN_WORKFLOW_COMMAND, file);
        return undefined;
      case 'problems':
        await vscode.window.showTextDocument(file);
        await vscode.commands.executeCommand('workbench.actions.view.problems');
        return undefined;
      default:
        return undefined;
    }
  }

  async function answer(arg: unknown, how: 'approve' | 'reject'): Promise<unknown> {
    const t = targetOf(arg);
    const id = t.session ?? (await pickSession(model, how === 'approve' ? 'Approve' : 'Reject', (s) => s.status === 'waiting' || s.status === 'running'));
    if (!id) return;
    const step = t.step ?? (await pickStep(model, id, `${how === 'approve' ? 'Approve' : 'Reject'} which step?`, (s) => s.status === 'waiting'));
    if (!step) return;
    const question = (await model.detail(id)).steps[step]?.approval?.question;
    const reason = await vscode.window.showInputBox({
      title: `${how === 'approve' ? 'Approve' : 'Reject'} ${step}${question ? `: ${question}` : ''}`,
      prompt: how === 'reject' ? 'Why? (shown in the session; the step fails with it)' : 'A note for the record (optional)',
      ignoreFocusOut: true,
    });
    if (reason === undefined) return;
    const req = how === 'approve' ? ApproveStepRequest : RejectStepRequest;
    const s = await ctx.send(req, { id, step, ...(reason ? { reason } : {}) });
    void vscode.window.setStatusBarMessage(`Orchestrator: ${step} ${how === 'approve' ? 'approved' : 'rejected'}`, 4000);
    return s;
  }
}
