/**
 * Retention: `retention: { keep, max_age, max_size }` in config.yaml, the values of `orchestrator
 * prune`, and the prune that runs after each session ends when retention is configured
 * (docs/state-and-retention.md, "Retention").
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../engine/errors';
import { isAtRest, SESSION_STATUSES, type SessionStatus } from '../engine/types';
import { parseDuration } from '../workflow/durations';
import { prune, type PruneCriteria } from './prune';

export interface RetentionConfig {
  keep?: number;
  max_age?: string;
  max_size?: string;
}

/** Where each retention value came from (`/abs/config.yaml`, `env ORCHESTRATOR_RETENTION_KEEP`). */
export interface LoadedRetention {
  readonly retention: RetentionConfig;
  readonly sources: Partial<Record<keyof RetentionConfig, string>>;
}

const KEYS = ['keep', 'max_age', 'max_size'] as const;
const ENV: Record<(typeof KEYS)[number], string> = { keep: 'ORCHESTRATOR_RETENTION_KEEP', max_age: 'ORCHESTRATOR_RETENTION_MAX_AGE', max_size: 'ORCHESTRATOR_RETENTION_MAX_SIZE' };

/**
 * The retention settings: ~/.orchestrator/config.yaml, then the repository's, then
 * ORCHESTRATOR_RETENTION_* variables, each key from the last that sets it.
 * TODO(config13): replace with loadEffectiveConfig({ repoRoot, homeDir, env }).config.retention
 */
export function readRetention(opts: { repoRoot: string; homeDir?: string; env?: NodeJS.ProcessEnv }): LoadedRetention {
  const retention: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const file of [path.join(opts.homeDir ?? os.homedir(), '.orchestrator', 'config.yaml'), path.join(opts.repoRoot, '.orchestrator', 'config.yaml')]) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new InputError(`${file} does not parse (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): fix it to use its retention settings`);
    }
    const r = doc && typeof doc === 'object' ? (doc as { retention?: unknown }).retention : undefined;
    if (r === undefined || r === null) continue;
    if (typeof r !== 'object' || Array.isArray(r)) throw new InputError(`${file}: retention must be a map like { keep: 50, max_age: 30d, max_size: 2GB }`);
    for (const k of KEYS) {
      const v = (r as Record<string, unknown>)[k];
      if (v === undefined || v === null) continue;
      retention[k] = v;
      sources[k] = file;
    }
  }
  const env = opts.env ?? process.env;
  for (const k of KEYS) {
    const v = env[ENV[k]];
    if (v === undefined || v.trim() === '') continue;
    retention[k] = k === 'keep' ? Number(v) : v;
    sources[k] = `env ${ENV[k]}`;
  }
  return { retention, sources };
}

/** Whether any retention value is set. */
export function hasRetention(r: RetentionConfig): boolean {
  return r.keep !== undefined || r.max_age !== undefined || r.max_size !== undefined;
}

/** `2GB`, `500MB`, `1.5G`, `800KiB`, or a number of bytes; K/M/G/T are powers of 1024. Undefined when it is not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|(B))?\s*$/i.exec(value);
  if (!m) return undefined;
  const power = m[2] ? 'KMGT'.indexOf(m[2].toUpperCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** Sizes as people read them: `512 B`, `3.2 KiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
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
