/**
 * The effective configuration and where each value came from. Precedence, lowest first
 * (interfaces.md): defaults, `~/.orchestrator/config.yaml`, `.orchestrator/config.yaml`,
 * ORCHESTRATOR_* variables (envNames.ts), command-line flags.
 *
 * Settings merge value by value; an entry of `providers:` or `prices:` in a file replaces the
 * lower file's entry of the same name as a whole (as agents/providerConfig.ts and prices.ts read
 * them), and a variable or flag for one of its keys changes that key only. A bad value is a
 * problem and is left out, so the layer below it stands; nothing here throws for bad input.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkOriginValue, checkConfigText, type Checked } from './check';
import { envNameProblem, isReserved, resolveEnvName } from './envNames';
import { dotted, fixedLeafPaths, kindOf, parseKey, schemaAt } from './nav';
import { configProviderTypes, DEFAULT_STUCK_AFTER } from './schema';
import type { ConfigProblem, ConfigSource, EffectiveConfig, LoadedConfig, LoadOptions, SpanProblem } from './types';

export type { ConfigProblem, ConfigSource, ConfigSourceKind, EffectiveConfig, LoadedConfig, LoadOptions, RetentionConfig } from './types';
export { problemText } from './types';
export { formatSize, parseSize } from './sizes';

/** The home and repository config files, lowest precedence first. */
export function configFiles(repoRoot: string, homeDir: string = os.homedir()): { home: string; repo: string } {
  return { home: path.join(homeDir, '.orchestrator', 'config.yaml'), repo: path.join(repoRoot, '.orchestrator', 'config.yaml') };
}

/** One per CPU core. */
export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

interface Value {
  path: string[];
  value: unknown;
  source: ConfigSource;
}

const keyOf = (p: readonly string[]): string => JSON.stringify(p);
const under = (p: readonly string[], prefix: readonly string[]): boolean => p.length >= prefix.length && prefix.every((s, i) => p[i] === s);

/** The values set so far, by path; entries (`providers.local`) kept apart so that an empty one counts. */
class Layers {
  readonly values = new Map<string, Value>();
  readonly entries = new Map<string, Value>();

  set(p: string[], value: unknown, source: ConfigSource): void {
    this.values.set(keyOf(p), { path: p, value, source });
  }

  /** An entry replaced as a whole: what lower layers set under it goes. */
  replaceEntry(p: string[], source: ConfigSource): void {
    for (const [k, v] of this.values) if (under(v.path, p)) this.values.delete(k);
    this.entries.set(keyOf(p), { path: p, value: undefined, source });
  }

  /** Takes what a file, variable or flag gave: its entries first, then its values. */
  apply(c: Checked, source: (line: number) => ConfigSource): void {
    for (const e of c.entries) this.replaceEntry(e.path, source(e.line));
    for (const l of c.leaves) {
      const entry = l.path.length > 2 ? l.path.slice(0, 2) : undefined;
      if (entry && schemaAt(entry.slice(0, 1)) && kindOf(schemaAt(entry.slice(0, 1))!) === 'entries' && !this.entries.has(keyOf(entry))) this.entries.set(keyOf(entry), { path: entry, value: undefined, source: source(l.line) });
      this.set(l.path, l.value, source(l.line));
    }
  }

  names(section: string): string[] {
    return [...this.entries.values()].filter((e) => e.path[0] === section).map((e) => e.path[1]);
  }
}

function strip(problems: SpanProblem[]): ConfigProblem[] {
  return problems.map(({ file, line, col, severity, message }) => ({ file, line, col, severity, message }));
}

function readFile(file: string, problems: ConfigProblem[]): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    problems.push({ file, line: 0, col: 0, severity: 'error', message: `${file} cannot be read (${code ?? String(e)}): check its permissions` });
    return undefined;
  }
}

