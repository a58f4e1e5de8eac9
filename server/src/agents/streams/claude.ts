/**
 * claude-code `-p --output-format stream-json --verbose [--include-partial-messages]`.
 *
 * Shapes (the Agent SDK's `SDKMessage` types, `@anthropic-ai/claude-agent-sdk` sdk.d.ts, and
 * https://code.claude.com/docs/en/headless + /agent-sdk/streaming-output; one JSON object a line):
 * - `{type:"system", subtype:"init", model, claude_code_version, tools, ...}` first.
 * - `{type:"system", subtype:"api_retry", attempt, max_retries, retry_delay_ms, error_status, error}`
 *   before each retry of a failed API call (`error` is a category: rate_limit, server_error, ...).
 * - `{type:"stream_event", event, parent_tool_use_id}` only with --include-partial-messages: the
 *   raw Anthropic stream events (`message_start` with message.id/model, `content_block_delta` with
 *   `text_delta`, `message_stop`).
 * - `{type:"assistant", message:{id, model, content[text|thinking|tool_use], usage}, error?,
 *   parent_tool_use_id}`: whole messages (also sent with partial messages on, so text already
 *   streamed is not given twice; one API message may come as several lines with one id). A failed
 *   API call comes as a synthetic assistant message (model `<synthetic>`) whose text is
 *   `API Error: 429 {...}`, whose `error` names the category and which may carry
 *   `is_api_error_message: true` (both seen in the shipped 2.1.332 binary's SDK serializer).
 * - `{type:"user", message:{content:[tool_result...]}}`: tool results.
 * - `{type:"result", subtype:"success"|"error_…", is_error, result, num_turns, total_cost_usd,
 *   usage:{input_tokens, output_tokens, cache_read_input_tokens, ...}, modelUsage, errors?}` last;
 *   an API failure ends with subtype "success", is_error true and (2.1.332) `api_error_status`, the
 *   HTTP status, also on the synthetic assistant message.
 * Messages of a subagent (non-null parent_tool_use_id) are notes, not the answer.
 */
import { brief, cutStream, errorFrom, isObject, num, obj, Run, safely, str, type Json, type StreamError } from './common';
import type { StreamParser, StreamSink } from './types';

/** The SDK's `SDKAssistantMessageError` categories, and whether each is worth a retry. */
const CATEGORY_RETRYABLE: Record<string, boolean> = {
  authentication_failed: false,
  billing_error: false,
  invalid_request: false,
  max_output_tokens: false,
  rate_limit: true,
  server_error: true,
  overloaded: true,
};

