/**
 * The `config.yaml` that `orchestrator init` writes: every setting at its default, commented out,
 * with what it does. One function, so that it can be generated from the typed config schema
 * (server/src/config/) once that exists; until then it lists the settings read today:
 * `concurrency` and `stuck_after` (ORCHESTRATOR_CONCURRENCY / ORCHESTRATOR_STUCK_AFTER),
 * `retention`, `providers` (agents/providerConfig.ts) and `prices` (agents/prices.ts).
 * TODO(config13): generate from the schema (keys, defaults, descriptions, environment variables).
 *
 * The text is all comments: loaded as it is, it sets nothing. Uncommenting any block gives valid
 * YAML with valid values (a test uncomments them all and loads the result).
 */
export function configTemplate(): string {
  return `# Synapse Orchestrator: settings for this repository (commit this file with it).
# Every setting is shown at its default, commented out: uncomment a line to change it.
# Precedence, lowest first: defaults, ~/.orchestrator/config.yaml (yours, for every repository),
# this file, ORCHESTRATOR_* environment variables, command-line flags.
# Secrets (API keys, tokens) never go here: use \`orchestrator secrets set NAME\`.

# Steps that run at once when a workflow sets no \`concurrency\` (ORCHESTRATOR_CONCURRENCY).
# Default: the number of CPUs of the machine.
# concurrency: 4

# A running step that prints nothing for this long is flagged stuck (ORCHESTRATOR_STUCK_AFTER);
# a workflow's own \`stuck_after\` wins.
# stuck_after: 5m

# Sessions kept on disk. \`orchestrator prune\` removes sessions at rest beyond these limits
# (oldest first); with any of them set, it runs after each session ends. Default: keep all.
# retention:
#   keep: 50          # the newest 50 sessions
#   max_age: 30d      # sessions older than 30 days
#   max_size: 2GB     # the oldest, until all sessions fit in 2 GB

# Agent providers by name, for a workflow's \`agents: { x: { provider: NAME } }\`.
# Built in without any setting: claude-code, codex, gemini, opencode, aider, openai, anthropic.
# Default: none configured here.
# providers:
#   local:
#     type: openai                      # any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio)
#     base_url: http://localhost:11434/v1
#     api_key_secret: LOCAL_KEY         # the secret that holds its key
#     model: llama3.1
#     timeout: 2m                       # the longest silence in the stream
#   work-claude:
#     type: claude-code
#     model: sonnet
#     args: [--max-turns, "5"]

# Model prices in US$ per million tokens, for cost budgets. Default: none (no price is built in).
# prices:
#   claude-sonnet-4-5: { input: 3, output: 15, cache_read: 0.3 }
`;
}
