/**
 * `.orchestrator/.gitignore`: keeps the machine-local parts out of git (sessions/: logs, states,
 * locks; secrets/: secret files), while workflows (`.orchestrator/workflows/`) and `config.yaml`
 * stay committable. Not `*` as the spec's sessions.md sketches: that would hide the workflows and
 * the config, which belong in the repository (docs/sessions.md, "Storage").
 *
 * Written whenever the orchestrator finds or makes `.orchestrator/` without one: when a session
 * is created, when secrets are read from `.orchestrator/secrets/`, when the editor's host starts
 * on the repository. So a folder made by hand (a `config.yaml`, a secret) is covered before the
 * first session, not only by it. An existing `.gitignore` is left as it is: the repository's own
 * choice (e.g. to commit sessions).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const GITIGNORE_TEXT = '# Machine-local orchestrator state (see docs/sessions.md)\nsessions/\nsecrets/\nworktrees/\n';

/** Writes `.orchestrator/.gitignore` when `.orchestrator/` exists without one. Best effort: never throws. */
export function ensureGitignore(repoRoot: string): void {
  const dir = path.join(repoRoot, '.orchestrator');
  const file = path.join(dir, '.gitignore');
  try {
    if (!fs.statSync(dir).isDirectory()) return;
    // O_EXCL: never overwrites one that appeared meanwhile (or a dangling symlink's target).
    fs.writeFileSync(file, GITIGNORE_TEXT, { flag: 'wx' });
  } catch {
    // no .orchestrator/, one exists already, or a read-only checkout: nothing to do
  }
}
