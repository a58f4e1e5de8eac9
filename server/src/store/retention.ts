/**
 * Retention: `retention: { keep, max_age, max_size }` in config.yaml, the values of `orchestrator
 * prune`, and the prune that runs after each session ends when retention is configured
 * (docs/state-and-retention.md, "Retention").
 */
import { loadEffectiveConfig, problemText } from '../config/load';
import { parseSize } from '../config/sizes';
import type { RetentionConfig } from '../config/types';
import { InputError } from '../engine/errors';
import { isAtRest, SESSION_STATUSES, type SessionStatus } from '../engine/types';
import { parseDuration } from '../workflow/durations';
import { prune, type PruneCriteria } from './prune';

export type { RetentionConfig } from '../config/types';
export { formatSize, parseSize } from '../config/sizes';

/** Where each retention value came from (`/abs/config.yaml:3`, `env ORCHESTRATOR_RETENTION_KEEP`). */
export interface LoadedRetention {
  readonly retention: RetentionConfig;
  readonly sources: Partial<Record<keyof RetentionConfig, string>>;
}

const KEYS = ['keep', 'max_age', 'max_size'] as const;

/**
 * The retention settings of the effective configuration (config/load.ts: defaults, the home file,
 * the repository's, ORCHESTRATOR_RETENTION_* variables), with where each came from. A config that
 * has errors is refused as a whole (InputError naming each): removing sessions by a configuration
 * read in part could remove what the user meant to keep.
 */
export function readRetention(opts: { repoRoot: string; homeDir?: string; env?: NodeJS.ProcessEnv }): LoadedRetention {
  const loaded = loadEffectiveConfig({ repoRoot: opts.repoRoot, ...(opts.homeDir ? { homeDir: opts.homeDir } : {}), env: opts.env ?? process.env });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new InputError(`the configuration has ${errors.length === 1 ? 'a problem' : 'problems'}, so its retention settings are not used: ${errors.map(problemText).join('; ')} (fix ${errors.length === 1 ? 'it' : 'them'}, or give the rules as flags)`);
  const retention: RetentionConfig = {};
  const sources: Partial<Record<keyof RetentionConfig, string>> = {};
  for (const k of KEYS) {
    const v = loaded.config.retention[k];
    if (v === undefined) continue;
    (retention as Record<string, unknown>)[k] = v;
    const from = loaded.sources[`retention.${k}`];
    if (from && from.kind !== 'default') sources[k] = from.at;
  }
  return { retention, sources };
}

/** Whether any retention value is set. */
export function hasRetention(r: RetentionConfig): boolean {
  return r.keep !== undefined || r.max_age !== undefined || r.max_size !== undefined;
}

/**
 * Checks retention values (from flags or config) and makes them prune criteria; InputError names
 * the bad one. `names`: how to call each value (`--older-than`); by default `retention.max_age`,
 * with where it was set (`sources`).
 */
export function criteriaOf(r: RetentionConfig, sources: Partial<Record<keyof RetentionConfig, string>> = {}, names: Partial<Record<keyof RetentionConfig, string>> = {}): PruneCriteria {
  const name = (k: keyof RetentionConfig): string => names[k] ?? `retention.${k}${sources[k] ? ` (${sources[k]})` : ''}`;
  const c: { -readonly [K in keyof PruneCriteria]: PruneCriteria[K] } = {};
  if (r.keep !== undefined) {
    if (typeof r.keep !== 'number' || !Number.isSafeInteger(r.keep) || r.keep < 0) throw new InputError(`${name('keep')} must be a whole number of sessions (0 or more), not '${String(r.keep)}'`);
    c.keep = r.keep;
  }
  if (r.max_age !== undefined) {
    const ms = parseDuration(r.max_age);
    if (ms === undefined) throw new InputError(`${name('max_age')} is not a duration: write e.g. 12h, 7d or 30d, not '${String(r.max_age)}'`);
    c.maxAgeMs = ms;
    c.maxAgeText = String(r.max_age);
  }
  if (r.max_size !== undefined) {
    const bytes = parseSize(r.max_size);
    if (bytes === undefined) throw new InputError(`${name('max_size')} is not a size: write e.g. 500MB or 2GB, not '${String(r.max_size)}'`);
    c.maxSizeBytes = bytes;
    c.maxSizeText = String(r.max_size);
  }
  return c;
}

