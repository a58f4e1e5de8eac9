/**
 * `orchestrator config show [--effective] [--json]`, `config get KEY [--json]`,
 * `config set KEY VALUE [--global] [--json]`: the settings of config/load.ts, each with where it
 * came from (`file:line`, `env ORCHESTRATOR_X`, `flag --x`, `default`), and one value written
 * into a config file with its comments and layout kept (config/edit.ts).
 *
 * Exit codes: show 0 (problems are listed, not judged: doctor judges); get 0, 1 when the setting
 * has no value, 2 when the key is not a setting; set 0, 2 for a bad key or value (nothing written).
 */
import type { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { configFiles, loadEffectiveConfig, problemText, type ConfigSource, type LoadedConfig } from '../config/load';
import { ConfigEditError, setConfigValue } from '../config/edit';
import { envName, settable } from '../config/envNames';
import { dotted, kindOf, parseKey, schemaAt, suggestKey } from '../config/nav';
import { configProviderTypes } from '../config/schema';
import { painter, UsageError, type Out } from './output';
import { repoRoot } from './sessionCommands';

function load(): LoadedConfig {
  return loadEffectiveConfig({ repoRoot: repoRoot(), homeDir: os.homedir(), env: process.env });
}

/** `~/.orchestrator/config.yaml:3`, `.orchestrator/config.yaml:5`, `env X`, `default`. */
function short(at: string, root: string): string {
  const home = os.homedir();
  if (at.startsWith(path.join(home, '.orchestrator') + path.sep)) return `~${at.slice(home.length)}`;
  if (at.startsWith(root + path.sep)) return path.relative(root, at);
  return at;
}

function text(v: unknown): string {
  if (v === undefined) return '(not set)';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

function valueAt(config: unknown, p: readonly string[]): unknown {
  let cur = config;
  for (const seg of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  return cur;
}

/** A provider's `env` shows its names only (as `orchestrator providers` does); `config get` shows the values. */
function shown(key: string, v: unknown): unknown {
  return /^providers\..+\.env$/.test(key) && v !== null && typeof v === 'object' ? Object.keys(v).sort() : v;
}

function known(l: LoadedConfig): (section: string) => string[] {
  return (section) => {
    const entries = (l.config as unknown as Record<string, unknown>)[section];
    return [...Object.keys(entries !== null && typeof entries === 'object' ? entries : {}), ...(section === 'providers' ? configProviderTypes() : [])];
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function configShowCommand(opts: { effective?: boolean; json?: boolean }, out: Out): number {
  const root = repoRoot();
  const l = load();
  const keys = Object.keys(l.sources).filter((k) => opts.effective || l.sources[k].kind !== 'default');
  // Only settings' values are listed; an entry's line (providers.local) says where the entry is.
  const leaves = keys.filter((k) => {
    const p = parseKey(k, known(l));
    return !p || kindOf(schemaAt(p)!) === 'value';
  });
  if (opts.json) {
    const sources = Object.fromEntries(keys.map((k) => [k, l.sources[k]]));
    const config = JSON.parse(JSON.stringify(l.config)) as Record<string, Record<string, Record<string, unknown>>>;
    for (const p of Object.values(config.providers ?? {})) if (p.env) p.env = shown('providers.x.env', p.env);
    out.stdout.write(JSON.stringify({ config, sources, problems: l.problems, files: l.files }, null, 2) + '\n');
    return 0;
  }
  const paint = painter(out.stdout);
  let s = '';
  if (leaves.length === 0) s += 'nothing is set: every setting is at its default (orchestrator config show --effective lists them)\n';
  else {
    const rows = [['SETTING', 'VALUE', 'FROM'], ...leaves.map((k) => [k, text(shown(k, valueAt(l.config, parseKey(k, known(l)) ?? [k]))), short(l.sources[k].at, root)])];
    s += table(rows);
  }
  s += `\n${paint('dim', `files: ${l.files.length ? l.files.map((f) => short(f, root)).join(', ') : `none (${short(configFiles(root).repo, root)} or ~/.orchestrator/config.yaml)`}`)}\n`;
  s += `${paint('dim', 'each setting also has a variable: ORCHESTRATOR_ + its name in upper case, with . and - as _ (retention.max_age: ORCHESTRATOR_RETENTION_MAX_AGE)')}\n`;
  if (l.problems.length) {
    s += `\n${paint('yellow', 'Problems')}\n`;
    for (const p of l.problems) s += `  ${short(problemText(p), root)} ${p.severity === 'error' ? paint('red', '(error)') : paint('yellow', '(warning)')}\n`;
  }
  out.stdout.write(s);
  return 0;
}

export function configGetCommand(key: string, opts: { json?: boolean }, out: Out): number {
  const root = repoRoot();
  const l = load();
  const p = parseKey(key, known(l));
  if (!p) throw new UsageError(`'${key}' is not a setting.${suggestKey(key, known(l)) || ' See orchestrator config show --effective'}`);
  const value = valueAt(l.config, p);
  const source: ConfigSource | undefined = l.sources[dotted(p)];
  const leaf = kindOf(schemaAt(p)!) === 'value';
  const sources = leaf ? undefined : Object.fromEntries(Object.entries(l.sources).filter(([k]) => k.startsWith(`${dotted(p)}.`)));
  if (opts.json) {
    out.stdout.write(JSON.stringify({ key: dotted(p), value: value ?? null, ...(source ? { source } : {}), ...(settable(p) ? { env: envName(p) } : {}), ...(sources ? { sources } : {}) }, null, 2) + '\n');
    return value === undefined ? 1 : 0;
  }
  if (value === undefined || (!leaf && value !== null && typeof value === 'object' && Object.keys(value).length === 0 && !source)) {
    out.stderr.write(`orchestrator: ${dotted(p)} is not set${source?.kind === 'default' ? ' (it has no default)' : ''}: set it with orchestrator config set ${dotted(p)} VALUE\n`);
    return 1;
  }
  if (leaf) out.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
  else out.stdout.write(stringify(value, { lineWidth: 0 }));
  if (source && out.stderr.isTTY) out.stderr.write(`${painter(out.stderr)('dim', `(${short(source.at, root)})`)}\n`);
  return 0;
}

export function configSetCommand(key: string, raw: string, opts: { global?: boolean; json?: boolean }, out: Out): number {
  const root = repoRoot();
  const { home, repo } = configFiles(root, os.homedir());
  const file = opts.global ? home : repo;
  let r: ReturnType<typeof setConfigValue>;
  try {
    r = setConfigValue(file, key, raw);
  } catch (e) {
    if (e instanceof ConfigEditError) throw new UsageError(e.message);
    throw e;
  }
  const where = `${short(r.file, root)}:${r.line}`;
  // What wins over the file just written, if anything.
  const l = load();
  const now = l.sources[dotted(r.path)];
  const overridden = now && now.at !== `${r.file}:${r.line}` && now.kind !== 'default' ? now : undefined;
  if (opts.json) out.stdout.write(JSON.stringify({ key: dotted(r.path), value: r.value, file: r.file, line: r.line, created: r.created, ...(overridden ? { overriddenBy: overridden } : {}) }, null, 2) + '\n');
  else out.stdout.write(`${dotted(r.path)} = ${text(r.value)} (${where}${r.created ? ', a new file' : ''})\n`);
  if (overridden) out.stderr.write(`orchestrator: note: ${short(overridden.at, root)} wins over ${short(r.file, root)}: the effective ${dotted(r.path)} is ${text(valueAt(l.config, r.path))}\n`);
  return 0;
}

export function registerConfigCommand(program: Command, setCode: (code: number) => void, out: Out): void {
  const config = program.command('config').description('settings: config.yaml files, ORCHESTRATOR_* variables and flags, each with where it came from');
  config
    .command('show')
    .description('the settings that are set and where each came from (--effective: every setting, defaults too)')
    .option('--effective', 'every setting, with its default when nothing sets it')
    .option('--json', 'print JSON')
    .action((opts: { effective?: boolean; json?: boolean }) => setCode(configShowCommand(opts, out)));
  config
    .command('get')
    .description('the effective value of one setting (exit 1 when it has none)')
    .argument('<key>', 'a setting, e.g. retention.keep or providers.local.model')
    .option('--json', 'print JSON: value, where it came from, its variable')
    .action((key: string, opts: { json?: boolean }) => setCode(configGetCommand(key, opts, out)));
  config
    .command('set')
    .description("write one setting into .orchestrator/config.yaml (or ~/.orchestrator/config.yaml), keeping the file's comments and layout")
    .argument('<key>', 'a setting, e.g. retention.keep or providers.local.model')
    .argument('<value>', 'its value, read as YAML: 10, 30d, [npx, claude], "{type: openai, model: m}"')
    .option('--global', 'write ~/.orchestrator/config.yaml (your settings for every repository)')
    .option('--json', 'print JSON')
    .action((key: string, value: string, opts: { global?: boolean; json?: boolean }) => setCode(configSetCommand(key, value, opts, out)));
}

