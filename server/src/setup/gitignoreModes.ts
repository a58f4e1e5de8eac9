/**
 * The two `.orchestrator/.gitignore` files `init` writes, and how to tell whether the one in a
 * repository is still one of ours (then `init` may switch it to the other mode) or was edited by
 * hand (then it is left alone and the user is told what to change).
 *
 * Not `*` as the spec's sessions.md sketches: that would hide the workflows and config.yaml, which
 * belong in the repository (docs/setup.md, "What git sees").
 * - normal: sessions/, secrets/ and worktrees/ stay out of git (store/gitignore.ts writes the same
 *   text when a session or a secret finds the folder without one).
 * - portable: sessions are committed with the repository; secrets and worktrees never are, nor the
 *   files inside sessions that only mean something on the machine that wrote them: a live
 *   runner's lock, its control file, its scratch pointers and step process files, and the
 *   sessions folder's dot-files (a detached runner's own log, half-imported or half-deleted folders).
 */
import { GITIGNORE_TEXT } from '../store/gitignore';

export type RepoMode = 'normal' | 'portable';

export const NORMAL_GITIGNORE = GITIGNORE_TEXT;

export const PORTABLE_GITIGNORE = `# Portable mode (orchestrator init --portable): sessions are committed; secrets and worktrees never are
secrets/
worktrees/
# what only means something on the machine that wrote it
sessions/.*
sessions/*/lock
sessions/*/control.jsonl
sessions/*/.scratch/
sessions/*/steps/**/*.proc
`;

/** Texts earlier versions wrote: still ours, so `init` may replace them. */
const OLDER_NORMAL = ['# Machine-local orchestrator state (see docs/sessions.md)\nsessions/\nsecrets/\n'];

export function gitignoreText(mode: RepoMode): string {
  return mode === 'portable' ? PORTABLE_GITIGNORE : NORMAL_GITIGNORE;
}

/** The mode of a `.gitignore` we wrote, or 'custom' when it is not byte for byte one of ours. */
export function gitignoreMode(text: string): RepoMode | 'custom' {
  if (text === NORMAL_GITIGNORE || OLDER_NORMAL.includes(text)) return 'normal';
  if (text === PORTABLE_GITIGNORE) return 'portable';
  return 'custom';
}

/** Whether a text is exactly what `init` writes today for its mode (an older text of ours is not). */
export function isCurrentText(text: string): boolean {
  return text === NORMAL_GITIGNORE || text === PORTABLE_GITIGNORE;
}
