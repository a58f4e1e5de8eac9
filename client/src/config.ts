/** The extension's settings (`orchestrator.*`), read in one typed place. */
import * as vscode from 'vscode';

export interface OrchestratorConfig {
  readonly hostPath: string;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
}

export function readConfig(): OrchestratorConfig {
  const c = vscode.workspace.getConfiguration('orchestrator');
  return {
    hostPath: c.get<string>('host.path', ''),
    logLevel: c.get<OrchestratorConfig['logLevel']>('logLevel', 'info'),
  };
}

/** Settings whose change needs a host restart. */
export const RESTART_SETTINGS = ['orchestrator.host.path', 'orchestrator.logLevel'];
