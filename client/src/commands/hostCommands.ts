/** Restart Host and Show Host Log. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export function registerHostCommands(ctx: Ctx): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('orchestrator.restartHost', async () => {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the orchestrator host' }, () => ctx.restart());
      void vscode.window.setStatusBarMessage('Orchestrator host restarted', 3000);
    }),
    vscode.commands.registerCommand('orchestrator.showHostLog', () => ctx.output.show(true)),
  ];
}
