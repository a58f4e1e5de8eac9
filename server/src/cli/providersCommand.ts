/**
 * `orchestrator providers [--json]`: every provider a workflow can name (those configured in
 * `~/.orchestrator/config.yaml` and `.orchestrator/config.yaml`, and the built-in ones), whether
 * its tool is found (path and `--version`, asked of all tools at once, with no prompt and no
 * secret in their environment) or its key's secret is set (never its value), and its effective
 * settings, each with where it came from. Always exits 0: it reports, it does not judge.
 */
import type { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadProviderConfigs } from '../agents/providerLoad';
import { effectiveProvider, type EffectiveProvider } from '../agents/providerSettings';
import { presetNames } from '../agents/presets';
import { checkTool, type ToolCheck } from '../agents/toolCheck';
import { resolveSecrets } from '../engine/secrets';
import { painter, type Out } from './output';
import { repoRoot } from './sessionCommands';

export { checkTool, type ToolCheck };

export interface ProviderReport {
  name: string;
  type: string;
  configured: string;
  kind?: string;
  error?: string;
  tool?: ToolCheck;
  key?: { secret: string; from: string; set: boolean; env?: string; envFrom?: string };
  settings: Record<string, { value: unknown; from: string }>;
}

function report(p: EffectiveProvider, tool: ToolCheck | undefined): ProviderReport {
  const settings: ProviderReport['settings'] = {};
  const put = (k: string, s: { value: unknown; from: string } | undefined) => {
    if (s) settings[k] = { value: s.value, from: s.from };
  };
  put('model', p.model);
  put('base_url', p.baseUrl && { value: p.baseUrl.value, from: p.baseUrl.from });
  if (p.baseUrl && p.baseUrlEnv) settings.base_url_env = { value: p.baseUrlEnv, from: 'preset' };
  put('timeout', p.timeoutMs && { value: `${p.timeoutMs.value / 1000}s`, from: p.timeoutMs.from });
  put('command', p.command);
  put('args', p.args);
  put('env', p.env && { value: Object.keys(p.env.value).sort(), from: p.env.from });
  put('prompt', p.prompt);
  if (p.key) {
    settings.api_key_secret = { value: p.key.secret, from: p.key.from };
    if (p.key.env) settings.key_env = { value: p.key.env, from: p.key.envFrom ?? 'preset' };
  }
  return {
    name: p.name,
    type: p.type,
    configured: p.configured,
    ...(p.kind ? { kind: p.kind } : {}),
    ...(p.error ? { error: p.error } : {}),
    ...(tool ? { tool } : {}),
    ...(p.key ? { key: { ...p.key } } : {}),
    settings,
  };
}

export async function collectProviders(root: string): Promise<{ providers: ProviderReport[]; warnings: string[] }> {
  const configs = loadProviderConfigs(root);
  const warnings = [...configs.warnings];
  let secrets = new Map<string, string>();
  try {
    secrets = resolveSecrets({ env: process.env, repoRoot: root, homeDir: os.homedir() });
  } catch (e) {
    warnings.push(`secrets cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const configured = Object.keys(configs.providers).sort();
  const builtIn = ['openai', 'anthropic', ...presetNames()].filter((n) => !configured.includes(n));
  const effective = [...configured, ...builtIn].map((n) => effectiveProvider(n, configs, secrets));
  const tools = await Promise.all(effective.map((p) => (p.program ? checkTool(p.program, root, p.env?.value ?? {}) : Promise.resolve(undefined))));
  return { providers: effective.map((p, i) => report(p, tools[i])), warnings };
}

function short(where: string, root: string): string {
  const home = os.homedir();
  // The home config first: a repository may be inside the home folder, or (in tests) the other way round.
  if (where.startsWith(path.join(home, '.orchestrator') + path.sep)) return `~${where.slice(home.length)}`;
  if (where.startsWith(root + path.sep)) return path.relative(root, where);
  return where;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (/\s/.test(String(x)) || x === '' ? JSON.stringify(x) : String(x))).join(' ');
  return String(v);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

function status(p: ProviderReport): string {
  if (p.error) return `error: ${p.error}`;
  const parts: string[] = [];
  if (p.tool) parts.push(p.tool.found ? `found ${p.tool.path}${p.tool.version ? ` (${p.tool.version})` : ''}${p.tool.error ? ` (${p.tool.error})` : ''}` : `not found: ${p.tool.error}`);
  if (p.key) parts.push(`key ${p.key.secret} ${p.key.set ? 'set' : 'not set'}${p.key.env ? ` (as ${p.key.env})` : ''}`);
  return parts.join('; ');
}

export async function providersCommand(opts: { json?: boolean }, out: Out): Promise<number> {
  const root = repoRoot();
  const { providers, warnings } = await collectProviders(root);
  if (opts.json) {
    out.stdout.write(JSON.stringify({ providers, warnings }, null, 2) + '\n');
    return 0;
  }
  const paint = painter(out.stdout);
  const rows = [['NAME', 'TYPE', 'CONFIGURED', 'STATUS'], ...providers.map((p) => [p.name, p.type, short(p.configured, root), status(p)])];
  let text = table(rows);
  for (const p of providers) {
    const entries = Object.entries(p.settings);
    if (entries.length === 0) continue;
    text += `\n${paint('bold', p.name)}\n`;
    text += table(entries.map(([k, s]) => [`  ${k}`, show(s.value), paint('dim', short(s.from, root))]));
  }
  if (warnings.length) text += `\n${paint('yellow', 'Warnings')}\n${warnings.map((w) => `  ${short(w, root)}`).join('\n')}\n`;
  out.stdout.write(text);
  return 0;
}

export function registerProvidersCommand(program: Command, setCode: (code: number) => void, out: Out): void {
  program
    .command('providers')
    .description('configured and built-in agent providers: tool found (path, version) or key set, and effective settings with where each came from')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      setCode(await providersCommand(opts, out));
    });
}
