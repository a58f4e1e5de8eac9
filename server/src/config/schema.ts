/**
 * The settings file, `.orchestrator/config.yaml` (and `~/.orchestrator/config.yaml`), as one zod
 * schema. It is the single source for: the keys there are (unknown-key warnings with a
 * did-you-mean, in check.ts, and the key lists of agents/providerConfig.ts and prices.ts), the
 * JSON Schema in schemas/config.schema.json, completion and hover in the editor, the names of the
 * ORCHESTRATOR_* variables (envNames.ts) and what `orchestrator config show` lists.
 *
 * `expects` (a registry of its own, so that it stays out of the JSON Schema) says in words what a
 * value must be; it makes the messages: `concurrency must be a whole number from 1, not 'x'`,
 * `ORCHESTRATOR_CONCURRENCY is 'x': set it to a whole number from 1, or unset it`.
 */
import { z } from 'zod';
import { presetNames } from '../agents/presets';
import { DURATION_PATTERN, parseDuration } from '../workflow/durations';
import { SIZE_PATTERN } from './sizes';

/** What a value must be, in words ("a whole number from 1"). */
export const expectations = z.registry<{ expects: string }>();

function expects<T extends z.ZodType>(schema: T, text: string, description: string): T {
  const s = schema.meta({ description });
  expectations.add(s, { expects: text });
  return s;
}

/** Every provider `type:` there is (agents/providerConfig.ts providerTypes(), without importing it). */
export function configProviderTypes(): string[] {
  return ['openai', 'anthropic', 'command', ...presetNames()];
}

const DurationValue = z.union([z.number().nonnegative(), z.string().regex(new RegExp(DURATION_PATTERN))]);
/** A duration above zero (`0s` is caught by the refinement, which the JSON Schema cannot say). */
const PositiveDuration = z.union([z.number().positive(), z.string().regex(new RegExp(DURATION_PATTERN))]).refine((v) => (parseDuration(v) ?? 0) > 0);
const nonEmpty = z.string().trim().min(1);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const ProviderSettings = z
  .strictObject({
    type: expects(z.enum(configProviderTypes() as [string, ...string[]]).optional(), `one of ${configProviderTypes().join(', ')}`, 'What the provider is: `openai` or `anthropic` (an HTTP API), `command` (any CLI agent), or a preset (`claude-code`, `codex`, `gemini`, `opencode`, `aider`). May be left out when the entry\'s name is a built-in one.'),
    base_url: expects(nonEmpty.optional(), 'a URL (a non-empty string)', 'The endpoint: of the API (`openai`, `anthropic`), or given to a preset in its endpoint variable (claude-code `ANTHROPIC_BASE_URL`, gemini `GOOGLE_GEMINI_BASE_URL`).'),
    api_key_secret: expects(z.string().regex(SECRET_NAME).optional(), 'a secret name (letters, digits, _ and -): the key itself never goes in this file', 'The secret that holds the key (a name under .orchestrator/secrets/ or ORCHESTRATOR_SECRET_<NAME>), never the key itself.'),
    key_env: expects(z.string().regex(ENV_NAME).optional(), 'an environment variable name', 'The variable a CLI tool reads its key from (the secret of `api_key_secret` goes in it).'),
    model: expects(nonEmpty.optional(), 'a model name (a non-empty string)', 'The default model (a step or agent may choose another with `model:`).'),
    timeout: expects(DurationValue.optional(), 'a duration such as 30s, 5m or 1h30m (a bare number is seconds)', 'HTTP providers: the longest silence in the stream (default 2m). CLI tools: the longest run, then the tool is killed.'),
    command: expects(z.union([nonEmpty, z.array(z.string()).min(1).refine((l) => l[0].trim() !== '')]).optional(), 'a program (a string) or a list [program, args...]', 'The program (and its arguments). For a preset it replaces the program only; its own flags stay.'),
    args: expects(z.array(z.string()).optional(), 'a list of strings', 'Extra arguments, after the preset\'s flags and the model\'s, before the prompt.'),
    env: expects(z.record(z.string().regex(ENV_NAME), z.union([z.string(), z.number(), z.boolean()])).optional(), 'a map of variable names to literal values', 'Variables for the tool (literal values, no `${{ }}`; give keys with `api_key_secret`).'),
    prompt: expects(z.enum(['stdin', 'arg', 'file']).optional(), 'stdin, arg or file', '`command` providers: how the prompt is passed: `stdin` (default), `arg` (replaces `{prompt}`, or comes last), `file` (a private file whose path replaces `{promptFile}`).'),
  })
  .meta({ description: 'One agent provider: a name workflows use in `provider:`.' });

