/**
 * Where secrets come from and how they are written, for the secrets commands and the doctor. The
 * order is resolveSecrets' (engine/secrets.ts): `ORCHESTRATOR_SECRET_<NAME>`, then the
 * repository's `.orchestrator/secrets/<NAME>`, then `~/.orchestrator/secrets/<NAME>`; the first
 * that has the name wins. Nothing here returns or prints a value.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECRET_ENV_PREFIX, SECRET_NAME_PATTERN } from '../engine/secrets';
import { looseMode } from '../engine/secretModes';
import { ensureGitignore } from '../store/gitignore';
import { ensureDir, replaceFileAtomic } from './atomicFiles';
import { ignoredPaths, trackedFiles } from './gitFacts';

export type SecretOrigin = 'env' | 'repo' | 'home';

export interface SecretSource {
  readonly kind: SecretOrigin;
  /** `env ORCHESTRATOR_SECRET_X`, or the file's absolute path. */
  readonly at: string;
  /** For a file: its mode, and whether other users may read it. */
  readonly mode?: number;
  readonly loose?: boolean;
}

export interface SecretPlaces {
  readonly env: NodeJS.ProcessEnv;
  readonly repoRoot?: string;
  readonly homeDir?: string;
}

export function repoSecretsDir(repoRoot: string): string {
  return path.join(repoRoot, '.orchestrator', 'secrets');
}
export function homeSecretsDir(homeDir: string): string {
  return path.join(homeDir, '.orchestrator', 'secrets');
}

export const NAME_RULE = "a secret name is letters, digits, '_' and '-', starting with a letter or '_' (as in secrets.NAME), e.g. DEPLOY_TOKEN";

/** An error message for a name that cannot be a secret, or undefined when it can. */
export function badSecretName(name: string): string | undefined {
  return SECRET_NAME_PATTERN.test(name) ? undefined : `'${name}' is not a secret name: ${NAME_RULE}`;
}

function dirs(p: SecretPlaces): { kind: 'repo' | 'home'; dir: string }[] {
  return [...(p.repoRoot ? [{ kind: 'repo' as const, dir: repoSecretsDir(p.repoRoot) }] : []), ...(p.homeDir ? [{ kind: 'home' as const, dir: homeSecretsDir(p.homeDir) }] : [])];
}

function fileSource(kind: 'repo' | 'home', file: string): SecretSource | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? { kind, at: file, mode: st.mode & 0o7777, loose: looseMode(st.mode) } : undefined;
  } catch {
    return undefined;
  }
}

/** Every place that has this name, the winning one first. */
export function sourcesOf(name: string, p: SecretPlaces): SecretSource[] {
  const out: SecretSource[] = [];
  if (p.env[SECRET_ENV_PREFIX + name] !== undefined) out.push({ kind: 'env', at: `env ${SECRET_ENV_PREFIX}${name}` });
  for (const { kind, dir } of dirs(p)) {
    const s = fileSource(kind, path.join(dir, name));
    if (s) out.push(s);
  }
  return out;
}

/** Every secret name any place has (sorted), each with its places, the winning one first. */
export function allSecrets(p: SecretPlaces): Map<string, SecretSource[]> {
  const names = new Set<string>();
  for (const k of Object.keys(p.env)) {
    if (k.startsWith(SECRET_ENV_PREFIX) && p.env[k] !== undefined && SECRET_NAME_PATTERN.test(k.slice(SECRET_ENV_PREFIX.length))) names.add(k.slice(SECRET_ENV_PREFIX.length));
  }
  for (const { dir } of dirs(p)) {
    try {
      for (const n of fs.readdirSync(dir)) if (SECRET_NAME_PATTERN.test(n)) names.add(n);
    } catch {
      // no folder, or not readable (the doctor says so)
    }
  }
  const out = new Map<string, SecretSource[]>();
  for (const n of [...names].sort()) {
    const s = sourcesOf(n, p);
    if (s.length) out.set(n, s);
  }
  return out;
}

