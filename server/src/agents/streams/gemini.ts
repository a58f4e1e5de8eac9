/**
 * gemini-cli `--output-format stream-json`: JSON lines on stdout, each with `type` and `timestamp`.
 *
 * Shapes (google-gemini/gemini-cli `packages/core/src/output/types.ts`,
 * `stream-json-formatter.ts`, `packages/cli/src/nonInteractiveCli.ts`, docs/cli/headless.md):
 * - `init {session_id, model}`.
 * - `message {role:"user"|"assistant", content, delta?:true}`: the prompt is echoed once as a user
 *   message; assistant text comes as `delta:true` chunks.
 * - `tool_use {tool_name, tool_id, parameters}`, `tool_result {tool_id, status, output?, error?}`.
 * - `error {severity:"warning"|"error", message}`: non-fatal (loop detected, invalid stream, ...).
 * - `result {status:"success"|"error", error?:{type, message}, stats?:{total_tokens, input_tokens,
 *   output_tokens, cached, input, duration_ms, tool_calls, models?}}` last; a fatal error (an API
 *   error after gemini's own retries) is a `result` with status "error" and then the process exits.
 * No cost anywhere. `input_tokens` is the prompt count, cache hits included (`cached`).
 */
import { brief, cutStream, errorFrom, num, obj, Run, safely, str, type Json, type StreamError } from './common';
import type { StreamParser, StreamSink } from './types';

export function createGeminiParser(sink: StreamSink): StreamParser {
  const run = new Run(sink);
  const toolIds = new Set<string>();
  const toolNames = new Map<string, string>();
  let gotResult = false;
  let lastError: StreamError | undefined;
  let newMessage = true; // the next assistant delta starts a new message (after a tool call)
  // A model response (turn) starts with its first text or tool call after the prompt or after tool results.
  let turns = 0;
  let inTurn = false;
  const responded = (): void => {
    if (!inTurn) {
      turns++;
      run.turns = turns;
      run.progress();
    }
    inTurn = true;
  };

  function message(ev: Json): void {
    if (ev.role !== 'assistant') return;
    const text = str(ev.content) ?? '';
    if (text) responded();
    if (ev.delta === true) {
      run.delta(text, newMessage);
      if (text) newMessage = false;
    } else {
      run.message(text);
      newMessage = true;
    }
  }

  function result(ev: Json): void {
    gotResult = true;
    const stats = obj(ev.stats);
    run.usage.inputTokens = num(stats.input_tokens);
    run.usage.outputTokens = num(stats.output_tokens);
    run.usage.cacheReadTokens = num(stats.cached);
    if (run.usage.cacheReadTokens !== undefined) run.usage.cacheReadInInput = true;
    const models = obj(stats.models);
    const ranked = Object.entries(models).sort((a, b) => (num(obj(b[1]).output_tokens) ?? 0) - (num(obj(a[1]).output_tokens) ?? 0));
    if (ranked.length > 0 && (!run.model || !(run.model in models))) run.model = ranked[0][0];
    if (turns > 0) run.turns = turns;
    if (ev.status === 'error' || ev.error !== undefined) {
      const err = obj(ev.error);
      const message = str(err.message) ?? lastError?.message ?? 'gemini reported an error';
      const code = num(err.code);
      run.fail(errorFrom(message, code !== undefined && code >= 400 && code <= 599 ? { status: code } : {}));
    }
  }

  const handle = (ev: Json): void => {
    switch (ev.type) {
      case 'init':
        run.model = str(ev.model) ?? run.model;
        if (run.model) run.note(`gemini, model ${run.model}`);
        return;
      case 'message': return message(ev);
      case 'tool_use': {
        newMessage = true;
        responded();
        const id = str(ev.tool_id);
        if (id && toolIds.has(id)) return;
        const name = str(ev.tool_name) ?? 'tool';
        if (id) {
          toolIds.add(id);
          toolNames.set(id, name);
        }
        run.tool(name, brief(ev.parameters));
        return;
      }
      case 'tool_result': {
        newMessage = true;
        inTurn = false;
        if (ev.status === 'error') {
          const name = toolNames.get(str(ev.tool_id) ?? '') ?? 'tool';
          run.note(`tool ${name} failed: ${str(obj(ev.error).message) ?? ''}`);
        }
        return;
      }
      case 'error': {
        const message = str(ev.message) ?? '';
        run.note(`${ev.severity === 'warning' ? 'warning' : 'error'}: ${message}`);
        if (ev.severity !== 'warning') lastError = errorFrom(message);
        return;
      }
      case 'result': return result(ev);
      default: return;
    }
  };

  return {
    line: safely(handle, run),
    end() {
      if (!gotResult) {
        if (turns > 0) run.turns = turns;
        run.fail(cutStream('gemini', lastError));
      }
      return run.summary();
    },
  };
}
