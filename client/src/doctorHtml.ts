/**
 * The Doctor panel's page (docs/doctor.md): one row per check (its mark, title, detail and fix),
 * with a button where doctor can apply the fix. Plain strings, no VS Code types, so it is tested
 * without an editor. Every text is escaped; the page's only script carries the nonce of a CSP that
 * allows nothing else, and posts `{ type: 'fix', action }` or `{ type: 'rerun' }` back.
 */
import type { CheckResult, DoctorReport, FixOutcome } from './protocol';

const MARK = { pass: '✓', warn: '!', fail: '✗' } as const;
const WORD = { pass: 'passed', warn: 'warning', fail: 'failed' } as const;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The button's label for a fix: resuming is not a repair, so it says so. */
export function fixLabel(action: string): string {
  const kind = action.split(':')[0];
  return kind === 'resume' ? 'Resume' : kind === 'stop-processes' ? 'Stop Them' : kind === 'remove-worktrees' ? 'Remove' : 'Fix';
}

function row(c: CheckResult): string {
  const fix = c.fix && c.status !== 'pass' ? `<div class="fix">→ ${escapeHtml(c.fix.description)}${c.fix.action ? ` <button data-action="${escapeHtml(c.fix.action)}">${escapeHtml(fixLabel(c.fix.action))}</button>` : ''}</div>` : '';
  return `<li class="check ${c.status}" data-id="${escapeHtml(c.id)}"><span class="mark" title="${WORD[c.status]}">${MARK[c.status]}</span><div class="body"><div><strong>${escapeHtml(c.title)}</strong>: ${escapeHtml(c.detail)}</div>${fix}</div></li>`;
}

export interface DoctorPage {
  readonly report?: DoctorReport;
  /** The last fix's outcome, shown on top. */
  readonly outcome?: FixOutcome;
  /** Shown instead of the checks (the host failed). */
  readonly error?: string;
  readonly busy?: boolean;
}

export function doctorHtml(page: DoctorPage, nonce: string, cspSource: string): string {
  const r = page.report;
  const summary = page.busy ? 'Checking…' : r ? `${r.checks.length} checks: ${r.summary.pass} passed, ${r.summary.warn} warnings, ${r.summary.fail} failed` : '';
  const outcome = page.outcome ? `<p class="outcome ${page.outcome.ok ? 'ok' : 'bad'}">${page.outcome.ok ? 'Done' : 'Not done'}: ${escapeHtml(page.outcome.message)}</p>` : '';
  const body = page.error ? `<p class="outcome bad">${escapeHtml(page.error)}</p>` : r ? `<ul>${r.checks.map(row).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Orchestrator: Doctor</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
header { display: flex; gap: 12px; align-items: center; }
ul { list-style: none; padding: 0; }
li.check { display: flex; gap: 8px; padding: 6px 0; border-bottom: 1px solid var(--vscode-panel-border); }
.mark { width: 1.2em; font-weight: bold; text-align: center; }
.pass .mark { color: var(--vscode-testing-iconPassed); }
.warn .mark { color: var(--vscode-editorWarning-foreground); }
.fail .mark { color: var(--vscode-errorForeground); }
.fix { margin-top: 4px; opacity: 0.9; }
.outcome.ok { color: var(--vscode-testing-iconPassed); }
.outcome.bad { color: var(--vscode-errorForeground); }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 2px 10px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
button:disabled { opacity: 0.5; cursor: default; }
</style>
</head>
<body>
<header><h2>Doctor</h2><span id="summary">${escapeHtml(summary)}</span><button id="rerun"${page.busy ? ' disabled' : ''}>Check Again</button></header>
${outcome}
${body}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
function busy() { for (const b of document.querySelectorAll('button')) b.disabled = true; document.getElementById('summary').textContent = 'Working…'; }
document.getElementById('rerun').addEventListener('click', () => { busy(); vscode.postMessage({ type: 'rerun' }); });
for (const b of document.querySelectorAll('button[data-action]')) b.addEventListener('click', () => { const action = b.getAttribute('data-action'); busy(); vscode.postMessage({ type: 'fix', action }); });
</script>
</body>
</html>`;
}
