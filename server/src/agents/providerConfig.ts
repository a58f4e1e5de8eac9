/**
 * The `providers:` of `~/.orchestrator/config.yaml` (home) and `.orchestrator/config.yaml`
 * (repository; its entry wins over the home one of the same name, as a whole).
 *
 * Validation never drops a whole file for one bad key: a key that is unknown, has a bad value,
 * or does nothing for the entry's type is a warning naming `file:line` and the key, and only that
 * key is ignored. A file that does not parse is a warning and gives no providers. An unknown
 * `type` is a warning with a did-you-mean, and using that provider fails with the same message.
 */
import { isMap, isScalar, LineCounter, type Document, type Node, type YAMLMap } from 'yaml';
import { PROVIDER_KEYS } from '../config/schema';
import { parseDuration } from '../workflow/durations';
import { closest } from '../workflow/suggest';
import { presetKeys } from './presetKeys';
import { presetNames } from './presets';

/** One provider as configured, after validation (bad keys are left out). */
export interface ProviderEntry {
  type: string;
  base_url?: string;
  api_key_secret?: string;
  key_env?: string;
  model?: string;
  timeout?: string | number;
  /** `command:` as a list: a string is a program with no arguments. */
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  prompt?: 'stdin' | 'arg' | 'file';
}
export type ProviderKey = keyof ProviderEntry;

export interface ConfiguredProvider extends ProviderEntry {
  /** The file it comes from. */
  from: string;
  /** `file:line` of the entry's name. */
  at: string;
  /** `file:line` of each key it sets. */
  keyAt: Partial<Record<ProviderKey, string>>;
  /** Set when the entry cannot make a provider (an unknown or missing type). */
  typeError?: string;
}

export interface ProviderConfigs {
  readonly providers: Record<string, ConfiguredProvider>;
  readonly warnings: string[];
}

export const HTTP_TYPES = ['openai', 'anthropic'] as const;
/** Every `type:` there is. */
export function providerTypes(): string[] {
  return [...HTTP_TYPES, 'command', ...presetNames()];
}
export type ProviderKind = 'http' | 'command' | 'preset';
export function kindOf(type: string): ProviderKind | undefined {
  if ((HTTP_TYPES as readonly string[]).includes(type)) return 'http';
  if (type === 'command') return 'command';
  return presetNames().includes(type) ? 'preset' : undefined;
}

/** The keys of an entry: the config schema's (server/src/config/schema.ts). */
const KEYS: readonly ProviderKey[] = PROVIDER_KEYS;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a key does nothing for this type, or undefined when it does something. */
export function uselessKey(key: ProviderKey, type: string): string | undefined {
  const kind = kindOf(type);
  if (kind === 'http') {
    if (key === 'command' || key === 'args' || key === 'env' || key === 'prompt' || key === 'key_env') return `does nothing for a provider of type ${type}: it calls an HTTP API and runs no program`;
    return undefined;
  }
  if (kind === 'command') {
    if (key === 'base_url') return 'does nothing for a command provider: give the program its endpoint under env: or args:';
    return undefined;
  }
  if (kind === 'preset') {
    if (key === 'prompt') return `does nothing for the ${type} preset: it passes the prompt its own way (use type: command to choose)`;
    if (key === 'base_url' && !presetKeys(type)?.baseUrlEnv) return `does nothing for ${type}: ${presetKeys(type)?.baseUrlHint ?? 'it has no endpoint variable'}`;
  }
  return undefined;
}

function suggestion(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates) ?? candidates.find((x) => x.startsWith(word) || word.startsWith(x));
  return c ? ` Did you mean '${c}'?` : '';
}

