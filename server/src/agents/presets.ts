/**
 * Built-in presets for well-known CLI agents, run in their documented non-interactive mode.
 * Each is a `command` provider configuration; anything can be overridden from the config
 * (e.g. a different binary path, extra flags, env, cwd, timeout).
 *
 * The prompt goes on stdin where the tool documents reading it there (claude), otherwise as an
 * argument. Note that Linux caps a single argument at 128 KiB (MAX_ARG_STRLEN), so very large
 * prompts should use a stdin-capable tool.
 */
import type { CommandProviderOptions } from './command';
import { createCommandProvider } from './command';
import type { Provider } from './provider';

export type CommandPreset = Omit<CommandProviderOptions, 'name'> & {
  /** Where the invocation is documented. */
  source: string;
  /** One line for `orchestrator providers` style listings. */
  description: string;
};

export const PRESETS: Record<string, CommandPreset> = {
  // Claude Code print mode: `claude -p` prints the answer and exits; piped stdin is read as input
  // (`cat file | claude -p "query"`); `--model <alias|id>`; `--append-system-prompt <text>` adds to
  // the default system prompt.
  // Source: https://code.claude.com/docs/en/cli-reference (CLI commands / CLI flags / system prompt flags)
  'claude-code': {
    command: ['claude', '-p'],
    promptVia: 'stdin',
    modelArgs: (model) => ['--model', model],
    instructionsVia: { flag: '--append-system-prompt' },
    source: 'https://code.claude.com/docs/en/cli-reference',
    description: 'Claude Code in print mode (claude -p, prompt on stdin)',
  },
  // Codex non-interactive mode: `codex exec "<prompt>"`; progress goes to stderr and only the final
  // agent message to stdout; `-m, --model <model>`.
  // Source: https://developers.openai.com/codex/noninteractive (flags: https://developers.openai.com/codex/cli/reference#codex-exec)
  codex: {
    command: ['codex', 'exec'],
    promptVia: 'arg',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    source: 'https://developers.openai.com/codex/noninteractive',
    description: 'OpenAI Codex CLI (codex exec <prompt>)',
  },
  // Gemini CLI headless mode: `-p, --prompt <prompt>` runs non-interactively ("appended to input on
  // stdin, if any"); `-m, --model <model>`.
  // Source: https://geminicli.com/docs/cli/cli-reference (and `gemini --help`)
  gemini: {
    command: ['gemini', '-p', '{prompt}'],
    promptVia: 'arg',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    source: 'https://geminicli.com/docs/cli/cli-reference',
    description: 'Gemini CLI in headless mode (gemini -p <prompt>)',
  },
  // opencode: `opencode run [message..]` is the non-interactive mode; `-m, --model provider/model`
  // (the model is given as provider_id/model_id, e.g. anthropic/claude-sonnet-4-20250514).
  // Sources: https://learnopencode.com/appendix/cli (run command options) and
  // https://opencode.ai/v1/docs/models/ (provider_id/model_id)
  opencode: {
    command: ['opencode', 'run'],
    promptVia: 'arg',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    source: 'https://learnopencode.com/appendix/cli',
    description: 'opencode (opencode run <message>, model as provider/model)',
  },
  // aider scripting: `--message <text>` sends one message, applies the edits and exits;
  // `--model <model>`; `--yes-always` answers yes to every confirmation (the scripting page's
  // `--yes` is argparse shorthand for it); `--no-auto-commits` leaves committing to the user.
  // Source: https://aider.chat/docs/scripting.html and https://aider.chat/docs/config/options.html
  aider: {
    command: ['aider', '--yes-always', '--no-auto-commits', '--message', '{prompt}'],
    promptVia: 'arg',
    modelArgs: (model) => ['--model', model],
    instructionsVia: 'prepend',
    source: 'https://aider.chat/docs/scripting.html',
    description: 'aider (aider --message <prompt> --yes-always --no-auto-commits)',
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/**
 * A provider for a built-in preset. `overrides` replace the preset's settings (e.g. `command` to
 * point at another binary, `env`, `cwd`, `timeoutMs`); `name` defaults to the preset's name.
 */
export function createPresetProvider(preset: string, overrides: Partial<CommandProviderOptions> = {}): Provider {
  const base = Object.hasOwn(PRESETS, preset) ? PRESETS[preset] : undefined;
  if (!base) throw new Error(`unknown agent preset '${preset}': expected one of ${presetNames().join(', ')}`);
  const { source: _source, description: _description, ...options } = base;
  return createCommandProvider({ ...options, ...overrides, name: overrides.name ?? preset });
}
