/**
 * A session's findings in the Problems panel: a DiagnosticCollection of their own (source
 * "orchestrator"), replaced whenever the Findings view's session or its findings change.
 * `orchestrator.findings.showInProblems: false` turns it off.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfig } from './config';
import type { SessionModel } from './model';
import type { Finding } from './protocol';
import { workspaceRoot } from './views/providers';

const SEVERITY: Record<string, vscode.DiagnosticSeverity> = {
  critical: vscode.DiagnosticSeverity.Error,
  high: vscode.DiagnosticSeverity.Error,
  medium: vscode.DiagnosticSeverity.Warning,
  low: vscode.DiagnosticSeverity.Information,
  info: vscode.DiagnosticSeverity.Hint,
};

export function toDiagnostic(f: Finding): vscode.Diagnostic {
  const line = Math.max(0, (f.line ?? 1) - 1);
  const endLine = Math.max(line, (f.end_line ?? f.line ?? 1) - 1);
  const col = Math.max(0, (f.column ?? 1) - 1);
  const range = new vscode.Range(line, col, endLine, f.column ? col + 1 : Number.MAX_SAFE_INTEGER);
  const marks = [f.sources.length > 1 ? `merged from ${f.sources.map((s) => s.step).join(', ')}` : '', f.conflict ? `severities disagree: ${f.conflict.resolution}` : ''].filter(Boolean);
  const d = new vscode.Diagnostic(range, `${f.message}${marks.length ? ` (${marks.join('; ')})` : ''}`, SEVERITY[f.severity] ?? vscode.DiagnosticSeverity.Information);
  d.source = 'orchestrator';
  if (f.rule) d.code = f.rule;
  return d;
}

export class FindingsDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('orchestrator-findings');
  private readonly subs: vscode.Disposable[];

  constructor(private readonly model: SessionModel) {
    this.subs = [
      this.collection,
      model.onDidChangeFindings(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('orchestrator.findings.showInProblems')) this.update();
      }),
    ];
  }

  update(): void {
    this.collection.clear();
    const f = this.model.findings();
    const root = workspaceRoot();
    if (!f || !root || !readConfig().findingsInProblems) return;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const x of f.findings) {
      if (!x.file || x.status === 'dismissed') continue;
      const file = path.isAbsolute(x.file) ? x.file : path.resolve(root, x.file);
      byFile.set(file, [...(byFile.get(file) ?? []), toDiagnostic(x)]);
    }
    this.collection.set([...byFile].map(([file, ds]) => [vscode.Uri.file(file), ds]));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
