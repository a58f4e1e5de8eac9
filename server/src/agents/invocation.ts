/**
 * The argv and stdin of one CLI-agent request: a pure function, so presets can be checked without
 * the tools (issue 11, item 4: prompts of any size).
 *
 * - 'stdin': the prompt is written to the program's stdin, which is then closed (every npm agent
 *   CLI reads its prompt there; an open stdin would hang them).
 * - 'file': the prompt goes to a private temporary file whose path replaces `{promptFile}` (aider's
 *   `--message-file`).
 * - 'arg': the prompt replaces `{prompt}` in an argument, or is the last argument. Linux caps one
 *   argument at 128 KiB (MAX_ARG_STRLEN): a longer one is refused with the provider and the limit
 *   named, instead of a bare `spawn E2BIG`.
 * Instructions passed by flag (claude's `--append-system-prompt`) that would be too long for an
 * argument go before the prompt instead.
 */
import { ProviderError } from './provider';

export type PromptVia = 'stdin' | 'arg' | 'file';

export interface InvocationOptions {
  command: string[];
  promptVia: PromptVia;
  modelArgs?: (model: string) => string[];
  instructionsVia?: 'prepend' | { flag: string };
  args?: string[];
  defaultModel?: string;
}

export interface Invocation {
  file: string;
  args: string[];
  /** What to write to stdin ('' for nothing: stdin is closed at once). */
  stdin: string;
  /** 'file': what to write to the file named by `{promptFile}` (the caller makes it). */
  promptFile?: string;
}

/** Linux's limit on one argument (MAX_ARG_STRLEN = 32 pages of 4 KiB), terminating NUL included. */
export const MAX_ARG_BYTES = 128 * 1024 - 1;
/** A prompt-file path placeholder, replaced by the caller once the file exists. */
export const PROMPT_FILE = '{promptFile}';

const kib = (n: number): string => `${Math.ceil(n / 1024)} KiB`;

export function buildInvocation(name: string, opts: InvocationOptions, req: { prompt: string; model?: string; instructions?: string }): Invocation {
  if (opts.command.length === 0) throw new ProviderError(`provider '${name}': its command is empty: set command: in .orchestrator/config.yaml`, false);
  const flag = typeof opts.instructionsVia === 'object' ? opts.instructionsVia.flag : undefined;
  const byFlag = flag !== undefined && req.instructions !== undefined && Buffer.byteLength(req.instructions) <= MAX_ARG_BYTES / 2 ? flag : undefined;
  const prompt = req.instructions && !byFlag ? `${req.instructions}\n\n${req.prompt}` : req.prompt;
  const via = opts.promptVia;
  const model = req.model ?? opts.defaultModel;

  const out: string[] = [];
  let placedPrompt = false;
  for (const token of opts.command) {
    if (token.includes('{model}') && !model) {
      // No model: drop `{model}` and, for `--model {model}`, the flag before it.
      if (token === '{model}' && out.length > 1 && out[out.length - 1].startsWith('-')) out.pop();
      continue;
    }
    let t = token;
    if (model) t = t.split('{model}').join(model);
    if (via === 'arg' && t.includes('{prompt}')) {
      t = t.split('{prompt}').join(prompt);
      placedPrompt = true;
    }
    if (via === 'file' && t.includes(PROMPT_FILE)) placedPrompt = true;
    out.push(t);
  }
  if (model && opts.modelArgs) out.push(...opts.modelArgs(model));
  if (opts.args) out.push(...opts.args);
  if (byFlag && req.instructions) out.push(byFlag, req.instructions);
  if (via === 'arg' && !placedPrompt) out.push(prompt);
  if (via === 'file' && !placedPrompt) throw new ProviderError(`provider '${name}': its prompt goes in a file, but no argument of its command holds ${PROMPT_FILE}`, false);
  for (const a of out) {
    const bytes = Buffer.byteLength(a);
    if (bytes > MAX_ARG_BYTES) {
      throw new ProviderError(
        `provider '${name}': the prompt is ${kib(bytes)}, over the 128 KiB one command-line argument may hold; set prompt: stdin for this provider in .orchestrator/config.yaml if the tool reads its prompt from stdin, or send less context`,
        false,
      );
    }
  }
  const [file, ...args] = out;
  return { file, args, stdin: via === 'stdin' ? prompt : '', ...(via === 'file' ? { promptFile: prompt } : {}) };
}
