/** Validate Workflow, Show Execution Plan, and the code lens's Run Workflow. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { PlanRequest, RUN_WORKFLOW_COMMAND, SHOW_PLAN_COMMAND, StartSessionRequest, ValidateRequest, type InputDeclaration } from '../protocol';

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

const PLAN_SCHEME = 'orchestrator-plan';

/** Asks for each input: a quick pick for enums and booleans, an input box (with its default) otherwise. */
async function askInputs(decl: Record<string, InputDeclaration>): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {};
  for (const [name, d] of Object.entries(decl)) {
    const title = `Input '${name}'${d.description ? `: ${d.description}` : ''}`;
    const choices = d.enum ?? (d.type === 'boolean' ? [true, false] : undefined);
    let value: string | undefined;
    if (choices) {
      const items = choices.map((c) => ({ label: String(c), ...(String(c) === String(d.default) ? { description: 'default' } : {}) }));
      value = (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true }))?.label;
    } else {
      value = await vscode.window.showInputBox({
        title,
        ...(d.default !== undefined && d.default !== null ? { value: String(d.default) } : {}),
        ignoreFocusOut: true,
        validateInput: (v) => (d.type === 'number' && v.trim() !== '' && !Number.isFinite(Number(v)) ? 'a number, please' : d.required && !v ? 'this input is required' : undefined),
      });
    }
    if (value === undefined) return undefined; // cancelled
    if (value !== '' || d.required) out[name] = value;
  }
  return out;
}

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
      const uri = targetUri(arg);
      if (!uri) return void vscode.window.showWarningMessage('Orchestrator: open a workflow file to run it.');
      if (!vscode.workspace.isTrusted) {
        const pick = await vscode.window.showWarningMessage('Orchestrator: this workspace is not trusted, so workflows do not run here (validation still works).', 'Manage Workspace Trust');
        if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
        return;
      }
      const plan = await ctx.send(PlanRequest, { uri: uri.toString() });
      if (!plan.ok) {
        const pick = await vscode.window.showErrorMessage(`Orchestrator: the workflow has ${plan.problems.filter((p) => p.severity === 'error').length} error(s); fix them to run it.`, 'Show Problems');
        if (pick) await vscode.commands.executeCommand('workbench.actions.view.problems');
        return;
      }
      const inputs = await askInputs(plan.inputs);
      if (!inputs) return;
      const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Starting ${plan.workflow}…` }, () => ctx.send(StartSessionRequest, { uri: uri.toString(), inputs }));
      const pick = await vscode.window.showInformationMessage(`Orchestrator: session ${res.id} of ${plan.workflow} started.`, 'Follow in Terminal');
      if (pick) {
        const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
        const term = vscode.window.createTerminal({ name: `Orchestrator ${res.id}`, ...(folder ? { cwd: folder } : {}) });
        term.sendText(`node "${ctx.extension.asAbsolutePath('server/out/cli.js')}" logs ${res.id} --follow`);
        term.show();
      }
      return res;
    }),
  ];
}
