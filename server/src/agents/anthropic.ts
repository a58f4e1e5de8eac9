/**
 * Anthropic Messages API, streamed.
 *
 * POST `${baseUrl}/v1/messages` (headers `x-api-key`, `anthropic-version: 2023-06-01`) with
 * `stream: true`. Events: `message_start` (message.model, message.usage.input_tokens),
 * `content_block_start`/`_delta`/`_stop` (text from `delta.type === 'text_delta'`; other deltas,
 * e.g. thinking or tool input, are skipped), `message_delta` (usage.output_tokens, cumulative),
 * `message_stop` (the answer is complete), `ping`, and `error` (overloaded_error, api_error and
 * rate_limit_error are retryable). A stream that ends before `message_stop` is a retryable error.
 */
import { endedEarly, isObject, joinUrl, malformed, num, parseJSON, streamRequest, type StreamBody } from './http';
import { DEFAULT_TIMEOUT_MS, ProviderError, type AgentChunk, type AgentRequest, type AgentResult, type AgentUsage, type Provider, type ProviderConfig } from './provider';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;
const RESERVED = new Set(['model', 'messages', 'stream', 'system']);
const RETRYABLE_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

export function createAnthropicProvider(config: ProviderConfig): Provider {
  const label = `anthropic provider '${config.name}'`;
  const baseUrl = config.baseUrl || ANTHROPIC_DEFAULT_BASE_URL;
  const keySecret = config.apiKeySecret ?? 'ANTHROPIC_API_KEY';
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return {
    name: config.name,
    async run(req: AgentRequest, onChunk: (c: AgentChunk) => void): Promise<AgentResult> {
      const url = joinUrl(label, baseUrl, 'v1/messages');
      const model = req.model || config.defaultModel;
      if (!model) throw new ProviderError(`${label}: no model: set model: on the step or its agent, or model: under providers.${config.name} in .orchestrator/config.yaml`, false);

      const body: Record<string, unknown> = { max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS };
      for (const [k, v] of Object.entries(req.options ?? {})) if (!RESERVED.has(k)) body[k] = v;
      body.model = model;
      if (req.instructions) body.system = req.instructions;
      body.messages = [{ role: 'user', content: req.prompt }];
      body.stream = true;

      const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
      if (config.apiKey) headers['x-api-key'] = config.apiKey;

      return streamRequest(
        { label, url, headers, body, signal: req.signal, timeoutMs, keySecret, hasKey: !!config.apiKey, model },
        (answer) => readAnswer(label, url, answer, onChunk, req.onUsage),
      );
    },
  };
}

async function readAnswer(label: string, url: string, answer: StreamBody, onChunk: (c: AgentChunk) => void, onUsage?: AgentRequest['onUsage']): Promise<AgentResult> {
  if (answer.kind === 'json') return fromMessage(label, url, answer.value, onChunk);

  let text = '';
  const usage: AgentUsage = {};
  let model: string | undefined;
  for await (const ev of answer.events) {
    const data = parseJSON(ev.data);
    if (!isObject(data)) throw malformed(label, url, ev.data);
    const type = typeof data.type === 'string' ? data.type : ev.event;
    switch (type) {
      case 'message_start': {
        const msg = isObject(data.message) ? data.message : {};
        if (typeof msg.model === 'string') model = msg.model;
        if (isObject(msg.usage)) addUsage(usage, msg.usage);
        onUsage?.({ ...usage, turns: 1, ...(model ? { model } : {}) });
        break;
      }
      case 'content_block_delta': {
        const delta = isObject(data.delta) ? data.delta : {};
        if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) {
          text += delta.text;
          onChunk({ text: delta.text });
        }
        break;
      }
      case 'message_delta':
        if (isObject(data.usage)) addUsage(usage, data.usage);
        onUsage?.({ ...usage, turns: 1, ...(model ? { model } : {}) });
        break;
      case 'message_stop':
        return result(text, usage, model);
      case 'error':
        throw errorEvent(label, url, data);
      default:
        break; // ping, content_block_start/stop, and event types added later
    }
  }
  throw endedEarly(label, url);
}

/** A non-streamed answer: `{content: [{type: 'text', text}], usage, model}`. */
function fromMessage(label: string, url: string, value: unknown, onChunk: (c: AgentChunk) => void): AgentResult {
  if (!isObject(value)) throw malformed(label, url, JSON.stringify(value));
  if (value.type === 'error') throw errorEvent(label, url, value);
  if (!Array.isArray(value.content)) {
    throw new ProviderError(`${label}: the answer from ${url} has no content: is the base_url an Anthropic API server?`, false);
  }
  const text = (value.content as unknown[]).map((b) => (isObject(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
  if (text) onChunk({ text });
  const usage: AgentUsage = {};
  if (isObject(value.usage)) addUsage(usage, value.usage);
  return result(text, usage, typeof value.model === 'string' ? value.model : undefined);
}

function errorEvent(label: string, url: string, data: Record<string, unknown>): ProviderError {
  const err = isObject(data.error) ? data.error : {};
  const type = typeof err.type === 'string' ? err.type : 'unknown_error';
  const message = typeof err.message === 'string' ? err.message : '';
  const retryable = RETRYABLE_ERRORS.has(type);
  const status = type === 'overloaded_error' ? 529 : type === 'rate_limit_error' ? 429 : undefined;
  const advice = type === 'overloaded_error' ? 'the API is overloaded; retry later' : retryable ? 'retry later' : 'check the request';
  return new ProviderError(`${label}: ${type} from ${url}${message ? ` (${message})` : ''}: ${advice}`, retryable, status);
}

function addUsage(usage: AgentUsage, u: Record<string, unknown>): void {
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  // input_tokens comes with message_start; output_tokens in message_delta is the running total.
  if (input !== undefined && (input > 0 || usage.inputTokens === undefined)) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
}

function result(text: string, usage: AgentUsage, model: string | undefined): AgentResult {
  const r: AgentResult = { text };
  if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) r.usage = usage;
  if (model) r.model = model;
  return r;
}
