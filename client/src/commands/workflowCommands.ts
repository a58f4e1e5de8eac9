/** Validate Workflow, Show Execution Plan, Start Orchestration (and the code lens's Run Workflow), Create a Workflow. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { GraphPanels } from '../graphPanel';
import { InitRequest, PlanRequest, RUN_WORKFLOW_COMMAND, SHOW_PLAN_COMMAND, StartSessionRequest, ValidateRequest, type InputDeclaration } from '../protocol';
import { guarded, requireTrust } from './sessionCommands';
import { announceInit } from './setupCommands';

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  return vscode.window.activeTextEditor?.document.uri;
}

/** Where workflow files live (the host validates these). */
// One level of braces: VS Code's glob matcher does not nest them.
export const WORKFLOW_GLOB = '{**/.orchestrator/workflows/**/*.yaml,**/.orchestrator/workflows/**/*.yml,**/*.workflow.yaml,**/*.workflow.yml,**/workflow.yaml,**/workflow.yml}';
const EXCLUDE = '**/{node_modules,.git}/**';

export async function findWorkflows(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(WORKFLOW_GLOB, EXCLUDE, 500);
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

function isWorkflow(uri: vscode.Uri): boolean {
  return /(\/\.orchestrator\/workflows\/.*\.ya?ml|\.workflow\.ya?ml|\/workflow\.ya?ml)$/.test(uri.path);
}

/** The open workflow, else a quick pick of the workspace's workflows (none: offer to create one). */
async function pickWorkflow(title: string): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file' && isWorkflow(active)) return active;
  const all = await findWorkflows();
  if (!all.length) {
    const pick = await vscode.window.showInformationMessage('Orchestrator: this workspace has no workflow yet.', 'Create a Workflow');
    if (pick) await vscode.commands.executeCommand('orchestrator.createWorkflow');
    return undefined;
  }
  if (all.length === 1) return all[0];
  const pick = await vscode.window.showQuickPick(
    all.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
    { title, placeHolder: 'Which workflow? (type to filter)' },
  );
  return pick?.uri;
}

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

export function registerWorkflowCommands(ctx: Ctx, graphs: GraphPanels): vscode.Disposable[] {
  /** Asks for the inputs, starts a session with a progress notification, and says so. */
  const start = async (uri: vscode.Uri): Promise<{ id: string } | undefined> => {
    if (!(await requireTrust('start'))) return undefined;
    const plan = await ctx.send(PlanRequest, { uri: uri.toString() });
    if (!plan.ok) {
      const pick = await vscode.window.showErrorMessage(`Orchestrator: ${vscode.workspace.asRelativePath(uri)} has ${plan.problems.filter((p) => p.severity === 'error').length} error(s); fix them to run it.`, 'Show Problems');
      if (pick) await vscode.commands.executeCommand('workbench.actions.view.problems');
      return undefined;
    }
    const inputs = await askInputs(plan.inputs);
    if (!inputs) return undefined;
    // A start is announced in the status bar only (the Sessions view and the status bar item show
    // the session from now on); toasts are kept for what needs the user (docs/editor.md).
    const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Orchestrator: starting ${plan.workflow}…` }, () => ctx.send(StartSessionRequest, { uri: uri.toString(), inputs }));
    void vscode.window.setStatusBarMessage(`$(play) Orchestrator: session ${res.id} of ${plan.workflow} started`, 5000);
    return res;
  };
  const reg = (id: string, f: (arg?: unknown) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(ctx, f));
  return [
    reg('orchestrator.validateWorkflow', async (arg?: unknown) => {
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
    reg(SHOW_PLAN_COMMAND, async (arg?: unknown) => {
      const uri = targetUri(arg) ?? (await pickWorkflow('Show Execution Plan'));
      if (!uri) return;
      return graphs.showPlan(uri);
    }),
    reg(RUN_WORKFLOW_COMMAND, async (arg?: unknown) => {
      const uri = targetUri(arg);
      if (!uri) return void vscode.window.showWarningMessage('Orchestrator: open a workflow file to run it.');
      return start(uri);
    }),
    reg('orchestrator.startOrchestration', async (arg?: unknown) => {
      if (!(await requireTrust('start'))) return;
      const uri = arg instanceof vscode.Uri ? arg : await pickWorkflow('Start Orchestration');
      if (!uri) return;
      return start(uri);
    }),
    reg('orchestrator.createWorkflow', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) return void vscode.window.showWarningMessage('Orchestrator: open a folder first; workflows live in its .orchestrator/workflows/.');
      const name = await vscode.window.showInputBox({
        title: 'Create a Workflow',
        prompt: 'File name in .orchestrator/workflows/',
        value: 'review.yaml',
        validateInput: (v) => (/^\w[\w.-]*\.ya?ml$/.test(v) ? undefined : 'a file name ending in .yaml, such as review.yaml'),
      });
      if (!name) return;
      // The host writes it with orchestrator init's code: the starter, and whatever of
      // .orchestrator/ is missing (.gitignore, config.yaml, meta.json); nothing existing is touched.
      const r = await ctx.send(InitRequest, { workflowName: name });
      if (!r.workflow) return;
      const uri = vscode.Uri.file(r.workflow);
      if (r.items.find((i) => i.path.endsWith(`/${name}`))?.action === 'kept') void vscode.window.showWarningMessage(`Orchestrator: ${vscode.workspace.asRelativePath(uri)} already exists; it was opened and left as it is.`);
      await announceInit(ctx, r);
      await vscode.window.showTextDocument(uri);
      return uri;
    }),
  ];
}
