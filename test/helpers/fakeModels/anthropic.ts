/**
 * Anthropic Messages API (claude-code): `POST /v1/messages[?beta=true]` streamed as SSE
 * (message_start, content_block_start, ping, content_block_delta…, content_block_stop,
 * message_delta with usage, message_stop), the non-streaming fallback, count_tokens and errors.
 */
import { sse, type StreamPlan, type WireStream } from './types';

export function anthropicStream(p: StreamPlan): WireStream {
  const prologue =
    sse({ type: 'message_start', message: { id: p.id, type: 'message', role: 'assistant', model: p.model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: p.usage.input, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: p.usage.cached ?? 0 } } }, 'message_start') +
    sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start') +
    sse({ type: 'ping' }, 'ping');
  const deltas = p.chunks.map((text) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, 'content_block_delta'));
  const epilogue =
    sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
    sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: p.usage.output } }, 'message_delta') +
    sse({ type: 'message_stop' }, 'message_stop');
  return { prologue, deltas, epilogue };
}

/** The whole message, for a request with `stream` false (claude's non-streaming fallback). */
export function anthropicJson(p: StreamPlan): unknown {
  return { id: p.id, type: 'message', role: 'assistant', model: p.model, content: [{ type: 'text', text: p.chunks.join('') }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: p.usage.input, output_tokens: p.usage.output, cache_creation_input_tokens: 0, cache_read_input_tokens: p.usage.cached ?? 0 } };
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' };

export function anthropicError(status: number, message: string): unknown {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } };
}

export const anthropicModels = (model: string): unknown => ({ data: [{ type: 'model', id: model, display_name: model, created_at: '2026-01-01T00:00:00Z' }], has_more: false, first_id: model, last_id: model });