export function loadEffectiveConfig(opts: LoadOptions): LoadedConfig {
  const { home, repo } = configFiles(opts.repoRoot, opts.homeDir ?? os.homedir());
  const env = opts.env ?? process.env;
  const layers = new Layers();
  const problems: ConfigProblem[] = [];
  const files: string[] = [];
  layers.set(['concurrency'], defaultConcurrency(), { kind: 'default', at: 'default' });
  layers.set(['stuck_after'], DEFAULT_STUCK_AFTER, { kind: 'default', at: 'default' });

  for (const file of home === repo ? [repo] : [home, repo]) {
    const text = readFile(file, problems);
    if (text === undefined) continue;
    files.push(file);
    const checked = checkConfigText(text, file);
    problems.push(...strip(checked.problems));
    layers.apply(checked, (line) => ({ kind: 'file', at: `${file}:${line}` }));
  }

  const builtIn = configProviderTypes().filter((t) => t !== 'command');
  const known = (section: string): string[] => [...new Set([...layers.names(section), ...(section === 'providers' ? builtIn : [])])];

  // Variables: a whole entry before the keys of that entry.
  const vars: { name: string; raw: string; path: string[] }[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (isReserved(name) || value === undefined || value.trim() === '') continue;
    const p = resolveEnvName(name, known);
    const why = envNameProblem(name, p, known);
    if (why) problems.push({ file: `env ${name}`, line: 0, col: 0, severity: 'warning', message: why });
    else vars.push({ name, raw: value.trim(), path: p! });
  }
  vars.sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));
  for (const v of vars) {
    const checked = checkOriginValue(v.raw, { name: v.name, kind: 'env', raw: v.raw, path: v.path });
    problems.push(...strip(checked.problems));
    layers.apply(checked, () => ({ kind: 'env', at: `env ${v.name}` }));
  }

  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    const p = parseKey(key, known);
    const flag = opts.flagNames?.[key] ?? `--${key.split('.').pop()!.replace(/_/g, '-')}`;
    if (!p) {
      problems.push({ file: `flag ${flag}`, line: 0, col: 0, severity: 'error', message: `${flag}: '${key}' is not a setting` });
      continue;
    }
    const raw = typeof value === 'string' ? value.trim() : JSON.stringify(value);
    const checked = checkOriginValue(typeof value === 'string' ? value.trim() : value, { name: flag, kind: 'flag', raw, path: p });
    problems.push(...strip(checked.problems));
    layers.apply(checked, () => ({ kind: 'flag', at: `flag ${flag}` }));
  }

  return { ...build(layers), problems, files };
}

function build(layers: Layers): { config: EffectiveConfig; sources: Record<string, ConfigSource> } {
  const tree: Record<string, unknown> = { concurrency: undefined, stuck_after: undefined, retention: {}, providers: {}, prices: {} };
  const sources: Record<string, ConfigSource> = {};
  const put = (p: string[], v: unknown): void => {
    let cur = tree;
    for (const seg of p.slice(0, -1)) cur = (cur[seg] ??= {}) as Record<string, unknown>;
    cur[p[p.length - 1]] = v;
  };
  for (const e of layers.entries.values()) {
    put(e.path, {});
    sources[dotted(e.path)] = e.source;
  }
  for (const v of layers.values.values()) {
    put(v.path, v.value);
    sources[dotted(v.path)] = v.source;
  }
  for (const p of fixedLeafPaths()) sources[dotted(p)] ??= { kind: 'default', at: 'default' };
  const config = tree as unknown as EffectiveConfig;
  config.stuck_after = String(config.stuck_after);
  const r = config.retention;
  if (r.max_age !== undefined) r.max_age = String(r.max_age);
  if (r.max_size !== undefined) r.max_size = String(r.max_size);
  return { config, sources: Object.fromEntries(Object.entries(sources).sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))) };
}

/** Sections in the schema's order, for listings. */
function order(key: string): number {
  const i = ['concurrency', 'stuck_after', 'retention', 'providers', 'prices'].indexOf(key.split('.')[0]);
  return i === -1 ? 99 : i;
}
