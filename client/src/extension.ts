/** Activation: wire-up only. Each command and feature lives in its own module. */
import * as vscode from 'vscode';
import { registerHostCommands } from './commands/hostCommands';
import { registerWorkflowCommands } from './commands/workflowCommands';
import { RESTART_SETTINGS } from './config';
import { Ctx } from './ctx';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Ctx> {
  ctx = new Ctx(context);
  const c = ctx;
  context.subscriptions.push(...registerHostCommands(c), ...registerWorkflowCommands(c));
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
  return c;
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}
