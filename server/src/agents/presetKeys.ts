/**
 * How each CLI preset takes its API key and its endpoint from the environment, as the tools' own
 * docs say. The registry gives a preset's tool the value of its provider's secret under `keyEnv`
 * (and nothing else of the secrets), and a provider's `base_url:` under `baseUrlEnv`. A preset
 * without `keyEnv` needs the config's `key_env:` to receive a key (the variable depends on the
 * model it is pointed at); one without `baseUrlEnv` takes its endpoint from its own config file
 * (`baseUrlHint` says where), so `base_url:` does nothing for it and is warned about.
 */

export interface PresetKeys {
  /** The variable the tool reads its API key from. */
  readonly keyEnv?: string;
  /** The secret used when the config names none (`api_key_secret:`); optional: the tool may be logged in. */
  readonly defaultSecret?: string;
  /** The variable the tool reads its API endpoint from. */
  readonly baseUrlEnv?: string;
  /** Where the endpoint is set instead, when no variable does it. */
  readonly baseUrlHint?: string;
  /** Why there is no `keyEnv`, for the warning that asks for `key_env:`. */
  readonly keyHint?: string;
  /** Where the above is documented. */
  readonly sources: readonly string[];
}

export const PRESET_KEYS: Readonly<Record<string, PresetKeys>> = {
  // "ANTHROPIC_API_KEY: API key sent as X-Api-Key header ... In non-interactive mode (-p), the key is
  // always used when present"; "ANTHROPIC_BASE_URL: Override the API endpoint to route requests
  // through a proxy or gateway".
  'claude-code': {
    keyEnv: 'ANTHROPIC_API_KEY',
    defaultSecret: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    sources: ['https://code.claude.com/docs/en/env-vars'],
  },
  // "CODEX_API_KEY | Exec, review, TypeScript SDK ... | Provides an API key for non-interactive
  // Codex processes". Its endpoint is a [model_providers.<id>] table's base_url in config.toml;
  // OPENAI_BASE_URL is not honoured by the built-in provider's streaming connection
  // (/work/shared/notes/agent-clis.md; github/gh-aw#27710). The default secret is OPENAI_API_KEY,
  // the same key the `openai` provider uses.
  codex: {
    keyEnv: 'CODEX_API_KEY',
    defaultSecret: 'OPENAI_API_KEY',
    baseUrlHint: 'codex reads its endpoint from its own config: a [model_providers.<id>] table with base_url (and env_key) in ~/.codex/config.toml (or $CODEX_HOME/config.toml), chosen with model_provider = "<id>"',
    sources: ['https://developers.openai.com/codex/environment-variables', 'https://developers.openai.com/codex/config-advanced'],
  },
  // GEMINI_API_KEY is the Gemini API key; GOOGLE_GEMINI_BASE_URL points the API client elsewhere
  // (with settings.json security.auth.selectedType "gemini-api-key": agent-clis.md).
  gemini: {
    keyEnv: 'GEMINI_API_KEY',
    defaultSecret: 'GEMINI_API_KEY',
    baseUrlEnv: 'GOOGLE_GEMINI_BASE_URL',
    sources: ['https://geminicli.com/docs/get-started/authentication', '/work/shared/notes/agent-clis.md'],
  },
  // opencode talks to many providers; each reads its own variable (ANTHROPIC_API_KEY,
  // OPENAI_API_KEY, ...) and its endpoint is a provider's options.baseURL in opencode.json.
  opencode: {
    keyHint: "opencode reads the key of the provider its model names (e.g. ANTHROPIC_API_KEY for anthropic/..., OPENAI_API_KEY for openai/...)",
    baseUrlHint: 'opencode reads its endpoint from its own config: options.baseURL of a provider in opencode.json (~/.config/opencode/opencode.json or the project\'s)',
    sources: ['https://opencode.ai/docs/providers/', 'https://opencode.ai/docs/config/'],
  },
  // aider: "OPENAI_API_KEY", "ANTHROPIC_API_KEY", ... per model; an OpenAI-compatible endpoint is
  // OPENAI_API_BASE (or --openai-api-base) with an openai/<model> model.
  aider: {
    keyHint: 'aider reads the key of the provider its model names (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...)',
    baseUrlHint: 'aider takes an OpenAI-compatible endpoint for openai/<model> models from OPENAI_API_BASE: set it under env: (or pass --openai-api-base URL in args:)',
    sources: ['https://aider.chat/docs/config/api-keys.html', 'https://aider.chat/docs/llms/openai-compat.html'],
  },
};

export function presetKeys(preset: string): PresetKeys | undefined {
  return Object.hasOwn(PRESET_KEYS, preset) ? PRESET_KEYS[preset] : undefined;
}
