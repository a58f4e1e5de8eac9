/**
 * The doctor's secrets checks (`orchestrator secrets doctor`, and `orchestrator doctor` with the
 * others): every `secrets.X` the workflows use resolves (and can be read, and is not empty);
 * secret files and folders are private to their owner; git keeps the repository's secrets out
 * (`git check-ignore` on the folder and on every secret file, and no secret file tracked).
 * Each result says pass / warn / fail, what was found, and the command that fixes it. No value is
 * read into a result.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { looseMode, octal } from '../engine/secretModes';
import { SECRET_ENV_PREFIX, SECRET_NAME_PATTERN } from '../engine/secrets';
import { ignoredPaths, trackedFiles } from './gitFacts';
import { homeSecretsDir, repoSecretsDir, resolveOne, type SecretPlaces } from './secretStore';
import { secretUsage, type SecretUsage, type SecretUse } from './workflowFiles';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /**
   * Stable and unique: `secrets.used` (all set) or `secrets.used.<NAME>` (one each that is not),
   * `secrets.dynamic`, `secrets.folders.<repo|home>`, `secrets.permissions` (all private) or
   * `secrets.permissions.<repo|home>`, `secrets.gitignore`, `secrets.tracked`.
   */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** A command (or an edit) that fixes it. */
  readonly fix?: string;
}

export interface SecretCheckOptions {
  readonly repoRoot: string;
  readonly homeDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The workflows' secret usage, when the caller has it already. */
  readonly usage?: SecretUsage;
}

