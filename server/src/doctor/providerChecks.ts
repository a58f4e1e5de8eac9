/**
 * Every provider the repository's workflows name: it can be made from the config (a known type,
 * a command), its tool is found and answers `--version` (the same probe as `orchestrator
 * providers`, with no secret in its environment), and its key's secret is set. Only the names of
 * secrets are looked at, never their values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProviderConfigs } from '../agents/providerLoad';
import { effectiveProvider, type EffectiveProvider } from '../agents/providerSettings';
import { checkTool, type ToolCheck } from '../agents/toolCheck';
import { SECRET_ENV_PREFIX, SECRET_NAME_PATTERN } from '../engine/secrets';
import { providersOf, type ValidatedWorkflow } from './workflowChecks';
import { result, type CheckResult, type DoctorOptions } from './types';

/** The names of the secrets that are set (env, the repository's and the home's secrets folders); values are not read. */
export function secretNames(o: Pick<DoctorOptions, 'env' | 'repoRoot' | 'homeDir'>): Set<string> {
  const names = new Set<string>();
  for (const [k, v] of Object.entries(o.env)) {
    const name = k.slice(SECRET_ENV_PREFIX.length);
    if (k.startsWith(SECRET_ENV_PREFIX) && v !== undefined && SECRET_NAME_PATTERN.test(name)) names.add(name);
  }
  for (const dir of [path.join(o.repoRoot, '.orchestrator', 'secrets'), path.join(o.homeDir, '.orchestrator', 'secrets')]) {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (SECRET_NAME_PATTERN.test(e.name) && (e.isFile() || (e.isSymbolicLink() && isFile(path.join(dir, e.name))))) names.add(e.name);
  }
  return names;
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function setHint(secret: string): string {
  return `set the secret ${secret}: orchestrator secrets set ${secret}, the variable ${SECRET_ENV_PREFIX}${secret}, or a file .orchestrator/secrets/${secret} (mode 600)`;
}

function judge(p: EffectiveProvider, tool: ToolCheck | undefined, probed: boolean, usedBy: string): CheckResult {
  const id = `provider:${p.name}`;
  const title = `Provider ${p.name}`;
  const used = `used by ${usedBy}`;
  // Not configured at all: a warning (its agent steps fail until it is, but a workflow may also
  // be replayed from a recording without it); configured but broken: a failure.
  if (p.error) return result(id, title, p.configured === 'built-in' ? 'warn' : 'fail', `${p.error}; ${used}`, { description: `configure provider '${p.name}' under providers: in .orchestrator/config.yaml (orchestrator providers shows what is configured)` });
  const parts: string[] = [];
  let status: CheckResult['status'] = 'pass';
  let fix: string | undefined;
  if (p.program) {
    if (!probed) parts.push(`${p.program[0]} not checked (an untrusted workspace runs nothing)`);
    else if (tool && !tool.found) {
      status = 'fail';
      parts.push(tool.error ?? `${p.program[0]} not found`);
      fix = `install ${p.program[0]}, or point command: of provider '${p.name}' in .orchestrator/config.yaml at it (README, "Agents and providers")`;
    } else if (tool?.error) {
      status = 'warn';
      parts.push(`${tool.path}: ${tool.error}`);
      fix = `run ${p.program.join(' ')} --version yourself to see what it needs`;
    } else if (tool) parts.push(`${tool.path}${tool.version ? ` (${tool.version})` : ''}`);
  }
  if (p.key) {
    const explicit = p.key.from !== 'preset' && p.key.from !== 'default';
    if (p.key.set) parts.push(`key ${p.key.secret} set`);
    else if (p.kind === 'http' || explicit) {
      status = 'fail';
      parts.push(`key ${p.key.secret} not set${explicit ? ` (api_key_secret, ${p.key.from})` : ''}`);
      fix ??= setHint(p.key.secret);
    } else parts.push(`no key (${p.key.secret} not set): the tool's own login is used`);
  }
  return result(id, title, status, `${parts.join('; ')}; ${used}`, fix ? { description: fix } : undefined);
}

export async function providerChecks(o: DoctorOptions, workflows: readonly ValidatedWorkflow[]): Promise<CheckResult[]> {
  const users = new Map<string, string[]>();
  for (const w of workflows) {
    if (!w.validation) continue;
    for (const p of providersOf(w.validation)) users.set(p, [...(users.get(p) ?? []), w.file]);
  }
  if (!users.size) return [result('providers', 'Agent providers', 'pass', 'no workflow names an agent provider')];
  const configs = loadProviderConfigs(o.repoRoot, o.homeDir);
  const secrets = new Map([...secretNames(o)].map((n) => [n, ''] as const));
  const names = [...users.keys()].sort();
  const effective = names.map((n) => effectiveProvider(n, configs, secrets));
  const tools = await Promise.all(effective.map((p) => (o.probeTools && p.program && !p.error ? checkTool(p.program, o.repoRoot, p.env?.value ?? {}) : Promise.resolve(undefined))));
  return effective.map((p, i) => judge(p, tools[i], o.probeTools, users.get(p.name)!.join(', ')));
}