export function unknownTypeMessage(type: string): string {
  return `unknown type '${type}'.${suggestion(type, providerTypes())} Types: ${providerTypes().join(', ')}`;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/** The value of one key, checked; a string is a warning's text. */
export function checkValue(key: ProviderKey, v: unknown): { value: unknown } | string {
  switch (key) {
    case 'type':
    case 'base_url':
    case 'model':
      return typeof v === 'string' && v.trim() ? { value: v.trim() } : 'must be a non-empty string';
    case 'api_key_secret':
      return typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(v) ? { value: v } : 'must be a secret name (letters, digits, _ and -): the key itself never goes in this file';
    case 'key_env':
      return typeof v === 'string' && ENV_NAME.test(v) ? { value: v } : 'must be an environment variable name';
    case 'timeout':
      return (typeof v === 'string' || typeof v === 'number') && parseDuration(v) !== undefined ? { value: v } : 'must be a duration such as 30s, 5m or 1h30m (a bare number is seconds)';
    case 'command': {
      if (typeof v === 'string' && v.trim()) return { value: [v] };
      const list = stringList(v);
      return list && list.length > 0 && list[0].trim() ? { value: list } : 'must be a program (a string) or a list [program, args...]';
    }
    case 'args':
      return stringList(v) ? { value: v } : 'must be a list of strings';
    case 'prompt':
      return v === 'stdin' || v === 'arg' || v === 'file' ? { value: v } : 'must be stdin, arg or file (a private file whose path replaces {promptFile} in command)';
    case 'env':
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? { value: v } : 'must be a map of variable names to values';
  }
}

export class FileReader {
  /** Where nodes that are not in the file come from (`env ORCHESTRATOR_PROVIDERS_X_MODEL`). */
  readonly labels = new WeakMap<object, string>();
  constructor(
    readonly file: string,
    readonly warnings: string[],
    readonly lines = new LineCounter(),
  ) {}
  at(node: Node | null | undefined): string {
    const label = node ? this.labels.get(node) : undefined;
    if (label) return label;
    const offset = node?.range?.[0];
    return offset === undefined ? this.file : `${this.file}:${this.lines.linePos(offset).line}`;
  }
  warn(node: Node | null | undefined, message: string): void {
    this.warnings.push(`${this.at(node)}: ${message}`);
  }
}

/** Where an entry was read from, so that a variable can change one of its keys (providerEnv.ts). */
export interface EntrySource {
  r: FileReader;
  doc: Document;
  nameNode: Node;
  node: YAMLMap;
}

export function readEntry(r: FileReader, doc: Document, name: string, nameNode: Node, node: unknown): ConfiguredProvider | undefined {
  const where = `providers.${name}`;
  if (!isMap(node)) {
    r.warn(nameNode, `${where} must be a map of settings (type:, model:, ...): it is ignored`);
    return undefined;
  }
  const entry: Partial<ProviderEntry> = {};
  const keyAt: ConfiguredProvider['keyAt'] = {};
  const nodes: Partial<Record<ProviderKey, Node>> = {};
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (!(KEYS as readonly string[]).includes(key)) {
      r.warn(keyNode, `${where}.${key}: unknown key, ignored.${suggestion(key, KEYS)} Keys: ${KEYS.join(', ')}`);
      continue;
    }
    const k = key as ProviderKey;
    const raw = (pair.value as Node | null)?.toJS(doc) as unknown;
    const checked = checkValue(k, raw);
    if (typeof checked === 'string') {
      r.warn(keyNode, `${where}.${k} ${checked}: it is ignored`);
      continue;
    }
    (entry as Record<string, unknown>)[k] = checked.value;
    keyAt[k] = r.at(keyNode);
    nodes[k] = keyNode;
  }
  if (entry.env) entry.env = readEnv(r, where, pair(node, 'env'), doc);

  let typeError: string | undefined;
  if (!entry.type) {
    if (kindOf(name)) entry.type = name; // `claude-code: {command: ...}` configures the built-in of that name
    else {
      typeError = `has no type: add type: (one of ${providerTypes().join(', ')})`;
      r.warn(nameNode, `${where} ${typeError}`);
    }
  } else if (!kindOf(entry.type)) {
    typeError = `has ${unknownTypeMessage(entry.type)}`;
    r.warn(nodes.type, `${where}.type: ${unknownTypeMessage(entry.type)}`);
  }
  const type = entry.type ?? '';
  if (!typeError) {
    for (const k of Object.keys(keyAt) as ProviderKey[]) {
      const why = uselessKey(k, type);
      if (!why) continue;
      r.warn(nodes[k], `${where}.${k} ${why}: it is ignored`);
      delete (entry as Record<string, unknown>)[k];
      delete keyAt[k];
    }
    keyWarnings(r, where, type, entry, nodes);
    if (type === 'command' && !entry.command) r.warn(nameNode, `${where} runs a command, but none is configured: add command: [program, args...]`);
  }
  return { ...(entry as ProviderEntry), type, from: r.file, at: r.at(nameNode), keyAt, ...(typeError ? { typeError } : {}) };
}

export function pair(map: { items: { key: unknown; value: unknown }[] }, key: string): Node | undefined {
  const p = map.items.find((i) => isScalar(i.key) && i.key.value === key);
  return (p?.value as Node | undefined) ?? undefined;
}

/** env: literal values only; `${{ ... }}` is not evaluated here, so such a variable is left out. */
function readEnv(r: FileReader, where: string, node: Node | undefined, doc: Document): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isMap(node)) return out;
  for (const p of node.items) {
    const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
    const v = (p.value as Node | null)?.toJS(doc) as unknown;
    const at = p.key as Node;
    if (!ENV_NAME.test(k)) r.warn(at, `${where}.env.${k}: not a variable name: it is ignored`);
    else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') r.warn(at, `${where}.env.${k} must be a string: it is ignored`);
    else if (String(v).includes('${{')) r.warn(at, `${where}.env.${k}: values are literal here (no \${{ }}): give a key with api_key_secret: (and key_env:) instead; it is ignored`);
    else out[k] = String(v);
  }
  return out;
}

/** api_key_secret / key_env that give nothing to anyone. */
function keyWarnings(r: FileReader, where: string, type: string, entry: Partial<ProviderEntry>, nodes: Partial<Record<ProviderKey, Node>>): void {
  const kind = kindOf(type);
  if (kind === 'http') return;
  const keys = presetKeys(type);
  const variable = entry.key_env ?? keys?.keyEnv;
  const secret = entry.api_key_secret ?? keys?.defaultSecret;
  if (entry.api_key_secret && !variable) {
    const hint = keys?.keyHint ? ` (${keys.keyHint})` : '';
    r.warn(nodes.api_key_secret, `${where}.api_key_secret gives the key to no variable: add key_env: NAME, the variable the tool reads its key from${hint}`);
  }
  if (entry.key_env && !secret) r.warn(nodes.key_env, `${where}.key_env does nothing without api_key_secret: (the secret whose value goes in ${entry.key_env})`);
}
