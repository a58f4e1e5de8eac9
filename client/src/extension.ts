/** Activation: wire-up only. Each command and feature lives in its own module. */
import * as vscode from 'vscode';
import { registerHostCommands } from './commands/hostCommands';
import { registerGitCommands } from './commands/gitCommands';
import { registerPruneCommand } from './commands/pruneSessions';
import { registerSessionCommands } from './commands/sessionCommands';
import { registerSetupCommands } from './commands/setupCommands';
import { findWorkflows, registerWorkflowCommands, WORKFLOW_GLOB } from './commands/workflowCommands';
import { RESTART_SETTINGS } from './config';
import { Ctx } from './ctx';
import { registerDoctorCommand } from './doctorPanel';
import { FindingsDiagnostics } from './findingsDiagnostics';
import { GraphPanels } from './graphPanel';
import { LogDocuments } from './logs';
import { SessionModel } from './model';
import { Notifier, StatusBar } from './status';
import type { TreeRow } from './views/nodes';
import { FindingsProvider, SessionsProvider, StuckProvider } from './views/providers';

/** What activate() returns: for the extension-host tests. */
export interface OrchestratorApi {
  ctx: Ctx;
  model: SessionModel;
  sessions: SessionsProvider;
  findings: FindingsProvider;
  stuck: StuckProvider;
}

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<OrchestratorApi> {
  ctx = new Ctx(context);
  const c = ctx;
  const model = new SessionModel(c);
  const logs = new LogDocuments(c);
  const graphs = new GraphPanels(c, model, (session, step) => void logs.open(session, step));

  const sessions = new SessionsProvider(model);
  const views: { findings?: vscode.TreeView<TreeRow>; stuck?: vscode.TreeView<TreeRow> } = {};
  const findings = new FindingsProvider(model, () => views.findings);
  const stuck = new StuckProvider(model, () => views.stuck);
  const sessionsView = vscode.window.createTreeView('orchestrator.sessions', { treeDataProvider: sessions, showCollapseAll: true });
  const findingsView = vscode.window.createTreeView('orchestrator.findings', { treeDataProvider: findings, showCollapseAll: true });
  const stuckView = vscode.window.createTreeView('orchestrator.stuck', { treeDataProvider: stuck });
  views.findings = findingsView;
  views.stuck = stuckView;

  context.subscriptions.push(
    model,
    logs,
    graphs,
    sessions,
    findings,
    stuck,
    sessionsView,
    findingsView,
    stuckView,
    new StatusBar(model),
    new Notifier(model, context.workspaceState),
    new FindingsDiagnostics(model),
    ...registerHostCommands(c),
    ...registerDoctorCommand(c),
    ...registerWorkflowCommands(c, graphs),
    ...registerGitCommands(c, model),
    ...registerSetupCommands(c),
    registerPruneCommand(c),
    ...registerSessionCommands({ ctx: c, model, logs, graphs, revealFindings: () => Promise.resolve(vscode.commands.executeCommand('orchestrator.findings.focus')).then(() => undefined) }),
  );

  // Welcome content: "Create a workflow" when there is none, "Start Orchestration" otherwise.
  const setHasWorkflows = async (): Promise<void> => {
    await vscode.commands.executeCommand('setContext', 'orchestrator.hasWorkflows', (await findWorkflows()).length > 0);
  };
  const wfWatcher = vscode.workspace.createFileSystemWatcher(WORKFLOW_GLOB, false, true, false);
  context.subscriptions.push(wfWatcher, wfWatcher.onDidCreate(() => void setHasWorkflows()), wfWatcher.onDidDelete(() => void setHasWorkflows()));
  void setHasWorkflows();

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) return;
      const pick = await vscode.window.showInformationMessage('Orchestrator: this setting takes effect after the host restarts.', 'Restart Host');
      if (pick) await c.restart();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void c.restart()),
  );
  try {
    await c.ensureClient();
  } catch (e) {
    c.output.error(`the orchestrator host did not start: ${String(e)}`);
    void vscode.window.showErrorMessage('Orchestrator: the host did not start. See the Orchestrator output for why.', 'Show Log').then((p) => {
      if (p) c.output.show(true);
    });
  }
  return { ctx: c, model, sessions, findings, stuck };
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}
