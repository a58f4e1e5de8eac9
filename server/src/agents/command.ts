/**
 * The `command` provider: runs any CLI agent installed on the user's machine (claude, codex,
 * gemini, opencode, aider, or a script of the user's own) as a child process.
 *
 * - No shell: the argv is spawned directly, so a prompt can never be interpreted as shell syntax.
 *   `{prompt}` and `{model}` inside an argument are replaced by the prompt and the model.
 * - stdout is streamed to `onChunk` as it arrives (decoded with a StringDecoder, so a multi-byte
 *   character split between two reads is never mangled); the whole of it is the answer.
 * - stderr is kept (the last 8 KB only) for error messages.
 * - The child is spawned in its own process group; aborting (or the timeout) kills the whole
 *   group, so the agent's own children (tool calls, language servers, ...) go too.
 */
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { AgentChunk, AgentRequest, AgentResult, Provider } from './provider';
import { ProviderError } from './provider';

export interface CommandProviderOptions {
  /** The provider's name in the workflow/config (appears in error messages). */
  name: string;
  /** Program and arguments, e.g. ['codex', 'exec']. `{prompt}` / `{model}` are substituted. */
  command: string[];
  /**
   * 'stdin': the prompt is written to the program's stdin (then stdin is closed).
   * 'arg': the prompt replaces `{prompt}` in an argument, or is appended as the last argument if
   * no argument contains `{prompt}`.
   */
  promptVia: 'stdin' | 'arg';
  /** Arguments that select the model, appended after `command` when a model is given. */
  modelArgs?: (model: string) => string[];
  /**
   * How the instructions (system prompt) reach the program: 'prepend' (default) puts them before
   * the prompt, separated by a blank line; `{ flag }` passes them as `flag <instructions>`.
   */
  instructionsVia?: 'prepend' | { flag: string };
  /** Extra arguments (the user's `args:`), after the command and its model arguments, before the prompt. */
  args?: string[];
  /** The model used when the request names none (the user's `model:` in the provider's config). */
  defaultModel?: string;
  /** Extra environment variables (merged over process.env; `undefined` removes one). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the program (and fail, retryably) if it has not finished after this many ms. */
  timeoutMs?: number;
}

export interface Invocation {
  file: string;
  args: string[];
  /** What to write to stdin ('' for nothing: stdin is closed at once). */
  stdin: string;
}

/** Bytes of stderr kept for error messages. */
export const STDERR_TAIL_BYTES = 8 * 1024;
/** Grace period between SIGTERM and SIGKILL when killing the process group. */
const KILL_GRACE_MS = 2000;

const RETRYABLE_STDERR =
  /\b429\b|\b529\b|\b503\b|rate[\s_-]?limit|too many requests|overloaded|resource[\s_-]?exhausted|service unavailable/i;

/** The argv and stdin for one request: a pure function, so presets can be checked without the tools. */
export function buildInvocation(opts: Omit<CommandProviderOptions, 'name'>, req: Pick<AgentRequest, 'prompt' | 'model' | 'instructions'>): Invocation {
  if (opts.command.length === 0) throw new ProviderError('command provider: `command` is empty', false);
  const byFlag = typeof opts.instructionsVia === 'object' ? opts.instructionsVia.flag : undefined;
  const prompt = req.instructions && !byFlag ? `${req.instructions}\n\n${req.prompt}` : req.prompt;
  const viaArg = opts.promptVia === 'arg';
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
    if (viaArg && t.includes('{prompt}')) {
      t = t.split('{prompt}').join(prompt);
      placedPrompt = true;
    }
    out.push(t);
  }
  if (model && opts.modelArgs) out.push(...opts.modelArgs(model));
  if (opts.args) out.push(...opts.args);
  if (byFlag && req.instructions) out.push(byFlag, req.instructions);
  if (viaArg && !placedPrompt) out.push(prompt);
  const [file, ...args] = out;
  return { file, args, stdin: viaArg ? '' : prompt };
}

