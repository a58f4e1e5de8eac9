/**
 * The environment a CLI agent runs with (issue 11, item 1): a clean base, the workflow's and the
 * step's `env`, and the provider's own settings (its key) — never the session's secrets, and never
 * the key of another vendor's service.
 *
 * - Secrets (`ORCHESTRATOR_SECRET_*`) never reach an agent; its own key comes from its provider's
 *   secret, put in by the registry under the variable the tool reads (`env` of the provider).
 * - A single-vendor tool (claude, codex, gemini) does not get the other vendors' keys that happen to
 *   be in the user's environment (OPENAI_API_KEY does not reach claude). Multi-vendor tools
 *   (opencode, aider, a `command` of the user's) keep them: which one they use is their config's call.
 */
import { SECRET_ENV_PREFIX } from '../engine/secrets';

/** Environment variables that hold a model vendor's credentials, by vendor. */
export const VENDOR_KEYS: Readonly<Record<string, readonly string[]>> = {
  anthropic: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'],
  openai: ['OPENAI_API_KEY', 'CODEX_API_KEY', 'AZURE_OPENAI_API_KEY'],
  google: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS'],
  other: ['OPENROUTER_API_KEY', 'MISTRAL_API_KEY', 'GROQ_API_KEY', 'DEEPSEEK_API_KEY', 'XAI_API_KEY', 'TOGETHER_API_KEY', 'FIREWORKS_API_KEY'],
};

/** Every variable of VENDOR_KEYS except those of `vendor`. */
export function foreignKeys(vendor: string): string[] {
  return Object.entries(VENDOR_KEYS)
    .filter(([v]) => v !== vendor)
    .flatMap(([, keys]) => keys);
}

/** `env` without secrets (and without `drop`): the base every agent starts from. */
export function cleanEnv(env: NodeJS.ProcessEnv | Record<string, string>, drop: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const dropped = new Set(drop);
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k.startsWith(SECRET_ENV_PREFIX) || dropped.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The program's environment: `base` (the engine's: no secrets; else this process's, cleaned),
 * without the foreign vendors' keys when the tool has a `vendor`, then the provider's `env`
 * (`undefined` removes a variable).
 */
export function agentEnv(base: Record<string, string> | undefined, provider: Record<string, string | undefined> = {}, vendor?: string): Record<string, string> {
  const env = cleanEnv(base ?? process.env, vendor ? foreignKeys(vendor) : []);
  for (const [k, v] of Object.entries(provider)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
