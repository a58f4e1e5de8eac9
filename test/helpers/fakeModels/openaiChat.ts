/**
 * OpenAI chat completions (opencode through @ai-sdk/openai-compatible): `POST …/chat/completions`
 * streamed as `data:` chunks, a finish chunk, a final usage chunk (choices: []) and `[DONE]`.
 */
import { sse, type StreamPlan, type WireStream } from './types';

const created = 1_767_225_600;

export function chatStream(p: StreamPlan): WireStream {
  const chunk = (delta: object, finish: string | null) => ({ id: p.id, object: 'chat.completion.chunk', created, model: p.model, choices: [{ index: 0, delta, finish_reason: finish }] });
  return {
    prologue: sse(chunk({ role: 'assistant', content: '' }, null)),
    deltas: p.chunks.map((content) => sse(chunk({ content }, null))),
    epilogue:
      sse(chunk({}, 'stop')) +
      sse({ id: p.id, object: 'chat.completion.chunk', created, model: p.model, choices: [], usage: chatUsage(p) }) +
      sse('[DONE]'),
  };
}

function chatUsage(p: StreamPlan) {
  return { prompt_tokens: p.usage.input, completion_tokens: p.usage.output, total_tokens: p.usage.input + p.usage.output, prompt_tokens_details: { cached_tokens: p.usage.cached ?? 0 } };
}

export function chatJson(p: StreamPlan): unknown {
  return { id: p.id, object: 'chat.completion', created, model: p.model, choices: [{ index: 0, message: { role: 'assistant', content: p.chunks.join('') }, finish_reason: 'stop' }], usage: chatUsage(p) };
}

const ERROR_TYPES: Record<number, [string, string]> = { 401: ['invalid_request_error', 'invalid_api_key'], 429: ['rate_limit_exceeded', 'rate_limit_exceeded'], 500: ['server_error', 'server_error'] };

/** The OpenAI error body (chat completions and responses alike). */
export function openaiError(status: number, message: string): unknown {
  const [type, code] = ERROR_TYPES[status] ?? ['server_error', String(status)];
  return { error: { message, type, param: null, code } };
}

export const openaiModels = (model: string): unknown => ({ object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'fake' }] });
