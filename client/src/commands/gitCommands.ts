/**
 * A session's git work in the editor: the diff of a changed file (base ↔ the step's commit, the
 * text from the host's `orchestrator/git/show`), and *Apply* / *Discard* on a worktree step
 * (`orchestrator/git/apply`, `orchestrator/git/discard`; the engine does the git work), and on a
 * session at rest: *Apply* its result, *Discard* every branch its steps made.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { SessionModel } from '../model';
import { pickSession, pickStep, targetOf } from '../pick';
import { APPLY_MODES, GitApplyRequest, GitDiscardRequest, GitShowRequest, type ApplyMode, type ApplyResult, type Discarded, type SessionGit, type SessionSummary } from '../protocol';
import type { TreeRow } from '../views/nodes';
import { stepChanges } from '../views/nodes';
import { guarded, requireTrust } from './sessionCommands';

const isAtRest = (s: SessionSummary): boolean => s.status !== 'running' && s.status !== 'waiting';

export const GIT_SCHEME = 'orchestrator-git';

/** `orchestrator-git:/src/a.txt?id=…&commit=…`: read-only, its text asked from the host. */
export function gitUri(id: string, commit: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_SCHEME, path: `/${file}`, query: new URLSearchParams({ id, commit }).toString() });
}

class GitContent implements vscode.TextDocumentContentProvider {
  constructor(private readonly ctx: Ctx) {}
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const r = await this.ctx.send(GitShowRequest, { id: q.get('id') ?? '', commit: q.get('commit') ?? '', path: uri.path.replace(/^\//, '') });
    return r.binary ? '(a binary file)' : r.text;
  }
}

const MODES: Record<ApplyMode, string> = {
  ff: 'Fast-forward your branch to the step\'s commit (refused when your branch moved)',
  merge: 'Make a merge commit on your branch',
  uncommitted: 'Change the files only: nothing staged or committed',
};

export function registerGitCommands(ctx: Ctx, model: SessionModel): vscode.Disposable[] {
  const reg = (id: string, f: (arg?: unknown) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(ctx, f));
  const target = async (arg: unknown, title: string): Promise<{ id: string; step: string } | undefined> => {
    const t = targetOf(arg);
    const id = t.session ?? (await pickSession(model, title));
    if (!id) return undefined;
    const step = t.step ?? (await pickStep(model, id, `${title}: which step?`, (s) => !!stepChanges(s)));
    return step ? { id, step } : undefined;
  };
  /** A session at rest with git work (`what`), from the row or picked. */
  const sessionWithGit = async (arg: unknown, title: string, what: (g: SessionGit) => string[]): Promise<SessionSummary | undefined> => {
    const id = targetOf(arg).session ?? (await pickSession(model, title, (s) => isAtRest(s) && !!s.git && what(s.git).length > 0));
    const s = id ? model.summary(id) : undefined;
    if (id && (!s?.git || !what(s.git).length)) void vscode.window.showInformationMessage(`Orchestrator: session ${id} has no step with ${title.startsWith('Apply') ? 'changes to apply' : 'a branch'}.`);
    return s?.git && what(s.git).length ? s : undefined;
  };
  const apply = async (t: { id: string; step: string }): Promise<ApplyResult | undefined> => {
    const pick = await vscode.window.showQuickPick(APPLY_MODES.map((m) => ({ label: m, detail: MODES[m] })), { title: `Apply ${t.step} to your repository`, placeHolder: 'How?' });
    if (!pick) return undefined;
    const r = await ctx.send(GitApplyRequest, { ...t, mode: pick.label });
    if (!r.ok) {
      void vscode.window.showWarningMessage(`Orchestrator: ${r.reason}`);
      return r;
    }
    void vscode.window.showInformationMessage(`Orchestrator: ${t.step} applied (${r.mode}): ${r.changedFiles.length} file(s)${r.mode === 'uncommitted' ? ' changed in your working tree' : ` on ${r.branch ?? 'HEAD'} at ${r.commit.slice(0, 7)}`}.`);
    return r;
  };
  return [
    vscode.workspace.registerTextDocumentContentProvider(GIT_SCHEME, new GitContent(ctx)),
    reg('orchestrator.openChange', async (arg) => {
      const row = arg as TreeRow | undefined;
      if (row?.kind !== 'change') return;
      const name = path.posix.basename(row.path);
      await vscode.commands.executeCommand('vscode.diff', gitUri(row.sessionId, row.base, row.path), gitUri(row.sessionId, row.commit, row.path), `${name} (${row.stepId}: ${row.base.slice(0, 7)} ↔ ${row.commit.slice(0, 7)})`, { preview: true });
    }),
    reg('orchestrator.applyStep', async (arg) => {
      if (!(await requireTrust('apply'))) return;
      const t = await target(arg, 'Apply Step');
      return t ? apply(t) : undefined;
    }),
    reg('orchestrator.discardStep', async (arg) => {
      if (!(await requireTrust('discard'))) return;
      const t = await target(arg, 'Discard Step');
      if (!t) return;
      const ok = await vscode.window.showWarningMessage(`Discard the changes of ${t.step}? Its branch (and worktree) are deleted; the session's record stays.`, { modal: true }, 'Discard');
      if (ok !== 'Discard') return;
      const r = await ctx.send(GitDiscardRequest, t);
      void vscode.window.setStatusBarMessage(`Orchestrator: ${r.deleted ? `branch ${r.branch} deleted` : `branch ${r.branch} was gone already`}`, 5000);
      return r;
    }),
    // On a session: its result (the last git/merge that changed files, else its only change), or the step the user picks.
    reg('orchestrator.applySession', async (arg) => {
      if (!(await requireTrust('apply'))) return;
      const s = await sessionWithGit(arg, 'Apply Session\'s Result', (g) => g.appliable);
      if (!s?.git) return;
      const { appliable, result } = s.git;
      const step = result ?? (await pickStep(model, s.id, `Apply which step's changes of ${s.workflow}?`, (st) => appliable.includes(st.id)));
      return step ? apply({ id: s.id, step }) : undefined;
    }),
    reg('orchestrator.discardSession', async (arg) => {
      if (!(await requireTrust('discard'))) return;
      const s = await sessionWithGit(arg, 'Discard Session\'s Branches', (g) => g.branches);
      if (!s?.git) return;
      const { branches } = s.git;
      const ok = await vscode.window.showWarningMessage(
        `Discard the branches of session ${s.id} (${s.workflow})?`,
        { modal: true, detail: `The branches (and any worktree left) of ${branches.join(', ')} are deleted; the session's record stays.` },
        'Discard',
      );
      if (ok !== 'Discard') return;
      const done: Discarded[] = [];
      for (const step of branches) done.push(await ctx.send(GitDiscardRequest, { id: s.id, step }));
      const deleted = done.filter((d) => d.deleted).length;
      void vscode.window.setStatusBarMessage(`Orchestrator: ${deleted} branch(es) of ${s.id} deleted${deleted < done.length ? `, ${done.length - deleted} gone already` : ''}`, 5000);
      return done;
    }),
  ];
}
