/**
 * OpenAI-compatible chat completions, streamed: OpenAI, Ollama (`http://localhost:11434/v1`),
 * vLLM, LM Studio, OpenRouter, ...
 *
 * POST `${baseUrl}/chat/completions` with `stream: true` and `stream_options.include_usage`; the
 * answer is `data: {json}` events whose `choices[0].delta.content` is the next piece of text, then
 * a chunk carrying `usage` (prompt_tokens, completion_tokens), then `data: [DONE]`. The answer is
 * complete at `[DONE]` (or, for servers that omit it, once a choice has a `finish_reason`); a
 * stream that ends before is a retryable error. `data: {"error": ...}` mid-stream (OpenRouter,
 * vLLM) is a ProviderError. A server that ignores `stream` and answers with JSON is accepted too.
 */
import { endedEarly, isObject, joinUrl, malformed, num, parseJSON, serverMessage, streamRequest, type StreamBody } from './http';
import { DEFAULT_TIMEOUT_MS, ProviderError, type AgentChunk, type AgentRequest, type AgentResult, type AgentUsage, type Provider, type ProviderConfig } from './provider';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const RESERVED = new Set(['model', 'messages', 'stream']);

export function createOpenAIProvider(config: ProviderConfig): Provider {
  const label = `openai provider '${config.name}'`;
  const baseUrl = config.baseUrl || OPENAI_DEFAULT_BASE_URL;
  const keySecret = config.apiKeySecret ?? 'OPENAI_API_KEY';
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return {
    name: config.name,
    async run(req: AgentRequest, onChunk: (c: AgentChunk) => void): Promise<AgentResult> {
      const url = joinUrl(label, baseUrl, 'chat/completions');
      const model = req.model || config.defaultModel;
      if (!model) throw new ProviderError(`${label}: no model: set model: on the step or its agent, or model: under providers.${config.name} in .orchestrator/config.yaml`, false);

      const messages: { role: string; content: string }[] = [];
      if (req.instructions) messages.push({ role: 'system', content: req.instructions });
      messages.push({ role: 'user', content: req.prompt });
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(req.options ?? {})) if (!RESERVED.has(k)) body[k] = v;
      Object.assign(body, { model, messages, stream: true });
      const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
      body.stream_options = { ...streamOptions, include_usage: true };

      const headers: Record<string, string> = {};
      if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;

      return streamRequest(
        { label, url, headers, body, signal: req.signal, timeoutMs, keySecret, hasKey: !!config.apiKey, model },
        (answer) => readAnswer(label, url, answer, onChunk, req.onUsage),
      );
    },
  };
}

async function readAnswer(label: string, url: string, answer: StreamBody, onChunk: (c: AgentChunk) => void, onUsage?: AgentRequest['onUsage']): Promise<AgentResult> {
  if (answer.kind === 'json') return fromCompletion(label, url, answer.value, onChunk);

  let text = '';
  let usage: AgentUsage | undefined;
  let model: string | undefined;
  let finished = false;
  for await (const ev of answer.events) {
    const data = ev.data.trim();
    if (data === '[DONE]') return result(text, usage, model);
    const chunk = parseJSON(data);
    if (!isObject(chunk)) throw malformed(label, url, ev.data);
    if (chunk.error !== undefined) throw streamError(label, url, chunk);
    if (typeof chunk.model === 'string' && chunk.model) model = chunk.model;
    if (isObject(chunk.usage)) {
      usage = usageOf(chunk.usage);
      onUsage?.({ ...usage, turns: 1, ...(model ? { model } : {}) });
    }
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
    const choice = choices.find((c) => isObject(c) && (c.index === undefined || c.index === 0)) ?? choices[0];
    if (!isObject(choice)) continue;
    const delta = isObject(choice.delta) ? choice.delta : undefined;
    const piece = delta?.content;
    if (typeof piece === 'string' && piece.length > 0) {
      text += piece;
      onChunk({ text: piece });
    }
    if (typeof choice.finish_reason === 'string' && choice.finish_reason) finished = true;
  }
  // No [DONE]: complete only if a choice said why it stopped (some servers omit [DONE]).
  if (finished) return result(text, usage, model);
  throw endedEarly(label, url);
}

/** A non-streamed answer: `{choices: [{message: {content}}], usage, model}`. */
function fromCompletion(label: string, url: string, value: unknown, onChunk: (c: AgentChunk) => void): AgentResult {
  if (!isObject(value)) throw malformed(label, url, JSON.stringify(value));
  if (value.error !== undefined) throw streamError(label, url, value);
  const choice = Array.isArray(value.choices) ? (value.choices as unknown[])[0] : undefined;
  const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
  if (!message || (typeof message.content !== 'string' && message.content !== null)) {
    throw new ProviderError(`${label}: the answer from ${url} has no choices[0].message.content: is the base_url an OpenAI-compatible server?`, false);
  }
  const text = typeof message.content === 'string' ? message.content : '';
  if (text) onChunk({ text });
  return result(text, isObject(value.usage) ? usageOf(value.usage) : undefined, typeof value.model === 'string' ? value.model : undefined);
}

function streamError(label: string, url: string, chunk: Record<string, unknown>): ProviderError {
  const err = chunk.error;
  const code = isObject(err) ? (err.code ?? err.type) : undefined;
  const status = typeof code === 'number' ? code : typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : undefined;
  const kind = isObject(err) && typeof err.type === 'string' ? err.type : '';
  const retryable = status === 429 || (status !== undefined && status >= 500) || /rate_limit|server_error|overloaded|timeout/i.test(`${kind} ${String(code)}`);
  const msg = serverMessage(chunk) ?? 'unknown error';
  return new ProviderError(`${label}: the server reported an error mid-stream from ${url}: ${msg}${retryable ? ': retry later' : ''}`, retryable, status);
}

function usageOf(u: Record<string, unknown>): AgentUsage {
  const usage: AgentUsage = {};
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  const cached = num((isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {}).cached_tokens);
  if (cached !== undefined) Object.assign(usage, { cacheReadTokens: cached, cacheReadInInput: true });
  return usage;
}

function result(text: string, usage: AgentUsage | undefined, model: string | undefined): AgentResult {
  const r: AgentResult = { text };
  if (usage) r.usage = usage;
  if (model) r.model = model;
  return r;
}
