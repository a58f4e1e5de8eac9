/**
 * Which provider an agent's `provider:` names: one configured in `.orchestrator/config.yaml`
 * (repository) or `~/.orchestrator/config.yaml` (home; the repository's wins per name), else a
 * built-in one: `openai` (key from the OPENAI_API_KEY secret), `anthropic` (ANTHROPIC_API_KEY),
 * or a CLI preset (`claude-code`, `codex`, `gemini`, `opencode`, `aider`).
 *
 * ```yaml
 * providers:
 *   local:                      # a name workflows use: provider: local
 *     type: openai              # openai | anthropic | command | a preset name
 *     base_url: http://localhost:11434/v1
 *     api_key_secret: OLLAMA_KEY  # the secret holding the key (optional)
 *     model: llama3.1           # the default model
 *     timeout: 5m               # idle timeout of the stream
 *   mytool:
 *     type: command
 *     command: [mytool, --model, "{model}"]
 *     prompt: stdin             # or arg: the prompt replaces {prompt}, or is appended
 * ```
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../workflow/durations';
import { createAnthropicProvider } from './anthropic';
import { createCommandProvider } from './command';
import { createOpenAIProvider } from './openai';
import { createPresetProvider, presetNames } from './presets';
import { ProviderError, type Provider } from './provider';

const ProviderEntry = z.strictObject({
  type: z.string(),
  base_url: z.string().optional(),
  api_key_secret: z.string().optional(),
  model: z.string().optional(),
  timeout: z.union([z.string(), z.number()]).optional(),
  command: z.array(z.string()).min(1).optional(),
  prompt: z.enum(['stdin', 'arg']).optional(),
});
export type ProviderEntry = z.infer<typeof ProviderEntry>;

const ConfigFile = z.looseObject({ providers: z.record(z.string(), ProviderEntry).optional() });

export interface ProviderConfigs {
  readonly providers: Record<string, ProviderEntry & { from: string }>;
  readonly warnings: string[];
}

/** Reads the providers of the home and repository config files (the repository's win). */
export function loadProviderConfigs(repoRoot: string, homeDir = os.homedir()): ProviderConfigs {
  const providers: ProviderConfigs['providers'] = {};
  const warnings: string[] = [];
  for (const file of [path.join(homeDir, '.orchestrator', 'config.yaml'), path.join(repoRoot, '.orchestrator', 'config.yaml')]) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let value: unknown;
    try {
      value = parseYamlText(text);
    } catch (e) {
      warnings.push(`${file} does not parse (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): its providers are ignored`);
      continue;
    }
    const parsed = ConfigFile.safeParse(value ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      warnings.push(`${file}: ${issue.path.join('.')}: ${issue.message}; its providers are ignored`);
      continue;
    }
    for (const [name, entry] of Object.entries(parsed.data.providers ?? {})) providers[name] = { ...entry, from: file };
  }
  return { providers, warnings };
}

const BUILT_IN = ['openai', 'anthropic', 'command'];

/** The provider for a name, with keys from the secrets. Throws ProviderError (not retryable) when it cannot be made. */
export function resolveProvider(name: string, configs: ProviderConfigs, secrets: ReadonlyMap<string, string>): Provider {
  const entry = configs.providers[name];
  const type = entry?.type ?? name;
  const timeoutMs = entry?.timeout !== undefined ? parseDuration(entry.timeout) : undefined;
  const secretName = entry?.api_key_secret ?? (type === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY');
  const apiKey = secrets.get(secretName);
  const common = {
    name,
    ...(entry?.base_url ? { baseUrl: entry.base_url } : {}),
    ...(apiKey ? { apiKey } : {}),
    apiKeySecret: secretName,
    ...(entry?.model ? { defaultModel: entry.model } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  switch (type) {
    case 'openai':
      return createOpenAIProvider(common);
    case 'anthropic':
      return createAnthropicProvider(common);
    case 'command': {
      if (!entry?.command) throw new ProviderError(`provider '${name}' runs a command, but none is configured: add command: [program, args...] under providers.${name} in .orchestrator/config.yaml`, false);
      return createCommandProvider({ name, command: entry.command, promptVia: entry.prompt ?? 'stdin', ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    }
    default:
      if (presetNames().includes(type)) return createPresetProvider(type, { name, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      throw new ProviderError(
        `unknown provider '${name}': use a built-in one (${[...BUILT_IN, ...presetNames()].join(', ')}) or configure it under providers: in .orchestrator/config.yaml`,
        false,
      );
  }
}