/** Keeps the last `max` bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0].length >= this.max) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

export function isRetryableFailure(stderr: string): boolean {
  return RETRYABLE_STDERR.test(stderr);
}

function lastLines(s: string, maxChars = 2000): string {
  const t = s.trim();
  return t.length <= maxChars ? t : '…' + t.slice(t.length - maxChars);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function errorStatus(stderr: string): number | undefined {
  const m = /\b(429|529|503)\b/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

export function createCommandProvider(opts: CommandProviderOptions): Provider {
  const { name } = opts;
  return {
    name,
    run(req: AgentRequest, onChunk: (c: AgentChunk) => void): Promise<AgentResult> {
      return new Promise<AgentResult>((resolve, reject) => {
        const cancelled = () => new ProviderError(`provider '${name}': run cancelled`, false);
        if (req.signal.aborted) return reject(cancelled());
        let inv: Invocation;
        try {
          inv = buildInvocation(opts, req);
        } catch (e) {
          return reject(e instanceof Error ? e : new Error(String(e)));
        }
        const env: NodeJS.ProcessEnv = { ...process.env, ...req.env };
        for (const [k, v] of Object.entries(opts.env ?? {})) {
          if (v === undefined) delete env[k];
          else env[k] = v;
        }
        const groupKill = process.platform !== 'win32';
        const child = spawn(inv.file, inv.args, { cwd: opts.cwd, env, detached: groupKill, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
        if (child.pid !== undefined && groupKill) {
          try {
            req.onSpawn?.(child.pid);
          } catch {
            // a record that cannot be written does not stop the agent
          }
        }

        const decoder = new StringDecoder('utf8');
        const stderr = new Tail(STDERR_TAIL_BYTES);
        let text = '';
        let settled = false;
        let killReason: 'abort' | 'timeout' | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        let timeout: NodeJS.Timeout | undefined;

        const emit = (s: string) => {
          if (!s) return;
          text += s;
          try {
            onChunk({ text: s });
          } catch {
            // A throwing listener must not break the run.
          }
        };
        const signalGroup = (sig: NodeJS.Signals) => {
          if (child.pid === undefined) return;
          try {
            if (groupKill) process.kill(-child.pid, sig);
            else child.kill(sig);
          } catch {
            // Already gone.
          }
        };
        const killTree = (reason: 'abort' | 'timeout') => {
          if (killReason) return;
          killReason = reason;
          signalGroup('SIGTERM');
          killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
          killTimer.unref();
        };
        const onAbort = () => killTree('abort');
        const finish = (err: Error | undefined, result?: AgentResult) => {
          if (settled) return;
          settled = true;
          req.signal.removeEventListener('abort', onAbort);
          if (timeout) clearTimeout(timeout);
          if (err) reject(err);
          else resolve(result!);
        };

        req.signal.addEventListener('abort', onAbort, { once: true });
        if (opts.timeoutMs && opts.timeoutMs > 0) {
          timeout = setTimeout(() => killTree('timeout'), opts.timeoutMs);
          timeout.unref();
        }

        child.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') {
            const hasDir = inv.file.includes('/') || inv.file.includes('\\');
            const where = !hasDir ? ' on PATH' : isAbsolute(inv.file) ? '' : ` (relative to ${opts.cwd ?? process.cwd()})`;
            finish(new ProviderError(`${inv.file} not found${where}: install it or configure provider '${name}' in .orchestrator/config.yaml`, false));
          } else if (e.code === 'EACCES') {
            finish(new ProviderError(`${inv.file} is not executable (provider '${name}'): check its permissions or configure provider '${name}' in .orchestrator/config.yaml`, false));
          } else {
            finish(new ProviderError(`provider '${name}': could not run ${inv.file}: ${e.message}`, false));
          }
          if (killTimer) clearTimeout(killTimer);
        });
        child.stdout.on('data', (b: Buffer) => emit(decoder.write(b)));
        child.stderr.on('data', (b: Buffer) => stderr.push(b));
        // The program may exit without reading its stdin (EPIPE): that is its business, not an error.
        child.stdin.on('error', () => undefined);
        child.stdin.end(inv.stdin);

        child.on('close', (code, signal) => {
          if (killTimer) clearTimeout(killTimer);
          emit(decoder.end());
          if (killReason === 'abort') return finish(cancelled());
          if (killReason === 'timeout') {
            return finish(new ProviderError(`provider '${name}': ${inv.file} did not finish within ${formatMs(opts.timeoutMs!)} and was killed`, true));
          }
          const err = stderr.text();
          const model = req.model ?? opts.defaultModel;
          if (code === 0) return finish(undefined, { text, ...(model ? { model } : {}) });
          const tail = lastLines(err);
          const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
          finish(new ProviderError(`provider '${name}': ${inv.file} ${how}${tail ? `: ${tail}` : ' (no stderr output)'}`, isRetryableFailure(err), errorStatus(err)));
        });
      });
    },
  };
}
