/**
 * Secrets checks of doctor: secret files only their owner can read, and `.orchestrator/.gitignore`
 * keeping `.orchestrator/secrets/` out of git (asked of git itself: `git check-ignore`).
 *
 * TODO(init13): init13's engine module of secrets checks (same CheckResult shape; also "every
 * `secrets.X` the workflows use resolvable") replaces or joins these two; the lead wires it in
 * doctor.ts. The fix ids `chmod-secrets` and `write-gitignore` are what the Doctor panel and
 * `doctor --fix` apply.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECRET_NAME_PATTERN } from '../engine/secrets';
import { git, gitText } from '../engine/workspace/git';
import { gitRepoOf } from '../engine/workspace/worktrees';
import { GITIGNORE_TEXT } from '../store/gitignore';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const CHMOD_SECRETS_ACTION = 'chmod-secrets';
export const WRITE_GITIGNORE_ACTION = 'write-gitignore';

function secretDirs(o: Pick<DoctorOptions, 'repoRoot' | 'homeDir'>): string[] {
  return [path.join(o.repoRoot, '.orchestrator', 'secrets'), path.join(o.homeDir, '.orchestrator', 'secrets')];
}

/** Secret files that someone other than their owner may read (any group or other permission). */
export function exposedSecrets(o: Pick<DoctorOptions, 'repoRoot' | 'homeDir'>): { file: string; mode: number }[] {
  const out: { file: string; mode: number }[] = [];
  for (const dir of secretDirs(o)) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      if (!SECRET_NAME_PATTERN.test(n)) continue;
      const file = path.join(dir, n);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st?.isFile() && (st.mode & 0o077) !== 0) out.push({ file, mode: st.mode & 0o777 });
    }
  }
  return out;
}

function permissionsCheck(o: DoctorOptions): CheckResult {
  const title = 'Secret files permissions';
  const exposed = exposedSecrets(o);
  if (!exposed.length) return result('secrets-permissions', title, 'pass', 'only their owner can read the secret files');
  const list = exposed.map((e) => `${e.file} (${e.mode.toString(8).padStart(3, '0')})`).join(', ');
  const who = exposed.some((e) => (e.mode & 0o004) !== 0) ? 'anyone on this machine' : 'their group';
  return result('secrets-permissions', title, 'warn', `${who} can read ${plural(exposed.length, 'secret file')}: ${list}`, { description: 'make them readable by their owner only (chmod 600)', action: CHMOD_SECRETS_ACTION });
}

/** Whether git ignores a file in `.orchestrator/secrets/` (a probe name: git matches patterns, the file need not exist). */
async function secretsIgnored(repoRoot: string): Promise<boolean> {
  const r = await git(repoRoot, ['check-ignore', '-q', '--', '.orchestrator/secrets/doctor-probe'], { okCodes: [1] });
  return r.code === 0;
}

async function gitignoreCheck(o: DoctorOptions): Promise<CheckResult> {
  const title = 'Secrets kept out of git';
  const id = 'secrets-gitignore';
  const dir = path.join(o.repoRoot, '.orchestrator');
  if (!fs.existsSync(dir)) return result(id, title, 'pass', 'no .orchestrator/ folder yet');
  if (!(await gitRepoOf(o.repoRoot))) return result(id, title, 'pass', 'not a git repository: nothing is committed');
  let tracked: string[] = [];
  try {
    tracked = (await gitText(o.repoRoot, ['ls-files', '--', '.orchestrator/secrets'])).split('\n').filter(Boolean);
  } catch {
    tracked = [];
  }
  if (tracked.length) {
    return result(id, title, 'fail', `git already tracks ${plural(tracked.length, 'secret file')}: ${tracked.join(', ')}`, {
      description: `untrack them (git rm --cached ${tracked.join(' ')}), change those secrets (they are in the history), and keep secrets/ in .orchestrator/.gitignore`,
    });
  }
  let ignored: boolean;
  try {
    ignored = await secretsIgnored(o.repoRoot);
  } catch (e) {
    return result(id, title, 'warn', `git check-ignore failed: ${(e as Error).message}`);
  }
  if (ignored) return result(id, title, 'pass', 'git ignores .orchestrator/secrets/');
  const hasGitignore = fs.existsSync(path.join(dir, '.gitignore'));
  const anySecret = fs.existsSync(path.join(dir, 'secrets')) && fs.readdirSync(path.join(dir, 'secrets')).some((n) => SECRET_NAME_PATTERN.test(n));
  const why = hasGitignore ? '.orchestrator/.gitignore does not ignore secrets/' : 'there is no .orchestrator/.gitignore';
  return result(id, title, anySecret ? 'fail' : 'warn', `${why}: git add would commit the secret files${anySecret ? ' that are there now' : ' put in .orchestrator/secrets/'}`, {
    description: hasGitignore ? 'add the line secrets/ to .orchestrator/.gitignore' : 'write .orchestrator/.gitignore (sessions/, secrets/, worktrees/)',
    action: WRITE_GITIGNORE_ACTION,
  });
}

export async function secretsChecks(o: DoctorOptions): Promise<CheckResult[]> {
  return [permissionsCheck(o), await gitignoreCheck(o)];
}

/** `chmod-secrets`: mode 600 for every secret file others could read. */
export function chmodSecretsFix(o: DoctorOptions): string {
  const exposed = exposedSecrets(o);
  if (!exposed.length) return 'nothing to do: only their owner can read the secret files';
  for (const e of exposed) {
    try {
      fs.chmodSync(e.file, 0o600);
    } catch (err) {
      throw new FixError(`cannot change the mode of ${e.file}: ${(err as Error).message}; run chmod 600 on it yourself`);
    }
  }
  return `made ${plural(exposed.length, 'secret file')} readable by their owner only (600): ${exposed.map((e) => e.file).join(', ')}`;
}

/** `write-gitignore`: `.orchestrator/.gitignore` as the orchestrator writes it, or `secrets/` added to the one there. */
export async function writeGitignoreFix(o: DoctorOptions): Promise<string> {
  const dir = path.join(o.repoRoot, '.orchestrator');
  const file = path.join(dir, '.gitignore');
  if (!fs.existsSync(dir)) return 'nothing to do: no .orchestrator/ folder';
  if (await secretsIgnored(o.repoRoot)) return 'nothing to do: git ignores .orchestrator/secrets/ already';
  let did: string;
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, GITIGNORE_TEXT, { flag: 'wx' });
    did = 'wrote .orchestrator/.gitignore (sessions/, secrets/, worktrees/)';
  } else {
    const text = fs.readFileSync(file, 'utf8');
    fs.appendFileSync(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}secrets/\n`);
    did = 'added secrets/ to .orchestrator/.gitignore';
  }
  if (!(await secretsIgnored(o.repoRoot))) {
    throw new FixError(`${did}, but git still does not ignore .orchestrator/secrets/: git check-ignore -v --no-index .orchestrator/secrets/X shows which rule wins`);
  }
  return did;
}
