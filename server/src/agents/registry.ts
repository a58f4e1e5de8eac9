/**
 * Which provider an agent's `provider:` names: one configured in `.orchestrator/config.yaml`
 * (repository) or `~/.orchestrator/config.yaml` (home; the repository's wins per name), else a
 * built-in one: `openai` (key from the OPENAI_API_KEY secret), `anthropic` (ANTHROPIC_API_KEY),
 * or a CLI preset (`claude-code`, `codex`, `gemini`, `opencode`, `aider`).
 *
 * The file is read and checked in providerConfig.ts; the effective settings (with where each
 * came from) are worked out in providerSettings.ts.
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
 *   claude-code:                # a preset: command replaces its program, args/env/model/timeout add to it
 *     command: /opt/claude
 *     api_key_secret: WORK_ANTHROPIC_KEY   # goes to the tool as ANTHROPIC_API_KEY
 * ```
 */
import { createAnthropicProvider } from './anthropic';
import { createCommandProvider } from './command';
import { createOpenAIProvider } from './openai';
import { createPresetProvider } from './presets';
import { ProviderError, type Provider } from './provider';
import type { ProviderConfigs } from './providerConfig';
import { effectiveProvider, toolEnv } from './providerSettings';

export { type ConfiguredProvider, type ProviderConfigs, type ProviderEntry } from './providerConfig';
export { loadProviderConfigs } from './providerLoad';

/** The provider for a name, with keys from the secrets. Throws ProviderError (not retryable) when it cannot be made. */
export function resolveProvider(name: string, configs: ProviderConfigs, secrets: ReadonlyMap<string, string>): Provider {
  const p = effectiveProvider(name, configs, secrets);
  if (p.error !== undefined) throw new ProviderError(p.error, false);
  const timeout = p.timeoutMs ? { timeoutMs: p.timeoutMs.value } : {};
  const defaultModel = p.model ? { defaultModel: p.model.value } : {};
  if (p.kind === 'http') {
    const secret = p.key!.secret;
    const apiKey = secrets.get(secret);
    const config = { name, ...(p.baseUrl ? { baseUrl: p.baseUrl.value } : {}), ...(apiKey ? { apiKey } : {}), apiKeySecret: secret, ...defaultModel, ...timeout };
    return p.type === 'anthropic' ? createAnthropicProvider(config) : createOpenAIProvider(config);
  }
  let env: Record<string, string>;
  try {
    env = toolEnv(p, secrets);
  } catch (e) {
    throw new ProviderError(e instanceof Error ? e.message : String(e), false);
  }
  const common = { name, command: p.command!.value, ...(p.args ? { args: p.args.value } : {}), ...(Object.keys(env).length ? { env } : {}), ...defaultModel, ...timeout };
  if (p.kind === 'preset') return createPresetProvider(p.type, common);
  return createCommandProvider({ ...common, promptVia: p.prompt?.value ?? 'stdin' });
}
