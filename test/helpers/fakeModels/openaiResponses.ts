/**
 * OpenAI Responses API (codex): `POST …/responses` streamed as typed events. codex reads the JSON
 * `type` of each `data:` line; `response.completed` must carry `response.id`, and codex takes the
 * turn as done only when the HTTP stream ends after it.
 */
import { sse, type StreamPlan, type WireStream } from './types';

export function responsesStream(p: StreamPlan): WireStream {
  const msgId = `msg_${p.id}`;
  const text = p.chunks.join('');
  const base = { id: p.id, object: 'response', created_at: 1_767_225_600, model: p.model };
  let seq = 0;
  const ev = (type: string, data: object) => sse({ type, sequence_number: seq++, ...data }, type);
  const prologue =
    ev('response.created', { response: { ...base, status: 'in_progress', output: [] } }) +
    ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } }) +
    ev('response.output_item.added', { output_index: 0, item: { type: 'message', id: msgId, status: 'in_progress', role: 'assistant', content: [] } }) +
    ev('response.content_part.added', { item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
  const deltas = p.chunks.map((delta) => ev('response.output_text.delta', { item_id: msgId, output_index: 0, content_index: 0, delta }));
  const item = { type: 'message', id: msgId, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
  const usage = { input_tokens: p.usage.input, input_tokens_details: { cached_tokens: p.usage.cached ?? 0 }, output_tokens: p.usage.output,
    output_tokens_details: { reasoning_tokens: 0 }, total_tokens: p.usage.input + p.usage.output };
  const epilogue =
    ev('response.output_text.done', { item_id: msgId, output_index: 0, content_index: 0, text }) +
    ev('response.content_part.done', { item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } }) +
    ev('response.output_item.done', { output_index: 0, item }) +
    ev('response.completed', { response: { ...base, status: 'completed', output: [item], usage } });
  return { prologue, deltas, epilogue };
}