export const PriceSettings = z
  .strictObject({
    input: expects(z.number().nonnegative(), 'a number (US$ per million tokens)', 'US$ per million input tokens.'),
    output: expects(z.number().nonnegative(), 'a number (US$ per million tokens)', 'US$ per million output tokens.'),
    cache_read: expects(z.number().nonnegative().optional(), 'a number (US$ per million tokens)', 'US$ per million tokens read from the prompt cache (default: the input price).'),
  })
  .meta({ description: "A model's price, US$ per million tokens: `{ input, output, cache_read? }`." });

export const RetentionSettings = z
  .strictObject({
    keep: expects(z.number().int().nonnegative().optional(), 'a whole number from 0', 'Keep at most this many sessions at rest (the newest); older ones are pruned. Not set: no limit.'),
    max_age: expects(PositiveDuration.optional(), 'a duration such as 30d, 12h or 90m', 'Prune sessions at rest that ended longer ago than this (e.g. `30d`). Not set: no limit.'),
    max_size: expects(z.union([z.number().int().nonnegative(), z.string().regex(new RegExp(SIZE_PATTERN))]).optional(), 'a size such as 500MB or 2GB (a bare number is bytes)', 'Prune the oldest sessions at rest while all sessions together take more than this (e.g. `2GB`; KB, MB, GB, TB are powers of 1024). Not set: no limit.'),
  })
  .meta({ description: 'What `orchestrator prune` removes, and what is pruned after each session ends: `{ keep, max_age, max_size }`. Live sessions and sessions waiting for an approval are never removed.' });

export const ConfigSchema = z
  .strictObject({
    concurrency: expects(z.number().int().min(1).optional(), 'a whole number from 1', 'Steps at once for workflows that set no `concurrency` (the workflow\'s own value wins). Default: one per CPU core.'),
    stuck_after: expects(PositiveDuration.optional(), 'a duration such as 90s, 5m or 1h', '`stuck_after` for steps when neither the step nor the workflow\'s `defaults` set one. Default: 5m.'),
    retention: RetentionSettings.optional(),
    providers: z.record(z.string(), ProviderSettings).optional().meta({ description: 'Agent providers by name (`provider: <name>` in a workflow). The repository\'s entry of a name replaces the home one as a whole.' }),
    prices: z.record(z.string(), PriceSettings).optional().meta({ description: 'Model prices for cost budgets, US$ per million tokens. A model matches its own entry, else the longest entry it starts with. The repository\'s entry of a model replaces the home one.' }),
  })
  .meta({ description: 'Synapse Orchestrator settings (.orchestrator/config.yaml, ~/.orchestrator/config.yaml). See docs/configuration.md.' });

export type ProviderSettingsValue = z.infer<typeof ProviderSettings>;
export type PriceSettingsValue = z.infer<typeof PriceSettings>;

/** The keys of a provider entry (agents/providerConfig.ts checks them one by one). */
export const PROVIDER_KEYS = Object.keys(ProviderSettings.shape) as (keyof ProviderSettingsValue)[];
/** The keys of a price entry (agents/prices.ts). */
export const PRICE_KEYS = Object.keys(PriceSettings.shape) as (keyof PriceSettingsValue)[];

/** Defaults of the settings that have one (`concurrency`'s depends on the machine: see load.ts). */
export const DEFAULT_STUCK_AFTER = '5m';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://synapse-orchestrator.dev/schemas/config.schema.json' };
}