export function createClaudeParser(sink: StreamSink): StreamParser {
  const run = new Run(sink);
  /** Ids of API messages whose text came as deltas (their whole `assistant` lines add no text). */
  const streamedIds = new Set<string>();
  const toolIds = new Set<string>();
  const messageIds = new Set<string>();
  const usageById = new Map<string, Json>();
  let streamId: string | undefined; // the message being streamed
  let streamStart = false; // the next delta starts a new message
  let anonymousDeltas = false; // deltas seen for a message without an id
  let lastAssistantId: string | undefined;
  let apiError: StreamError | undefined; // from a synthetic API-error message
  let retryStatus: number | undefined;
  let gotResult = false;
  // Budgets: each API message's usage as it streams (message_start, message_delta, whole messages; subagents' too).
  const live = new Map<string, { input?: number; output?: number; cache?: number }>();
  let liveId: string | undefined;
  const liveUsage = (id: string | undefined, u: unknown): void => {
    if (!id) return;
    const cur = live.get(id) ?? {};
    const x = obj(u);
    const input = num(x.input_tokens);
    const output = num(x.output_tokens);
    const cache = num(x.cache_read_input_tokens);
    if (input !== undefined && (input > 0 || cur.input === undefined)) cur.input = input;
    if (output !== undefined) cur.output = Math.max(cur.output ?? 0, output);
    if (cache !== undefined) cur.cache = cache;
    live.set(id, cur);
    const sum = (k: 'input' | 'output' | 'cache'): number => [...live.values()].reduce((n, v) => n + (v[k] ?? 0), 0);
    run.progress({ inputTokens: sum('input'), outputTokens: sum('output'), cacheReadTokens: sum('cache') }, live.size);
  };

  const setModel = (m: unknown): void => {
    const s = str(m);
    if (s && !s.startsWith('<')) run.model = s; // `<synthetic>` marks claude's own messages
  };

  function streamEvent(ev: Json): void {
    const e = obj(ev.event);
    if (e.type === 'message_start') liveUsage((liveId = str(obj(e.message).id)), obj(e.message).usage);
    else if (e.type === 'message_delta') liveUsage(liveId, e.usage);
    if (ev.parent_tool_use_id) return; // a subagent's stream: its whole messages are noted instead
    if (e.type === 'message_start') {
      const m = obj(e.message);
      streamId = str(m.id);
      setModel(m.model);
      streamStart = true;
    } else if (e.type === 'content_block_delta') {
      const d = obj(e.delta);
      const text = d.type === 'text_delta' ? str(d.text) : undefined;
      if (!text) return;
      run.delta(text, streamStart);
      streamStart = false;
      if (streamId) streamedIds.add(streamId);
      else anonymousDeltas = true;
    } else if (e.type === 'message_stop') {
      run.endMessage();
    }
  }

  function assistant(ev: Json): void {
    const m = obj(ev.message);
    const id = str(m.id);
    const content = Array.isArray(m.content) ? m.content.filter(isObject) : [];
    const texts = content.filter((b) => b.type === 'text').map((b) => str(b.text) ?? '');
    const category = str(ev.error);
    if (category || ev.is_api_error_message === true || ev.isApiErrorMessage === true) {
      const text = texts.join('\n').trim() || category || 'API error';
      run.note(text);
      const st = num(ev.api_error_status);
      const e = errorFrom(text, st !== undefined ? { status: st } : {});
      if (e.status === undefined && category && CATEGORY_RETRYABLE[category] !== undefined) e.retryable = CATEGORY_RETRYABLE[category];
      apiError = e;
      return;
    }
    const sub = Boolean(ev.parent_tool_use_id);
    if (isObject(m.usage)) liveUsage(id, m.usage);
    if (!sub) {
      setModel(m.model);
      if (id) {
        messageIds.add(id);
        if (isObject(m.usage)) usageById.set(id, m.usage);
      }
    }
    const streamed = id ? streamedIds.has(id) : anonymousDeltas;
    for (const b of content) {
      if (b.type === 'text') {
        const text = str(b.text) ?? '';
        if (sub) run.note(`subagent: ${text}`);
        else if (!streamed) {
          run.delta(text, id === undefined || id !== lastAssistantId);
          lastAssistantId = id;
        }
      } else if (b.type === 'tool_use') {
        const toolId = str(b.id);
        if (toolId && toolIds.has(toolId)) continue;
        if (toolId) toolIds.add(toolId);
        run.tool(str(b.name) ?? 'tool', brief(b.input));
      }
    }
    if (!id) anonymousDeltas = false;
  }

  function user(ev: Json): void {
    const content = obj(ev.message).content;
    if (!Array.isArray(content)) return;
    for (const b of content.filter(isObject)) {
      if (b.type === 'tool_result' && b.is_error === true) {
        const c = b.content;
        const text = typeof c === 'string' ? c : Array.isArray(c) ? c.filter(isObject).map((x) => str(x.text) ?? '').join(' ') : '';
        run.note(`tool error: ${brief(text, 200)}`);
      }
    }
  }

  function system(ev: Json): void {
    if (ev.subtype === 'init') {
      if (!run.model) setModel(ev.model);
      const v = str(ev.claude_code_version);
      run.note(`claude${v ? ` ${v}` : ''}${str(ev.model) ? `, model ${str(ev.model)}` : ''}`);
    } else if (ev.subtype === 'api_retry') {
      const status = num(ev.error_status);
      if (status !== undefined) retryStatus = status;
      const cat = str(ev.error) ?? 'error';
      run.note(`API retry ${num(ev.attempt) ?? '?'}/${num(ev.max_retries) ?? '?'}: ${cat}${status !== undefined ? ` (${status})` : ''}`);
    }
  }

  function result(ev: Json): void {
    gotResult = true;
    const u = obj(ev.usage);
    run.usage.inputTokens = num(u.input_tokens);
    run.usage.outputTokens = num(u.output_tokens);
    run.usage.cacheReadTokens = num(u.cache_read_input_tokens);
    run.usage.costUsd = num(ev.total_cost_usd);
    run.turns = num(ev.num_turns) ?? run.turns;
    if (!run.model && isObject(ev.modelUsage)) {
      // The model that wrote the most (side calls such as titles use a small model).
      const ranked = Object.entries(ev.modelUsage).sort((a, b) => (num(obj(b[1]).outputTokens) ?? 0) - (num(obj(a[1]).outputTokens) ?? 0));
      if (ranked.length > 0) setModel(ranked[0][0]);
    }
    const text = str(ev.result);
    const subtype = str(ev.subtype) ?? '';
    if (ev.is_error === true || subtype.startsWith('error')) {
      const errors = Array.isArray(ev.errors) ? ev.errors.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : [];
      const message = text?.trim() || errors.join('; ') || apiError?.message || subtype || 'claude reported an error';
      const status = num(ev.api_error_status) ?? apiError?.status;
      let e = errorFrom(message, status !== undefined ? { status } : {});
      if (apiError && e.status === undefined) e = { ...apiError, message };
      if (e.status === undefined && retryStatus !== undefined) e = errorFrom(message, { status: retryStatus });
      run.fail(e);
    } else if (text !== undefined) {
      run.result = text;
    }
  }

  const handle = (ev: Json): void => {
    switch (ev.type) {
      case 'stream_event': return streamEvent(ev);
      case 'assistant': return assistant(ev);
      case 'user': return user(ev);
      case 'system': return system(ev);
      case 'result': return result(ev);
      default: return;
    }
  };

  return {
    line: safely(handle, run),
    end() {
      if (!gotResult) {
        const u = [...usageById.values()];
        if (u.length > 0) {
          run.usage.inputTokens = u.reduce((n, x) => n + (num(x.input_tokens) ?? 0), 0);
          run.usage.outputTokens = u.reduce((n, x) => n + (num(x.output_tokens) ?? 0), 0);
        }
        if (messageIds.size > 0) run.turns = messageIds.size;
        run.fail(cutStream('claude', run.error ?? apiError));
      }
      return run.summary();
    },
  };
}
