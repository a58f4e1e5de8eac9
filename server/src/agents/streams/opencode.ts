/**
 * opencode `run --format json`: JSON lines on stdout, each `{type, timestamp, sessionID, ...}`.
 *
 * Shapes (anomalyco/opencode `packages/opencode/src/cli/cmd/run.ts`, `session/message-v2.ts`):
 * - `step_start {part:{type:"step-start"}}`: one model call begins.
 * - `text {part:{type:"text", text, time:{start, end}}}`: a whole text part, once finished (there
 *   are no deltas in this format).
 * - `reasoning {part}` (only with --thinking).
 * - `tool_use {part:{type:"tool", tool, callID, state:{status:"completed"|"error", input, output |
 *   error, title}}}`: a tool call once it finished or failed.
 * - `step_finish {part:{type:"step-finish", reason, cost, tokens:{input, output, reasoning,
 *   cache:{read, write}}}}`: per model call, so usage and cost are summed here.
 * - `error {error:{name, data:{message, statusCode?, isRetryable?, ...}}}`: `APIError`,
 *   `ProviderAuthError`, `UnknownError`, ...; the run then exits 1.
 * - `done {reason:"idle", rejected}` in newer builds (not in the 1.18.33 binary).
 * No event names the model. A `step_start` without its `step_finish` at the end means a cut stream.
 */
import { brief, cutStream, errorFrom, num, obj, Run, safely, str, type Json } from './common';
import type { StreamParser, StreamSink } from './types';

const NOT_RETRYABLE_ERRORS = new Set(['ProviderAuthError', 'MessageOutputLengthError', 'MessageAbortedError', 'ContextOverflowError']);

export function createOpencodeParser(sink: StreamSink): StreamParser {
  const run = new Run(sink);
  const toolIds = new Set<string>();
  const textIds = new Set<string>();
  let steps = 0;
  let openStep = false; // a model call started and has not finished

  function add(key: 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'costUsd', v: number | undefined): void {
    if (v !== undefined) run.usage[key] = (run.usage[key] ?? 0) + v;
  }

  function error(ev: Json): void {
    const err = obj(ev.error);
    const data = obj(err.data);
    const name = str(err.name) ?? 'Error';
    const message = str(data.message) ?? str(err.message) ?? name;
    const status = num(data.statusCode);
    const retryable = typeof data.isRetryable === 'boolean' ? data.isRetryable : NOT_RETRYABLE_ERRORS.has(name) ? false : undefined;
    const opts: { status?: number; retryable?: boolean } = {};
    if (status !== undefined) opts.status = status;
    if (retryable !== undefined) opts.retryable = retryable;
    const e = errorFrom(message, opts);
    if (name === 'ProviderAuthError') e.retryable = false;
    run.note(`error: ${name}: ${message}`);
    run.fail(e);
  }

  const handle = (ev: Json): void => {
    const part = obj(ev.part);
    switch (ev.type) {
      case 'step_start':
        openStep = true;
        return;
      case 'text': {
        const id = str(part.id);
        if (id && textIds.has(id)) return;
        if (id) textIds.add(id);
        run.message(str(part.text) ?? '');
        return;
      }
      case 'reasoning':
        run.note(`thinking: ${brief(part.text, 200)}`);
        return;
      case 'tool_use': {
        const id = str(part.callID) ?? str(part.id);
        const state = obj(part.state);
        if (!(id && toolIds.has(id))) {
          if (id) toolIds.add(id);
          run.tool(str(part.tool) ?? 'tool', brief(state.input));
        }
        if (state.status === 'error') run.note(`tool ${str(part.tool) ?? 'tool'} failed: ${brief(state.error, 200)}`);
        return;
      }
      case 'step_finish': {
        openStep = false;
        // Turns are finished model calls: opencode starts a step for each retry of a failing call too.
        steps++;
        run.turns = steps;
        const tokens = obj(part.tokens);
        add('inputTokens', num(tokens.input));
        add('outputTokens', num(tokens.output));
        add('cacheReadTokens', num(obj(tokens.cache).read));
        add('costUsd', num(part.cost));
        run.progress();
        return;
      }
      case 'error': return error(ev);
      default: return;
    }
  };

  return {
    line: safely(handle, run),
    end() {
      // A model call that never finished, with no error reported: opencode was cut off.
      if (openStep && !run.error) run.fail(cutStream('opencode'));
      return run.summary();
    },
  };
}
