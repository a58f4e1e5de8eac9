/**
 * Built-in presets for well-known CLI agents, run headless in their documented structured
 * streaming mode, with the prompt on stdin (prompts of any size; aider, which cannot read stdin,
 * gets a prompt file). Each is a `command` provider configuration; the provider's config entry can
 * point it at another binary (`command:`), add flags (`args:`), set env (`env:`) and a default
 * model (`model:`) — see registry.ts.
 *
 * Facts verified against the installed tools are in docs/agent-clis-verified.md; the research
 * behind each flag (with sources) in docs/agent-clis-research.md.
 */
import type { CommandProviderOptions } from './command';
import { createCommandProvider } from './command';
import type { Provider } from './provider';

export type CommandPreset = Omit<CommandProviderOptions, 'name'> & {
  /** Where the invocation is documented. */
  source: string;
  /** One line for `orchestrator providers`. */
  description: string;
};

export const PRESETS: Record<string, CommandPreset> = {
  // Claude Code print mode. With no prompt argument, `-p` reads the prompt from stdin.
  // `--output-format stream-json` needs `--verbose`; `--include-partial-messages` adds the text
  // deltas as they stream (stream_event messages). API errors come in the result message (and on
  // stdout, not stderr). Headless `-p` skips the workspace-trust dialog.
  // Source: https://code.claude.com/docs/en/cli-reference, https://code.claude.com/docs/en/headless
  'claude-code': {
    command: ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'],
    promptVia: 'stdin',
    output: 'claude-stream-json',
    vendor: 'anthropic',
    modelArgs: (model) => ['--model', model],
    instructionsVia: { flag: '--append-system-prompt' },
    source: 'https://code.claude.com/docs/en/headless',
    description: 'Claude Code, print mode with stream-json (claude -p, prompt on stdin)',
  },
  // Codex non-interactive mode: `codex exec --json` prints JSONL events on stdout; `-` reads the
  // prompt from stdin; `--skip-git-repo-check` lets it run outside a git repository.
  // Source: https://developers.openai.com/codex/noninteractive, codex-rs/exec/src/cli.rs
  codex: {
    command: ['codex', 'exec', '--json', '--skip-git-repo-check'],
    promptVia: 'stdin',
    output: 'codex-json',
    vendor: 'openai',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    args: ['-'],
    source: 'https://developers.openai.com/codex/noninteractive',
    description: 'OpenAI Codex CLI (codex exec --json, prompt on stdin)',
  },
  // Gemini CLI headless mode: starts when stdin is not a terminal and reads the prompt from it;
  // `--output-format stream-json` prints JSONL events; `--skip-trust` trusts the folder for the
  // session (without it, an untrusted folder exits 55).
  // Source: https://geminicli.com/docs/cli/headless, https://geminicli.com/docs/cli/trusted-folders
  gemini: {
    command: ['gemini', '--output-format', 'stream-json', '--skip-trust'],
    promptVia: 'stdin',
    output: 'gemini-stream-json',
    vendor: 'google',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    source: 'https://geminicli.com/docs/cli/headless',
    description: 'Gemini CLI, headless with stream-json (prompt on stdin)',
  },
  // opencode: `opencode run` is the non-interactive mode; it reads the message from stdin when
  // stdin is not a terminal; `--format json` prints JSON events; `-m provider/model`.
  // Source: https://opencode.ai/docs/cli/#run, packages/opencode/src/cli/cmd/run.ts
  opencode: {
    command: ['opencode', 'run', '--format', 'json'],
    promptVia: 'stdin',
    output: 'opencode-json',
    modelArgs: (model) => ['-m', model],
    instructionsVia: 'prepend',
    source: 'https://opencode.ai/docs/cli/#run',
    description: 'opencode (opencode run --format json, prompt on stdin, model as provider/model)',
  },
  // aider scripting: `--message-file` sends one message from a file (aider cannot read stdin),
  // applies the edits and exits; `--yes-always` answers every confirmation; `--no-auto-commits`
  // leaves committing to the workflow; `--no-pretty` keeps colour codes out of the output.
  // Source: https://aider.chat/docs/scripting.html and https://aider.chat/docs/config/options.html
  aider: {
    command: ['aider', '--yes-always', '--no-auto-commits', '--no-pretty', '--message-file', '{promptFile}'],
    promptVia: 'file',
    modelArgs: (model) => ['--model', model],
    instructionsVia: 'prepend',
    source: 'https://aider.chat/docs/scripting.html',
    description: 'aider (aider --message-file, --yes-always --no-auto-commits)',
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/**
 * A provider for a built-in preset. `overrides` replace the preset's settings (e.g. `command` to
 * point at another binary, `env`, `timeoutMs`); `args` are added after the preset's own; `name`
 * defaults to the preset's name.
 */
export function createPresetProvider(preset: string, overrides: Partial<CommandProviderOptions> = {}): Provider {
  const base = Object.hasOwn(PRESETS, preset) ? PRESETS[preset] : undefined;
  if (!base) throw new Error(`unknown agent preset '${preset}': expected one of ${presetNames().join(', ')}`);
  const { source: _source, description: _description, ...options } = base;
  const args = [...(options.args ?? []), ...(overrides.args ?? [])];
  return createCommandProvider({ ...options, ...overrides, ...(args.length ? { args } : {}), name: overrides.name ?? preset });
}
