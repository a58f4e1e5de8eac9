/**
 * The interface every AI-agent provider implements (OpenAI-compatible servers, Anthropic, ...).
 *
 * A provider streams the answer: `onChunk` is called with each piece of text as it arrives, and
 * `run` resolves with the whole answer once the server says it is complete. Every failure is a
 * ProviderError whose message says what to do and whose `retryable` says whether trying again
 * (later) can help: rate limits, server errors, refused or dropped connections and streams that
 * end early are retryable; a bad key, a bad request or a cancelled run are not.
 */

export interface AgentRequest {
  prompt: string;
  /** Overrides the provider's default model. */
  model?: string;
  /** System prompt. */
  instructions?: string;
  /** Extra request-body fields (e.g. temperature, max_tokens); never model, messages or stream. */
  options?: Record<string, unknown>;
  /** Aborting it cancels the request, also mid-stream. */
  signal: AbortSignal;
  /**
   * Providers that run a program: its whole environment (the engine gives the session's base
   * environment without secrets, the workflow's and the step's `env`, and the step's mark); the
   * provider adds its own settings (its key) on top. Without it: this process's environment minus
   * every secret and every known provider key.
   */
  env?: Record<string, string>;
  /** Providers that run a program: the folder it runs in (the step's working directory). */
  cwd?: string;
  /** Providers that run a program: called with its pid (it leads its process group) right after it started. */
  onSpawn?: (pid: number) => void;
  /**
   * Called as spend becomes known during the call (budgets: engine/steps/budget.ts), each time
   * with the call's running totals so far: the HTTP APIs' usage events, the CLI parsers' usage,
   * turns and tool calls as their lines arrive. A provider that learns nothing mid-call never calls it.
   */
  onUsage?: (u: AgentProgress) => void;
}

/** A call's running totals so far (each field only once the provider knows it). */
export interface AgentProgress extends AgentUsage {
  turns?: number;
  toolCalls?: number;
  /** The model answering, once the provider says. */
  model?: string;
}

export interface AgentUsage {
  inputTokens?: number;
  outputTokens?: number;
  /** Tokens read from the model's prompt cache, where the tool reports them. */
  cacheReadTokens?: number;
  /** What the call cost in US dollars, where the tool reports it. */
  costUsd?: number;
  /** The tool counts cache reads inside `inputTokens` (codex, gemini, OpenAI), not beside them (Anthropic). */
  cacheReadInInput?: boolean;
}

export interface AgentChunk {
  text: string;
  /** A line about the run that is not part of the answer (a tool call, a warning): for the log only. */
  note?: boolean;
}

export interface AgentResult {
  text: string;
  usage?: AgentUsage;
  /** The model the server says answered (may differ from the one asked for, e.g. a dated alias). */
  model?: string;
  /** Agentic CLIs: model turns and tool calls they made. */
  turns?: number;
  toolCalls?: number;
}

export interface Provider {
  readonly name: string;
  /** Streams text chunks as they arrive; resolves with the whole answer and usage. */
  run(req: AgentRequest, onChunk: (c: AgentChunk) => void): Promise<AgentResult>;
}

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Settings shared by the provider factories. */
export interface ProviderConfig {
  /** The provider's name in the workflow (appears in every error message). */
  name: string;
  baseUrl?: string;
  apiKey?: string;
  /** Name of the secret the key comes from, for error messages (default e.g. OPENAI_API_KEY). */
  apiKeySecret?: string;
  defaultModel?: string;
  /**
   * Idle timeout in ms: the longest wait for the response headers or between two pieces of the
   * stream (not a limit on the whole answer, so long answers streamed steadily are fine).
   * Default 120000.
   */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