export interface Resolution {
  readonly name: string;
  readonly from?: SecretSource;
  /** Places that also have it and lose to `from`. */
  readonly shadowed: SecretSource[];
  /** Set when it resolves to an empty value. */
  readonly empty?: boolean;
  /** Set when the winning file cannot be read (so a session could not start). */
  readonly error?: string;
}

/** Resolves one name as a session would: which place wins, whether it can be read, whether it is empty. The value is not kept. */
export function resolveOne(name: string, p: SecretPlaces): Resolution {
  const [from, ...shadowed] = sourcesOf(name, p);
  if (!from) return { name, shadowed };
  let value: string;
  if (from.kind === 'env') value = p.env[SECRET_ENV_PREFIX + name] ?? '';
  else {
    try {
      value = fs.readFileSync(from.at, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      return { name, from, shadowed, error: `cannot read ${from.at}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  return { name, from, shadowed, ...(value === '' ? { empty: true } : {}) };
}

export interface SetResult {
  readonly file: string;
  /** The file existed and was replaced. */
  readonly replaced: boolean;
  /** The secrets folder was created (mode 0700). */
  readonly createdDir: boolean;
  /** The folder existed with access for other users (its mode). */
  readonly looseDir?: number;
  /** A place that wins over this file (an environment variable, or the repository's file over the home one). */
  readonly shadowedBy?: SecretSource;
}

/** A secret that was not written: the message says why and what to do. */
export class SecretWriteError extends Error {
  override readonly name = 'SecretWriteError';
}

/**
 * Writes a secret file: mode 0600 from its first byte, atomically (a reader sees the old value or
 * the new one), in a folder made with mode 0700. The content is the value, plus a newline when the
 * value itself ends in one (the reader takes one trailing newline off), so it reads back exactly.
 * In a repository the folder gets its `.gitignore` first (store/gitignore.ts), and the secret is
 * refused when git would still commit it (a hand-written ignore file, or a file git tracks).
 */
export async function setSecret(name: string, value: string, where: { scope: 'repo'; repoRoot: string } | { scope: 'home'; homeDir: string }, p: SecretPlaces): Promise<SetResult> {
  const bad = badSecretName(name);
  if (bad) throw new SecretWriteError(bad);
  if (value === '') throw new SecretWriteError(`the value of ${name} is empty: nothing was written`);
  let dir: string;
  if (where.scope === 'repo') {
    dir = repoSecretsDir(where.repoRoot);
    // A link would put the file somewhere git's rules for .orchestrator/secrets/ do not cover.
    for (const d of [path.dirname(dir), dir]) {
      if (fs.lstatSync(d, { throwIfNoEntry: false })?.isSymbolicLink()) throw new SecretWriteError(`${name} was not written: ${d} is a symbolic link; secrets are written only into a real folder (use --global, or replace the link with a folder)`);
    }
    ensureDir(path.dirname(dir));
    ensureGitignore(where.repoRoot);
    const rel = `.orchestrator/secrets/${name}`;
    const [verdict] = (await ignoredPaths(where.repoRoot, [rel])) ?? [];
    if (verdict && !verdict.ignored) throw new SecretWriteError(`${name} was not written: git would commit ${rel}${verdict.rule ? ` (${verdict.rule})` : ''}; make .orchestrator/.gitignore ignore secrets/, or use --global`);
    if ((await trackedFiles(where.repoRoot, rel))?.length) throw new SecretWriteError(`${name} was not written: git tracks ${rel}; run git rm --cached ${rel} first (and change the secret: it is in the history)`);
  } else dir = homeSecretsDir(where.homeDir);
  const createdDir = ensureDir(dir, 0o700);
  const dirMode = fs.statSync(dir).mode;
  const file = path.join(dir, name);
  const replaced = fs.existsSync(file);
  replaceFileAtomic(file, value.endsWith('\n') ? `${value}\n` : value, 0o600);
  const winner = sourcesOf(name, p)[0];
  return { file, replaced, createdDir, ...(looseMode(dirMode) ? { looseDir: dirMode & 0o777 } : {}), ...(winner && winner.at !== file ? { shadowedBy: winner } : {}) };
}
