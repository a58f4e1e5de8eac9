/**
 * What the editor asks before a resume when the session's workflow file changed since it started
 * (the host compares: CheckDefinitionRequest, engine/definition.ts). Plain data, no VS Code types,
 * so it is tested without an editor; commands/sessionCommands.ts shows it as a modal dialog.
 */
import type { DefinitionCheck } from './protocol';

export type ResumeAnswer = 'reload' | 'stored' | 'fresh' | 'problems';

export interface ResumeQuestion {
  message: string;
  detail: string;
  /** The dialog's buttons, in order (the dialog adds Cancel: resume nothing). */
  buttons: { label: string; answer: ResumeAnswer }[];
}

export const BUTTONS = {
  reload: 'Resume with the Changed File',
  stored: 'Resume with the Stored Definition',
  fresh: 'Start a New Session',
  problems: 'Show Problems',
} as const;

function ids(check: DefinitionCheck): string {
  const parts = [check.added.length ? `adds ${check.added.join(', ')}` : '', check.removed.length ? `removes ${check.removed.join(', ')}` : ''].filter(Boolean);
  return parts.join(' and ');
}

/** The question for this check, or undefined when there is nothing to choose (the file is as it was, or gone). */
export function resumeQuestion(check: DefinitionCheck, id: string): ResumeQuestion | undefined {
  const message = `${check.file} changed since session ${id} started.`;
  const stored = { label: BUTTONS.stored, answer: 'stored' as const };
  switch (check.status) {
    case 'unchanged':
    case 'missing':
      return undefined;
    case 'invalid':
      return {
        message,
        detail: `The file has ${check.errors?.length ?? 1} error(s) now, so the session cannot take it:\n${(check.errors ?? []).slice(0, 3).join('\n')}\n\nFix them and resume again to run the changed steps, or resume with the definition the session started with.`,
        buttons: [{ label: BUTTONS.problems, answer: 'problems' }, stored],
      };
    case 'changed':
      if (!check.reloadable) {
        return {
          message,
          detail: `Its steps differ from the session's (the file ${ids(check)}), so the session cannot take it. Start a new session of the changed file, or resume this one with the definition it started with.`,
          buttons: [{ label: BUTTONS.fresh, answer: 'fresh' }, stored],
        };
      }
      return {
        message,
        detail: 'Resume with the file as it is now (the steps that run again use the changed definition), or with the definition the session started with?',
        buttons: [{ label: BUTTONS.reload, answer: 'reload' }, stored],
      };
  }
}
