/** The extension's settings (`orchestrator.*`), read in one typed place. */
import * as vscode from 'vscode';

export interface OrchestratorConfig {
  readonly hostPath: string;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Steps at once for workflows that set no `concurrency` (0: the host's default, one per core). */
  readonly defaultConcurrency: number;
  /** `stuck_after` for steps and workflows that set none ('' : the engine's 5m). */
  readonly defaultStuckAfter: string;
  /** Whether a session's findings also go to the Problems panel. */
  readonly findingsInProblems: boolean;
  /** Whether to announce finished/failed sessions, approvals and stuck steps. */
  readonly notifications: boolean;
}

export function readConfig(): OrchestratorConfig {
  const c = vscode.workspace.getConfiguration('orchestrator');
  return {
    hostPath: c.get<string>('host.path', ''),
    logLevel: c.get<OrchestratorConfig['logLevel']>('logLevel', 'info'),
    defaultConcurrency: Math.max(0, Math.floor(c.get<number>('defaults.concurrency', 0) || 0)),
    defaultStuckAfter: c.get<string>('defaults.stuckAfter', '').trim(),
    findingsInProblems: c.get<boolean>('findings.showInProblems', true),
    notifications: c.get<boolean>('notifications.enabled', true),
  };
}

/** Settings whose change needs a host restart (the host reads them when it starts). */
export const RESTART_SETTINGS = ['orchestrator.host.path', 'orchestrator.logLevel', 'orchestrator.defaults.concurrency', 'orchestrator.defaults.stuckAfter'];