/** What a user asked to prune by (`orchestrator prune`'s flags, the editor's request). */
export interface PruneAsk {
  keep?: number;
  olderThan?: string;
  maxSize?: string;
  status?: string;
}

/**
 * The criteria of a prune: the values asked for, or else the configured retention (flags replace
 * the configuration as a whole), narrowed to `status` when given; with only a status, every session
 * at rest with it. Undefined when nothing says what to prune. InputError for a bad value. `said`:
 * the rules in words (`--keep 20`, `retention.max_age 30d (/repo/.orchestrator/config.yaml)`).
 */
export function chooseCriteria(
  ask: PruneAsk,
  where: { repoRoot: string; homeDir?: string; env?: NodeJS.ProcessEnv },
  names: Partial<Record<keyof RetentionConfig, string>> = { keep: 'keep', max_age: 'older than', max_size: 'max size' },
): { criteria: PruneCriteria; said: string } | undefined {
  const atRest = SESSION_STATUSES.filter((x) => isAtRest(x));
  let status: SessionStatus | undefined;
  if (ask.status !== undefined) {
    if (!(SESSION_STATUSES as readonly string[]).includes(ask.status)) throw new InputError(`the status to prune is one of ${atRest.join(', ')}, not '${ask.status}'`);
    status = ask.status as SessionStatus;
    if (!isAtRest(status)) throw new InputError(`prune never removes ${status} sessions: the status to prune is one at rest (${atRest.join(', ')})`);
  }
  const asked: RetentionConfig = {
    ...(ask.keep !== undefined ? { keep: ask.keep } : {}),
    ...(ask.olderThan !== undefined ? { max_age: ask.olderThan } : {}),
    ...(ask.maxSize !== undefined ? { max_size: ask.maxSize } : {}),
  };
  const statusSaid = status ? [`status ${status}`] : [];
  const narrowed = (c: PruneCriteria): PruneCriteria => (status ? { ...c, status } : c);
  const words = (r: RetentionConfig, label: (k: keyof RetentionConfig) => string, from: Partial<Record<keyof RetentionConfig, string>> = {}): string =>
    [...KEYS.filter((k) => r[k] !== undefined).map((k) => `${label(k)} ${String(r[k])}${from[k] ? ` (${from[k]})` : ''}`), ...statusSaid].join(', ');
  if (hasRetention(asked)) return { criteria: narrowed(criteriaOf(asked, {}, names)), said: words(asked, (k) => names[k] ?? k) };
  const loaded = readRetention(where);
  if (hasRetention(loaded.retention)) {
    return { criteria: narrowed(criteriaOf(loaded.retention, loaded.sources)), said: words(loaded.retention, (k) => `retention.${k}`, loaded.sources) };
  }
  return status ? { criteria: { status }, said: statusSaid.join('') } : undefined;
}

/**
 * After a session ended: with retention configured, sessions at rest beyond it are removed, never
 * the one that just ended. Never fails the session: a problem is a warning. Resolves with `ended`.
 */
export async function pruneAfterSession<T extends { id: string }>(
  ended: T,
  opts: { repoRoot: string; homeDir?: string; env?: NodeJS.ProcessEnv; warn?: (message: string) => void },
): Promise<T> {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`orchestrator: warning: ${m}\n`));
  try {
    const loaded = readRetention(opts);
    if (!hasRetention(loaded.retention)) return ended;
    const report = await prune({ repoRoot: opts.repoRoot, criteria: criteriaOf(loaded.retention, loaded.sources), exclude: [ended.id] });
    for (const f of report.failed) warn(`retention: could not remove session ${f.id}: ${f.error}`);
  } catch (e) {
    warn(`retention: sessions were not pruned: ${e instanceof Error ? e.message : String(e)}`);
  }
  return ended;
}
