/** The one place plain rows (nodes.ts) become VS Code TreeItems. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TreeRow } from './nodes';

export function render(row: TreeRow, workspaceRoot: string | undefined): vscode.TreeItem {
  const state = row.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : row.collapsible === 'collapsed' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(row.label, state);
  item.id = row.key;
  if (row.description !== undefined) item.description = row.description;
  if (row.tooltip !== undefined) item.tooltip = row.tooltip;
  if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon.id, row.icon.color ? new vscode.ThemeColor(row.icon.color) : undefined);
  if (row.contextValue) item.contextValue = row.contextValue;
  // Screen readers (and the UI tests) hear the label and its description.
  item.accessibilityInformation = { label: row.description ? `${row.label}, ${row.description}` : row.label };
  switch (row.kind) {
    case 'step':
      item.command = { command: 'orchestrator.openLog', title: 'Open Log', arguments: [row] };
      break;
    case 'file':
      if (row.file && workspaceRoot) item.resourceUri = vscode.Uri.file(path.resolve(workspaceRoot, row.file));
      if (row.file) item.iconPath = vscode.ThemeIcon.File;
      break;
    case 'change':
      // The file's own icon (by its type); the click opens the diff base ↔ the step's commit.
      if (workspaceRoot) item.resourceUri = vscode.Uri.file(path.resolve(workspaceRoot, row.path));
      item.iconPath = vscode.ThemeIcon.File;
      item.command = { command: 'orchestrator.openChange', title: 'Open Change', arguments: [row] };
      break;
    case 'finding':
      if (row.finding.file) item.command = { command: 'orchestrator.openFinding', title: 'Open', arguments: [row] };
      break;
    case 'stuck':
      item.command = { command: 'orchestrator.openLog', title: 'Open Log', arguments: [row] };
      break;
    default:
      break;
  }
  return item;
}
