/**
 * Initialize Repository, Set Secret, List Secrets: the editor's doors onto `orchestrator init` and
 * `orchestrator secrets`, answered by the host with the same code (protocol/setup.ts). A secret's
 * value goes from a password box straight to the host, which writes it to the secret's file; it
 * is never shown, logged or kept by the extension.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { InitRequest, ListSecretsRequest, SetSecretRequest, TestSecretRequest, type InitReport, type SecretEntry, type SourceDto } from '../protocol';
import { guarded } from './sessionCommands';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MODE_WORDS: Record<InitReport['mode'], string> = {
  normal: 'normal mode: sessions, secrets and worktrees stay out of git',
  portable: 'portable mode: sessions are committed; secrets and worktrees never are',
  custom: 'its .gitignore was written by hand',
};

/** Says what init did: the status bar when nothing needs the user, a message with the notes otherwise. */
export async function announceInit(ctx: Ctx, r: InitReport): Promise<void> {
  const made = r.items.filter((i) => i.action !== 'kept').map((i) => `${i.action} ${i.path}`);
  for (const line of [`init (${MODE_WORDS[r.mode]}):`, ...r.items.map((i) => `  ${i.action} ${i.path}${i.note ? ` (${i.note})` : ''}`), ...r.notes.map((n) => `  to do: ${n}`)]) ctx.output.info(line);
  if (r.notes.length) {
    const pick = await vscode.window.showWarningMessage(`Orchestrator: ${r.notes[0].split('\n')[0]}${r.notes.length > 1 ? ` (and ${r.notes.length - 1} more)` : ''}`, 'Show Details');
    if (pick) ctx.output.show(true);
  } else if (made.length) void vscode.window.setStatusBarMessage(`$(check) Orchestrator: ${made.join(', ')}`, 8000);
}

function where(s: SourceDto | undefined): string {
  if (!s) return 'not set';
  if (s.kind === 'env') return s.at;
  return `${s.kind === 'home' ? '~/' : ''}.orchestrator/secrets/${path.basename(s.at)}`;
}

export function registerSetupCommands(ctx: Ctx): vscode.Disposable[] {
  const reg = (id: string, f: (arg?: unknown) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(ctx, f));
  const root = (): string | undefined => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;

  const setSecret = async (preset?: string): Promise<unknown> => {
    if (vscode.workspace.getConfiguration('orchestrator').get<string>('trace.server') === 'verbose') {
      return void vscode.window.showErrorMessage("Orchestrator: 'orchestrator.trace.server' is 'verbose', which would write the secret's value to the log: set it to 'off' or 'messages' first.");
    }
    const name =
      preset ??
      (await vscode.window.showInputBox({
        title: 'Set Secret',
        prompt: 'The name, as in secrets.NAME',
        ignoreFocusOut: true,
        validateInput: (v) => (NAME.test(v) ? undefined : "letters, digits, '_' and '-', starting with a letter or '_'"),
      }));
    if (!name) return;
    const value = await vscode.window.showInputBox({ title: `Set Secret ${name}`, prompt: 'The value (hidden; written only to the secret file, mode 0600)', password: true, ignoreFocusOut: true });
    if (value === undefined) return;
    if (value === '') return void vscode.window.showWarningMessage(`Orchestrator: the value of ${name} is empty: nothing was written.`);
    const scope = await vscode.window.showQuickPick(
      [
        { label: 'This repository', description: '.orchestrator/secrets/ (git ignores it)', global: false },
        { label: 'All my repositories', description: '~/.orchestrator/secrets/', global: true },
      ],
      { title: `Where to keep ${name}`, ignoreFocusOut: true },
    );
    if (!scope) return;
    const r = await ctx.send(SetSecretRequest, { name, value, global: scope.global });
    void vscode.window.setStatusBarMessage(`$(lock) Orchestrator: secret ${name} ${r.replaced ? 'replaced' : 'saved'} (mode 0600)`, 8000);
    for (const w of r.warnings) void vscode.window.showWarningMessage(`Orchestrator: ${name}: ${w}`);
    return { file: r.file, replaced: r.replaced };
  };

  const testSecret = async (name: string): Promise<void> => {
    const t = await ctx.send(TestSecretRequest, { name });
    if (t.error) void vscode.window.showErrorMessage(`Orchestrator: ${name} cannot be read: ${t.error}`);
    else if (!t.from) {
      const pick = await vscode.window.showWarningMessage(`Orchestrator: ${name} is not set (looked for ${t.lookedIn.join(', ')}).`, 'Set Secret…');
      if (pick) await setSecret(name);
    } else void vscode.window.showInformationMessage(`Orchestrator: ${name} resolves from ${where(t.from)}${t.empty ? ', but it is empty' : ''}${t.shadowed.length ? ` (it wins over ${t.shadowed.map((s) => where(s)).join(', ')})` : ''}.`);
  };

  return [
    reg('orchestrator.initRepository', async () => {
      if (!root()) return void vscode.window.showWarningMessage('Orchestrator: open a folder first.');
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Normal', description: 'sessions stay on this machine; secrets and worktrees out of git', portable: false },
          { label: 'Portable', description: 'sessions are committed with the repository; secrets and worktrees never are', portable: true },
        ],
        { title: 'Initialize Repository: set up .orchestrator/ (nothing existing is overwritten)' },
      );
      if (!pick) return;
      const r = await ctx.send(InitRequest, { portable: pick.portable });
      if (!r.changed && !r.notes.length) void vscode.window.showInformationMessage(`Orchestrator: .orchestrator/ is already set up (${MODE_WORDS[r.mode]}); nothing changed.`);
      await announceInit(ctx, r);
      return r;
    }),
    reg('orchestrator.setSecret', (arg?: unknown) => setSecret(typeof arg === 'string' && NAME.test(arg) ? arg : undefined)),
    reg('orchestrator.listSecrets', async () => {
      const list = await ctx.send(ListSecretsRequest, {});
      if (!list.secrets.length) {
        const pick = await vscode.window.showInformationMessage('Orchestrator: no secrets, and no workflow reads one.', 'Set Secret…');
        return pick ? setSecret() : undefined;
      }
      const item = (e: SecretEntry): vscode.QuickPickItem & { entry: SecretEntry } => ({
        label: `${e.set ? '$(lock)' : '$(warning)'} ${e.name}`,
        description: where(e.from) + (e.from?.looseMode ? ` (readable by others: ${e.from.looseMode})` : ''),
        detail: e.usedBy.length ? `used by ${e.usedBy.map((u) => `${u.file}:${u.line}`).join(', ')}` : 'no workflow reads it',
        entry: e,
      });
      // Those a workflow needs and nobody set come first.
      const sorted = [...list.secrets].sort((a, b) => Number(a.set) - Number(b.set));
      const chosen = await vscode.window.showQuickPick(sorted.map(item), { title: 'Secrets (values are never shown)', matchOnDetail: true });
      if (!chosen) return list;
      const e = chosen.entry;
      const actions = [{ label: 'Set Value…', run: () => setSecret(e.name) }, { label: 'Test', run: () => testSecret(e.name) }, ...e.usedBy.map((u) => ({ label: `Go to ${u.file}:${u.line}`, run: () => vscode.window.showTextDocument(vscode.Uri.file(path.join(list.repoRoot, u.file)), { selection: new vscode.Range(u.line - 1, 0, u.line - 1, 0) }) }))];
      const act = await vscode.window.showQuickPick(actions, { title: e.name });
      await act?.run();
      return list;
    }),
  ];
}
