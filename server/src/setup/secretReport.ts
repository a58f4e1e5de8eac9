/**
 * What `secrets list` and `secrets test` report (and the editor's *List Secrets*, through the
 * host): names, where each resolves from and what it wins over, which workflows read it. Never a
 * value. Files other users can read are warned about (one line on stderr, secretModes.ts).
 */
import * as os from 'node:os';
import { SECRET_ENV_PREFIX } from '../engine/secrets';
import { warnLooseSecrets } from '../engine/secretModes';
import { homeSecretsDir, repoSecretsDir, resolveOne, allSecrets, type SecretOrigin, type SecretPlaces, type SecretSource } from './secretStore';
import { secretUsage, type SecretUse } from './workflowFiles';
import * as path from 'node:path';

export interface SourceDto {
  kind: SecretOrigin;
  /** `env ORCHESTRATOR_SECRET_X` or the file's absolute path. */
  at: string;
  /** A file other users can read (its mode, octal, e.g. "0644"). */
  looseMode?: string;
}

export interface SecretEntry {
  name: string;
  /** Resolves from somewhere (a session would get it). */
  set: boolean;
  from?: SourceDto;
  /** Places that also have it and lose to `from`. */
  shadowed: SourceDto[];
  /** Where workflows read it (`file` relative to the repository root). */
  usedBy: SecretUse[];
}

export interface SecretListing {
  /** The repository root (`usedBy` files are relative to it). */
  repoRoot: string;
  secrets: SecretEntry[];
  /** Reads of `secrets[...]` whose name cannot be told. */
  dynamic: SecretUse[];
  /** The workflow files that were read. */
  workflows: string[];
}

export interface SecretTest {
  name: string;
  resolved: boolean;
  from?: SourceDto;
  shadowed: SourceDto[];
  /** It resolves to an empty value. */
  empty?: boolean;
  /** The winning file cannot be read. */
  error?: string;
  /** Where it was looked for, in order (when it is not set). */
  lookedIn: string[];
}

export interface ReportOptions {
  readonly repoRoot: string;
  readonly homeDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function places(o: ReportOptions): SecretPlaces {
  return { env: o.env ?? process.env, repoRoot: o.repoRoot, homeDir: o.homeDir ?? os.homedir() };
}

function dto(s: SecretSource): SourceDto {
  return { kind: s.kind, at: s.at, ...(s.loose && s.mode !== undefined ? { looseMode: (s.mode & 0o777).toString(8).padStart(4, '0') } : {}) };
}

function warnLoose(sources: readonly SecretSource[]): void {
  warnLooseSecrets(sources.filter((s) => s.loose && s.mode !== undefined).map((s) => ({ file: s.at, mode: s.mode! })));
}

export async function listSecrets(o: ReportOptions): Promise<SecretListing> {
  const p = places(o);
  const usage = await secretUsage(o.repoRoot);
  const defined = allSecrets(p);
  const names = [...new Set([...defined.keys(), ...usage.uses.keys()])].sort();
  const secrets = names.map((name): SecretEntry => {
    const [from, ...shadowed] = defined.get(name) ?? [];
    return { name, set: from !== undefined, ...(from ? { from: dto(from) } : {}), shadowed: shadowed.map(dto), usedBy: usage.uses.get(name) ?? [] };
  });
  warnLoose([...defined.values()].flat());
  return { repoRoot: o.repoRoot, secrets, dynamic: usage.dynamic, workflows: usage.workflows };
}

/** Where a name would be looked for, in order. */
export function lookedIn(name: string, o: ReportOptions): string[] {
  const p = places(o);
  return [`env ${SECRET_ENV_PREFIX}${name}`, path.join(repoSecretsDir(o.repoRoot), name), path.join(homeSecretsDir(p.homeDir!), name)];
}

export function testSecret(name: string, o: ReportOptions): SecretTest {
  const r = resolveOne(name, places(o));
  if (r.from) warnLoose([r.from]);
  return {
    name,
    resolved: r.from !== undefined && r.error === undefined,
    ...(r.from ? { from: dto(r.from) } : {}),
    shadowed: r.shadowed.map(dto),
    ...(r.empty ? { empty: true } : {}),
    ...(r.error ? { error: r.error } : {}),
    lookedIn: lookedIn(name, o),
  };
}
