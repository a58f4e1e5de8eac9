/**
 * The `command` provider: runs any CLI agent installed on the user's machine (claude, codex,
 * gemini, opencode, aider, or a script of the user's own) as a child process.
 *
 * - No shell: the argv is spawned directly, so a prompt can never be interpreted as shell syntax.
 * - It runs in the step's working directory (`req.cwd`) with a clean environment (environment.ts):
 *   no secrets, no other vendor's key; its own key comes in the provider's `env`.
 * - Plain output (`output` unset): stdout streams to `onChunk` as it arrives and is the answer.
 *   Structured output (a preset's stream-json / JSONL mode): each stdout line goes to the tool's
 *   parser (streams/), which streams the assistant's text, counts turns and tool calls and reads
 *   the model, tokens, cost and the tool's own error.
 * - A failure's reason is one clean line with the tool's actual error (reasons.ts): the parser's
 *   error, else stderr's, else stdout's (claude prints API errors on stdout). The whole stderr goes
 *   to the step log as notes.
 * - The child leads its own process group; aborting (or the timeout) kills the whole group, so the
 *   agent's own children (tool calls, language servers, ...) go too.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { agentEnv } from './environment';
import { buildInvocation, PROMPT_FILE, type Invocation, type InvocationOptions } from './invocation';
import type { AgentChunk, AgentRequest, AgentResult, Provider } from './provider';
import { ProviderError } from './provider';
import { cleanReason, retryableFromText, stripAnsi } from './reasons';
import { createStreamParser } from './streams';
import type { StreamFormat, StreamSummary } from './streams/types';

export { buildInvocation, type Invocation } from './invocation';

export interface CommandProviderOptions extends InvocationOptions {
  /** The provider's name in the workflow/config (appears in error messages). */
  name: string;
  /** The tool's structured output mode, read by its parser; unset: stdout is the answer. */
  output?: StreamFormat;
  /** The vendor whose keys the tool may see ('anthropic', 'openai', 'google'); unset: any. */
  vendor?: string;
  /** Extra environment variables over the request's environment (`undefined` removes one). */
  env?: Record<string, string | undefined>;
  /** A folder relative to the request's (the step's) working directory, or absolute. */
  cwd?: string;
  /** Kill the program (and fail, retryably) if it has not finished after this many ms. */
  timeoutMs?: number;
}

/** Bytes of stderr (and of plain stdout) kept for error messages. */
export const STDERR_TAIL_BYTES = 8 * 1024;
/** Grace period between SIGTERM and SIGKILL when killing the process group. */
const KILL_GRACE_MS = 2000;

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

