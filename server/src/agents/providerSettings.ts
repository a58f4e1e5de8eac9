/**
 * A provider's effective settings, each with where it came from (`file:line`, `preset`,
 * `default`): what the registry builds the provider from, and what `orchestrator providers` shows.
 *
 * For a preset, `command:` replaces only the program (the first element of the preset's command):
 * `command: /opt/claude` runs `/opt/claude -p`, `command: [npx, claude]` runs `npx claude -p`; the
 * preset's own flags stay, and `args:` come after them and the model's flags, before the prompt.
 * The tool gets its key in the preset's key variable (presetKeys.ts) or the config's `key_env:`,
 * from the secret `api_key_secret:` names (default: the preset's default secret, if it is set),
 * and nothing else of the secrets; `base_url:` goes in the preset's endpoint variable. The key and
 * the endpoint win over a variable of the same name under `env:`.
 */
import { ANTHROPIC_DEFAULT_BASE_URL } from './anthropic';
import { OPENAI_DEFAULT_BASE_URL } from './openai';
import { presetKeys } from './presetKeys';
import { PRESETS } from './presets';
import { DEFAULT_TIMEOUT_MS } from './provider';
import { kindOf, providerTypes, type ConfiguredProvider, type ProviderConfigs, type ProviderKind } from './providerConfig';
import { parseDuration } from '../workflow/durations';

export interface Setting<T> {
  readonly value: T;
  /** `file:line`, `preset` or `default`. */
  readonly from: string;
}

export interface KeySetting {
  /** The secret that holds the key. */
  readonly secret: string;
  readonly from: string;
  /** Whether the secret is set (its value is never shown). */
  readonly set: boolean;
  /** The variable a CLI tool gets it in (none for HTTP providers: it goes in a header). */
  readonly env?: string;
  /** Where the variable's name came from. */
  readonly envFrom?: string;
}

export interface EffectiveProvider {
  readonly name: string;
  readonly type: string;
  readonly kind?: ProviderKind;
  /** `file:line` of the entry, or `built-in`. */
  readonly configured: string;
  /** Why no provider can be made from it. */
  readonly error?: string;
  readonly model?: Setting<string>;
  readonly baseUrl?: Setting<string>;
  /** The variable base_url goes in, for a preset. */
  readonly baseUrlEnv?: string;
  readonly timeoutMs?: Setting<number>;
  /** The whole command before the model's flags, args and prompt (CLI providers). */
  readonly command?: Setting<string[]>;
  /** The program part of it (what `--version` is asked of). */
  readonly program?: string[];
  readonly args?: Setting<string[]>;
  /** Literal variables from `env:` (shown by name only). */
  readonly env?: Setting<Record<string, string>>;
  readonly prompt?: Setting<'stdin' | 'arg' | 'file'>;
  readonly key?: KeySetting;
}

const BUILT_IN = 'built-in';

function from<T>(entry: ConfiguredProvider | undefined, key: keyof ConfiguredProvider['keyAt'], value: T | undefined, fallback?: Setting<T>): Setting<T> | undefined {
  const at = entry?.keyAt[key];
  if (value !== undefined && at) return { value, from: at };
  return fallback;
}

/** The effective settings of the provider a workflow names `name`. */
export function effectiveProvider(name: string, configs: ProviderConfigs, secrets: ReadonlyMap<string, string>): EffectiveProvider {
  const entry = Object.hasOwn(configs.providers, name) ? configs.providers[name] : undefined;
  const type = entry?.type || name;
  const configured = entry?.at ?? BUILT_IN;
  if (entry?.typeError) return { name, type, configured, error: `provider '${name}' (${entry.at}) ${entry.typeError}` };
  const kind = kindOf(type);
  if (!kind || (!entry && type === 'command')) {
    return { name, type, configured, error: `unknown provider '${name}': use a built-in one (${providerTypes().filter((t) => t !== 'command').join(', ')}) or configure it under providers: in .orchestrator/config.yaml` };
  }
  const model = from(entry, 'model', entry?.model);
  const timeoutMs = from(entry, 'timeout', entry?.timeout !== undefined ? parseDuration(entry.timeout) : undefined, kind === 'http' ? { value: DEFAULT_TIMEOUT_MS, from: 'default' } : undefined);

  if (kind === 'http') {
    const secret = entry?.api_key_secret ?? (type === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY');
    const baseUrl = from(entry, 'base_url', entry?.base_url, { value: type === 'anthropic' ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL, from: 'default' });
    return {
      name, type, kind, configured,
      ...(model ? { model } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      key: { secret, from: entry?.keyAt.api_key_secret ?? 'default', set: secrets.has(secret) },
    };
  }

  const keys = kind === 'preset' ? presetKeys(type) : undefined;
  const preset = kind === 'preset' ? PRESETS[type] : undefined;
  let command: Setting<string[]> | undefined;
  let program: string[] | undefined;
  if (preset) {
    program = entry?.command ?? preset.command.slice(0, 1);
    command = { value: [...program, ...preset.command.slice(1)], from: entry?.keyAt.command ?? 'preset' };
  } else if (entry?.command) {
    program = entry.command.slice(0, 1);
    command = { value: entry.command, from: entry.keyAt.command ?? 'default' };
  }
  if (!command) return { name, type, kind, configured, error: `provider '${name}' runs a command, but none is configured: add command: [program, args...] under providers.${name} in .orchestrator/config.yaml` };

  const args = from(entry, 'args', entry?.args);
  const env = from(entry, 'env', entry?.env);
  const prompt = preset ? { value: preset.promptVia, from: 'preset' } : (from(entry, 'prompt', entry?.prompt) ?? { value: 'stdin' as const, from: 'default' });
  const baseUrl = keys?.baseUrlEnv ? from(entry, 'base_url', entry?.base_url) : undefined;
  const secret = entry?.api_key_secret ?? keys?.defaultSecret;
  const keyEnv = entry?.key_env ?? keys?.keyEnv;
  const key: KeySetting | undefined =
    secret && keyEnv
      ? {
          secret,
          from: entry?.keyAt.api_key_secret ?? 'preset',
          set: secrets.has(secret),
          env: keyEnv,
          envFrom: entry?.keyAt.key_env ?? 'preset',
        }
      : undefined;
  return {
    name, type, kind, configured, command, program, prompt,
    ...(model ? { model } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(args ? { args } : {}),
    ...(env ? { env } : {}),
    ...(baseUrl ? { baseUrl, baseUrlEnv: keys?.baseUrlEnv } : {}),
    ...(key ? { key } : {}),
  };
}

/**
 * The variables a CLI provider's tool gets on top of the base environment: `env:`, then the
 * endpoint, then the key (only its own secret). Throws a message when a secret the config names
 * explicitly is not set.
 */
export function toolEnv(p: EffectiveProvider, secrets: ReadonlyMap<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...(p.env?.value ?? {}) };
  if (p.baseUrl && p.baseUrlEnv) env[p.baseUrlEnv] = p.baseUrl.value;
  if (p.key?.env) {
    const value = secrets.get(p.key.secret);
    if (value !== undefined) env[p.key.env] = value;
    else if (p.key.from !== 'preset') {
      throw new Error(`provider '${p.name}': the secret ${p.key.secret} (api_key_secret at ${p.key.from}) is not set: set ORCHESTRATOR_SECRET_${p.key.secret} or write it to .orchestrator/secrets/${p.key.secret}`);
    }
  }
  return env;
}
