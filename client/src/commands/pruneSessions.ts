/**
 * *Prune Sessions…* (the Sessions view's title menu and the palette): a dry run first, shown for
 * confirmation, then the removal of exactly what was shown (docs/state-and-retention.md). The
 * configured retention decides; without one, the user picks a rule.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { formatSize, parseSize, PruneSessionsRequest, type PruneAnswer, type PruneParams } from '../protocol';
import { guarded } from './sessionCommands';

type Ask = Omit<PruneParams, 'dryRun' | 'ids'>;

const DURATION = /^\s*(\d+(\.\d+)?(ms|s|m|h|d)\s*)+$/;

/** A rule picked by the user when no retention is configured; undefined when they cancel. */
async function askRule(): Promise<Ask | undefined> {
  const picks: (vscode.QuickPickItem & { rule: 'age' | 'keep' | 'size' | 'failed' | 'cancelled' })[] = [
    { label: 'Older than…', description: 'sessions whose last activity is older than a duration', rule: 'age' },
    { label: 'Keep the newest…', description: 'remove all but the newest N sessions at rest', rule: 'keep' },
    { label: 'Over a total size…', description: 'remove the oldest until all sessions fit in a size', rule: 'size' },
    { label: 'All failed sessions', rule: 'failed' },
    { label: 'All cancelled sessions', rule: 'cancelled' },
  ];
  const pick = await vscode.window.showQuickPick(picks, {
    title: 'Prune Sessions',
    placeHolder: 'No retention is configured (retention: in .orchestrator/config.yaml): remove which sessions?',
  });
  if (!pick) return undefined;
  switch (pick.rule) {
    case 'failed':
    case 'cancelled':
      return { status: pick.rule };
    case 'age': {
      const v = await vscode.window.showInputBox({ title: 'Prune sessions older than', value: '30d', validateInput: (s) => (DURATION.test(s) ? undefined : 'a duration: 12h, 7d, 30d') });
      return v === undefined ? undefined : { olderThan: v.trim() };
    }
    case 'keep': {
      const v = await vscode.window.showInputBox({ title: 'Keep the newest N sessions', value: '20', validateInput: (s) => (/^\s*\d+\s*$/.test(s) ? undefined : 'a whole number') });
      return v === undefined ? undefined : { keep: Number(v) };
    }
    case 'size': {
      const v = await vscode.window.showInputBox({ title: 'Prune until all sessions take at most', value: '1GB', validateInput: (s) => (parseSize(s) !== undefined ? undefined : 'a size: 500MB, 2GB') });
      return v === undefined ? undefined : { maxSize: v.trim() };
    }
  }
}

export function registerPruneCommand(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand(
    'orchestrator.pruneSessions',
    guarded(ctx, async (): Promise<PruneAnswer | undefined> => {
      let ask: Ask = {};
      let preview = await ctx.send(PruneSessionsRequest, { dryRun: true });
      if (preview.criteria === null) {
        const rule = await askRule();
        if (!rule) return undefined;
        ask = rule;
        preview = await ctx.send(PruneSessionsRequest, { dryRun: true, ...ask });
      }
      const n = preview.removed.length;
      if (!n) {
        void vscode.window.showInformationMessage(`Orchestrator: nothing to prune by ${preview.criteria ?? 'that rule'}; ${preview.kept} session${preview.kept === 1 ? '' : 's'} kept.`);
        return preview;
      }
      const shown = preview.removed.slice(0, 12).map((s) => `${s.id}  ${s.workflow} (${s.status}), ${formatSize(s.bytes)}: ${s.why.join(', ')}`);
      if (n > shown.length) shown.push(`…and ${n - shown.length} more`);
      const ok = await vscode.window.showWarningMessage(
        `Prune ${n} session${n === 1 ? '' : 's'} (${formatSize(preview.freedBytes)})?`,
        {
          modal: true,
          detail: `By ${preview.criteria}:\n${shown.join('\n')}\n\nTheir logs, worktrees and branches are removed. Running sessions and sessions waiting for approval are never removed.`,
        },
        'Prune',
      );
      if (ok !== 'Prune') return undefined;
      const done = await ctx.send(PruneSessionsRequest, { dryRun: false, ...ask, ids: preview.removed.map((s) => s.id) });
      const kept = done.skipped.filter((s) => preview.removed.some((r) => r.id === s.id)).length;
      const tail = kept ? `; ${kept} kept because ${kept === 1 ? 'it' : 'they'} changed meanwhile` : '';
      void vscode.window.showInformationMessage(`Orchestrator: removed ${done.removed.length} session${done.removed.length === 1 ? '' : 's'}, freed ${formatSize(done.freedBytes)}${tail}.`);
      if (done.failed.length) void vscode.window.showWarningMessage(`Orchestrator: could not remove ${done.failed.map((f) => `${f.id} (${f.error})`).join('; ')}`);
      return done;
    }),
  );
}