export function isRetryableFailure(text: string): boolean {
  return retryableFromText(text).retryable;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** A private folder for a prompt file (0700; the file 0600), removed when the run ends. */
function writePromptFile(inv: Invocation): { args: string[]; cleanup: () => void } {
  if (inv.promptFile === undefined) return { args: inv.args, cleanup: () => undefined };
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'orchestrator-prompt-'));
  const file = join(dir, 'prompt.md');
  fs.writeFileSync(file, inv.promptFile, { mode: 0o600 });
  return { args: inv.args.map((a) => a.split(PROMPT_FILE).join(file)), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
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
        let promptFile: { args: string[]; cleanup: () => void };
        try {
          inv = buildInvocation(name, opts, req);
          promptFile = writePromptFile(inv);
        } catch (e) {
          return reject(e instanceof ProviderError ? e : new ProviderError(`provider '${name}': ${e instanceof Error ? e.message : String(e)}`, false));
        }
        const env = agentEnv(req.env, opts.env, opts.vendor);
        const cwd = opts.cwd ? (isAbsolute(opts.cwd) || !req.cwd ? opts.cwd : join(req.cwd, opts.cwd)) : req.cwd;
        const groupKill = process.platform !== 'win32';
        let child: ReturnType<typeof spawn>;
        try {
          child = spawn(inv.file, promptFile.args, { cwd, env, detached: groupKill, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
        } catch (e) {
          promptFile.cleanup();
          const code = (e as NodeJS.ErrnoException).code;
          const why = code === 'E2BIG' ? 'its arguments and environment are over the size the system allows (E2BIG): send the prompt on stdin (prompt: stdin) or less context' : e instanceof Error ? e.message : String(e);
          return reject(new ProviderError(`provider '${name}': could not run ${inv.file}: ${why}`, false));
        }
        if (child.pid !== undefined && groupKill) {
          try {
            req.onSpawn?.(child.pid);
          } catch {
            // a record that cannot be written does not stop the agent
          }
        }

        const decoder = new StringDecoder('utf8');
        const stderr = new Tail(STDERR_TAIL_BYTES);
        const stdoutTail = new Tail(STDERR_TAIL_BYTES);
        let text = '';
        let settled = false;
        let killReason: 'abort' | 'timeout' | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        let timeout: NodeJS.Timeout | undefined;

        const send = (c: AgentChunk) => {
          try {
            onChunk(c);
          } catch {
            // A throwing listener must not break the run.
          }
        };
        const parser = opts.output
          ? createStreamParser(opts.output, {
              text: (s) => s && send({ text: s }),
              toolCall: (tool) => send({ text: `[tool] ${tool}\n`, note: true }),
              note: (s) => s && send({ text: s.endsWith('\n') ? s : `${s}\n`, note: true }),
              usage: (u) => req.onUsage?.(u),
            })
          : undefined;
        let pendingLine = '';
        const emit = (s: string, end = false) => {
          if (!parser) {
            if (!s) return;
            text += s;
            send({ text: s });
            return;
          }
          pendingLine += s;
          const lines = pendingLine.split('\n');
          pendingLine = end ? '' : lines.pop()!;
          for (const l of lines) if (l.trim()) parser.line(l.replace(/\r$/, ''));
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
          promptFile.cleanup();
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
            const cwdGone = cwd !== undefined && !fs.existsSync(cwd);
            const hasDir = inv.file.includes('/') || inv.file.includes('\\');
            const where = !hasDir ? ' on PATH' : isAbsolute(inv.file) ? '' : ` (relative to ${cwd ?? process.cwd()})`;
            finish(
              new ProviderError(
                cwdGone ? `provider '${name}': its working directory ${cwd} does not exist` : `${inv.file} not found${where}: install it or configure provider '${name}' in .orchestrator/config.yaml (command:)`,
                false,
              ),
            );
          } else if (e.code === 'EACCES') {
            finish(new ProviderError(`${inv.file} is not executable (provider '${name}'): check its permissions or configure provider '${name}' in .orchestrator/config.yaml`, false));
          } else if (e.code === 'E2BIG') {
            finish(new ProviderError(`provider '${name}': ${inv.file}'s arguments and environment are over the size the system allows (E2BIG): send the prompt on stdin (prompt: stdin) or less context`, false));
          } else {
            finish(new ProviderError(`provider '${name}': could not run ${inv.file}: ${e.message}`, false));
          }
          if (killTimer) clearTimeout(killTimer);
        });
        child.stdout!.on('data', (b: Buffer) => {
          stdoutTail.push(b);
          emit(decoder.write(b));
        });
        child.stderr!.on('data', (b: Buffer) => stderr.push(b));
        // The program may exit without reading its stdin (EPIPE): that is its business, not an error.
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(inv.stdin);

        child.on('close', (code, signal) => {
          if (killTimer) clearTimeout(killTimer);
          emit(decoder.end(), true);
          const summary: StreamSummary | undefined = parser?.end();
          const err = stderr.text();
          // The whole stderr goes to the log (the reason is one line of it).
          if (err.trim()) send({ text: `[stderr]\n${stripAnsi(err).replace(/\s+$/, '')}\n`, note: true });
          if (killReason === 'abort') return finish(cancelled());
          if (killReason === 'timeout') {
            return finish(new ProviderError(`provider '${name}': ${inv.file} did not finish within ${formatMs(opts.timeoutMs!)} and was killed`, true));
          }
          const model = summary?.model ?? req.model ?? opts.defaultModel;
          const answer = summary ? summary.text : text;
          if (code === 0 && !summary?.error) {
            return finish(undefined, {
              text: answer,
              ...(model ? { model } : {}),
              ...(summary?.usage ? { usage: summary.usage } : {}),
              ...(summary?.turns !== undefined ? { turns: summary.turns } : {}),
              ...(summary ? { toolCalls: summary.toolCalls } : {}),
            });
          }
          const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
          const program = basename(inv.file);
          // The tool's own error: from its structured output, else stderr, else plain stdout. An
          // output that just stopped says less than what the tool printed on stderr as it died
          // (gemini's untrusted folder, codex's git check).
          const fromStderr = cleanReason(err, { prompt: req.prompt });
          const streamError = summary?.error?.cut && fromStderr ? undefined : summary?.error;
          const said = streamError?.message ?? (fromStderr || (parser ? '' : cleanReason(stdoutTail.text(), { prompt: req.prompt })));
          const judged = streamError ?? retryableFromText(parser ? err : `${err}\n${stdoutTail.text()}`);
          const reason = `provider '${name}': ${said ? said : `${program} ${how} (it printed no error)`}`;
          finish(new ProviderError(said && code !== 0 ? `${reason} (${program} ${how})` : reason, judged.retryable, judged.status));
        });
      });
    },
  };
}