/** A path for a shell command line. */
export function shellQuote(p: string): string {
  return /^[\w./~@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

function where(uses: readonly SecretUse[]): string {
  const shown = uses.slice(0, 5).map((u) => `${u.file}:${u.line}`);
  return shown.join(', ') + (uses.length > 5 ? ` and ${uses.length - 5} more` : '');
}

/** Every secrets check, in a fixed order. */
export async function secretChecks(opts: SecretCheckOptions): Promise<CheckResult[]> {
  const places: SecretPlaces = { env: opts.env ?? process.env, repoRoot: opts.repoRoot, homeDir: opts.homeDir ?? os.homedir() };
  const usage = opts.usage ?? (await secretUsage(opts.repoRoot));
  return [...usedSecretsResolve(usage, places), ...folderChecks(places), ...(await gitChecks(opts.repoRoot))];
}

/** Every `secrets.X` the workflows read resolves, can be read, and is not empty. */
export function usedSecretsResolve(usage: SecretUsage, places: SecretPlaces): CheckResult[] {
  const title = 'Secrets the workflows use are set';
  const out: CheckResult[] = [];
  const fine: string[] = [];
  for (const [name, uses] of [...usage.uses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const r = resolveOne(name, places);
    const id = `secrets.used.${name}`;
    if (!r.from) {
      const tried = [`${SECRET_ENV_PREFIX}${name}`, path.join(repoSecretsDir(places.repoRoot!), name), ...(places.homeDir ? [path.join(homeSecretsDir(places.homeDir), name)] : [])];
      out.push({ id, title, status: 'fail', detail: `${name} is used by ${where(uses)} but is set nowhere (looked for ${tried.join(', ')})`, fix: `orchestrator secrets set ${name}` });
    } else if (r.error) {
      out.push({ id, title, status: 'fail', detail: `${name} (used by ${where(uses)}): ${r.error}`, fix: `chmod 600 ${shellQuote(r.from.at)} (and check that you own it)` });
    } else if (r.empty) {
      out.push({ id, title, status: 'warn', detail: `${name} (used by ${where(uses)}) is empty in ${r.from.at}`, fix: `orchestrator secrets set ${name}` });
    } else fine.push(`${name} (${r.from.kind === 'env' ? r.from.at : r.from.kind === 'repo' ? path.relative(places.repoRoot!, r.from.at) : r.from.at})`);
  }
  if (usage.dynamic.length) {
    out.push({ id: 'secrets.dynamic', title, status: 'warn', detail: `${where(usage.dynamic)} read secrets[...] with a computed name: which secret cannot be checked`, fix: 'write secrets.NAME for each secret a workflow needs' });
  }
  if (out.length === 0) {
    const detail = usage.uses.size === 0 ? `no workflow reads secrets.X (${usage.workflows.length} workflow${usage.workflows.length === 1 ? '' : 's'})` : `${fine.length} secret${fine.length === 1 ? '' : 's'} used by the workflows, each set: ${fine.join(', ')}`;
    out.unshift({ id: 'secrets.used', title, status: 'pass', detail });
  }
  return out;
}

interface Loose {
  path: string;
  mode: number;
}

/** The secrets folders can be read, and neither they nor their files are open to other users. */
export function folderChecks(places: SecretPlaces): CheckResult[] {
  const dirs = [...(places.repoRoot ? [{ kind: 'repo', dir: repoSecretsDir(places.repoRoot) }] : []), ...(places.homeDir ? [{ kind: 'home', dir: homeSecretsDir(places.homeDir) }] : [])];
  const out: CheckResult[] = [];
  const loose: { kind: string; dir: string; items: Loose[] }[] = [];
  for (const { kind, dir } of dirs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      out.push({ id: `secrets.folders.${kind}`, title: 'Secret folders can be read', status: 'fail', detail: `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, fix: `check the owner and permissions of ${shellQuote(dir)}` });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ id: `secrets.folders.${kind}`, title: 'Secret folders can be read', status: 'fail', detail: `${dir} is not a folder: no secret is read from it`, fix: `move ${shellQuote(dir)} away` });
      continue;
    }
    const items: Loose[] = looseMode(st.mode) ? [{ path: dir, mode: st.mode }] : [];
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      out.push({ id: `secrets.folders.${kind}`, title: 'Secret folders can be read', status: 'fail', detail: `${dir} cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): sessions cannot start`, fix: `chmod 700 ${shellQuote(dir)} (and check that you own it)` });
      continue;
    }
    for (const n of names.sort()) {
      try {
        const f = fs.statSync(path.join(dir, n)); // what a session reads: a link's target
        if (f.isFile() && looseMode(f.mode)) items.push({ path: path.join(dir, n), mode: f.mode });
      } catch {
        // gone meanwhile
      }
    }
    if (items.length) loose.push({ kind, dir, items });
  }
  if (process.platform === 'win32') out.push({ id: 'secrets.permissions', title: 'Secret files are private', status: 'pass', detail: 'not checked on Windows (file modes do not say who can read a file)' });
  else if (loose.length === 0) out.push({ id: 'secrets.permissions', title: 'Secret files are private', status: 'pass', detail: dirs.some((d) => fs.existsSync(d.dir)) ? 'no other user can read the secret files or list their folders' : 'no secret files' });
  else {
    for (const { kind, dir, items } of loose) {
      const list = items.map((i) => `${i.path === dir ? `${dir}/` : path.basename(i.path)} (${octal(i.mode)})`).join(', ');
      out.push({ id: `secrets.permissions.${kind}`, title: 'Secret files are private', status: 'warn', detail: `other users can ${items.some((i) => i.path !== dir) ? 'read' : 'list'} ${list} in ${dir}`, fix: `chmod -R go-rwx ${shellQuote(dir)}` });
    }
  }
  return out;
}

/** Git ignores the repository's secrets folder and every file in it, and tracks none of them. */
export async function gitChecks(repoRoot: string): Promise<CheckResult[]> {
  const title = 'Git keeps secrets out';
  const dir = repoSecretsDir(repoRoot);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => SECRET_NAME_PATTERN.test(n) || !n.startsWith('.'));
  } catch {
    // no folder: the probe still says what git would do with one
  }
  const rels = ['.orchestrator/secrets/SECRET', ...names.map((n) => `.orchestrator/secrets/${n}`)];
  const verdicts = await ignoredPaths(repoRoot, rels);
  if (!verdicts) return [{ id: 'secrets.gitignore', title, status: 'pass', detail: 'not a git repository' }];
  const out: CheckResult[] = [];
  const exposed = verdicts.filter((v) => !v.ignored);
  if (exposed.length) {
    const rule = exposed.find((v) => v.rule)?.rule;
    const files = exposed.filter((v) => v.path !== rels[0]).map((v) => v.path);
    out.push({
      id: 'secrets.gitignore',
      title,
      status: 'fail',
      detail: `git would commit ${files.length ? files.join(', ') : 'files put in .orchestrator/secrets/'}${rule ? ` (${rule})` : ''}`,
      fix: fs.existsSync(path.join(repoRoot, '.orchestrator', '.gitignore')) ? 'add the line secrets/ to .orchestrator/.gitignore (and remove any rule that un-ignores it)' : 'orchestrator init (it writes .orchestrator/.gitignore)',
    });
  } else out.push({ id: 'secrets.gitignore', title, status: 'pass', detail: `git ignores .orchestrator/secrets/${names.length ? ` and its ${names.length} file${names.length === 1 ? '' : 's'}` : ''}` });
  const tracked = await trackedFiles(repoRoot, '.orchestrator/secrets');
  if (tracked?.length) {
    out.push({ id: 'secrets.tracked', title, status: 'fail', detail: `git tracks ${tracked.join(', ')}: they are in the repository's history`, fix: `git rm --cached -- ${tracked.map(shellQuote).join(' ')}, then change those secrets` });
  }
  return out;
}
