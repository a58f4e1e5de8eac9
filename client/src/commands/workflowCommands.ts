/** Validate Workflow, Show Execution Plan, and the code lens's Run Workflow. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { PlanRequest, RUN_WORKFLOW_COMMAND, SHOW_PLAN_COMMAND, ValidateRequest } from '../protocol';

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

const PLAN_SCHEME = 'orchestrator-plan';

export function registerWorkflowCommands(ctx: Ctx): vscode.Disposable[] {
  const plans = new Map<string, string>();
  const planChanged = new vscode.EventEmitter<vscode.Uri>();
  return [
    planChanged,
    vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, { onDidChange: planChanged.event, provideTextDocumentContent: (uri) => plans.get(uri.toString()) ?? '' }),
    vscode.commands.registerCommand('orchestrator.validateWorkflow', async (arg?: unknown) => {
      const uri = targetUri(arg);
      if (!uri) return void vscode.window.showWarningMessage('Orchestrator: open a workflow file to validate it.');
      const res = await ctx.send(ValidateRequest, { uri: uri.toString() });
      const errors = res.problems.filter((p) => p.severity === 'error').length;
      const warnings = res.problems.length - errors;
      const name = vscode.workspace.asRelativePath(uri);
      if (!res.problems.length) void vscode.window.showInformationMessage(`Orchestrator: ${name} is valid.`);
      else {
        const pick = await vscode.window.showWarningMessage(`Orchestrator: ${name} has ${errors} error(s) and ${warnings} warning(s).`, 'Show Problems');
        if (pick) await vscode.commands.executeCommand('workbench.actions.view.problems');
      }
      return res;
    }),
    vscode.commands.registerCommand(SHOW_PLAN_COMMAND, async (arg?: unknown) => {
      const uri = targetUri(arg);
      if (!uri) return void vscode.window.showWarningMessage('Orchestrator: open a workflow file to see its plan.');
      const res = await ctx.send(PlanRequest, { uri: uri.toString() });
      if (!res.ok) {
        void vscode.window.showErrorMessage(`Orchestrator: the workflow has ${res.problems.filter((p) => p.severity === 'error').length} error(s); fix them to see its plan.`);
        return res;
      }
      const planUri = vscode.Uri.from({ scheme: PLAN_SCHEME, path: `/${vscode.workspace.asRelativePath(uri)}.plan` });
      plans.set(planUri.toString(), res.text);
      planChanged.fire(planUri);
      await vscode.window.showTextDocument(planUri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      return res;
    }),
    vscode.commands.registerCommand(RUN_WORKFLOW_COMMAND, async (arg?: unknown) => {
      // Sessions arrive with the engine; until then the lens says so and offers the plan.
      const uri = targetUri(arg);
      const pick = await vscode.window.showInformationMessage('Orchestrator: running sessions from the editor is not available in this version yet. Show the execution plan instead?', 'Show Plan');
      if (pick && uri) await vscode.commands.executeCommand(SHOW_PLAN_COMMAND, uri);
    }),
  ];
}
