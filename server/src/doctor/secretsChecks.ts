/**
 * Secrets checks of doctor: those of `orchestrator secrets doctor` (setup/secretChecks.ts: every
 * `secrets.X` the workflows use resolves; secret files and folders private to their owner; git
 * keeps them out), with the two fixes doctor applies: `chmod-secrets` (files 600, folders 700)
 * and `write-gitignore`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECRET_NAME_PATTERN } from '../engine/secrets';
import { git } from '../engine/workspace/git';
import { secretChecks } from '../setup/secretChecks';
import { GITIGNORE_TEXT } from '../store/gitignore';
import { FixError, plural, result, type CheckResult, type DoctorOptions } from './types';

export const CHMOD_SECRETS_ACTION = 'chmod-secrets';
export const WRITE_GITIGNORE_ACTION = 'write-gitignore';

function secretDirs(o: Pick<DoctorOptions, 'repoRoot' | 'homeDir'>): string[] {
  return [path.join(o.repoRoot, '.orchestrator', 'secrets'), path.join(o.homeDir, '.orchestrator', 'secrets')];
}

/** Secret files (and their folders) that someone other than their owner may read (any group or other permission). */
export function exposedSecrets(o: Pick<DoctorOptions, 'repoRoot' | 'homeDir'>): { file: string; mode: number; dir: boolean }[] {
  const out: { file: string; mode: number; dir: boolean }[] = [];
  for (const dir of secretDirs(o)) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const dirMode = fs.statSync(dir).mode & 0o777;
    if ((dirMode & 0o077) !== 0) out.push({ file: dir, mode: dirMode, dir: true });
    for (const n of names.sort()) {
      if (!SECRET_NAME_PATTERN.test(n)) continue;
      const file = path.join(dir, n);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st?.isFile() && (st.mode & 0o077) !== 0) out.push({ file, mode: st.mode & 0o777, dir: false });
    }
  }
  return out;
}

/** Whether git ignores a file in `.orchestrator/secrets/` (a probe name: git matches patterns, the file need not exist). */
async function secretsIgnored(repoRoot: string): Promise<boolean> {
  const r = await git(repoRoot, ['check-ignore', '-q', '--', '.orchestrator/secrets/doctor-probe'], { okCodes: [1] });
  return r.code === 0;
}

/**
 * The secrets checks of `orchestrator secrets doctor` (setup/secretChecks.ts), with the fixes
 * doctor can apply itself: chmod for secret files and folders others can read, the `.gitignore`
 * line for a secrets folder git would commit.
 */
export async function secretsChecks(o: DoctorOptions): Promise<CheckResult[]> {
  const results = await secretChecks({ repoRoot: o.repoRoot, homeDir: o.homeDir, env: o.env });
  return results.map((c): CheckResult => {
    const action = c.status === 'pass' ? undefined : c.id.startsWith('secrets.permissions') ? CHMOD_SECRETS_ACTION : c.id === 'secrets.gitignore' ? WRITE_GITIGNORE_ACTION : undefined;
    const fix = c.fix ? { description: c.fix, ...(action ? { action } : {}) } : undefined;
    return result(c.id, c.title, c.status, c.detail, fix);
  });
}

/** `chmod-secrets`: mode 600 for every secret file others could read. */
export function chmodSecretsFix(o: DoctorOptions): string {
  const exposed = exposedSecrets(o);
  if (!exposed.length) return 'nothing to do: only their owner can read the secret files and folders';
  for (const e of exposed) {
    try {
      fs.chmodSync(e.file, e.dir ? 0o700 : 0o600);
    } catch (err) {
      throw new FixError(`cannot change the mode of ${e.file}: ${(err as Error).message}; run chmod ${e.dir ? '700' : '600'} on it yourself`);
    }
  }
  const files = exposed.filter((e) => !e.dir);
  const dirs = exposed.filter((e) => e.dir);
  return `made ${[files.length ? `${plural(files.length, 'secret file')} (600)` : '', dirs.length ? `${plural(dirs.length, 'secrets folder')} (700)` : ''].filter(Boolean).join(' and ')} private to their owner: ${exposed.map((e) => e.file).join(', ')}`;
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
