/**
 * codex `exec --json`: JSON lines on stdout.
 *
 * Shapes (openai/codex `codex-rs/exec/src/exec_events.rs`, `event_processor_with_jsonl_output.rs`,
 * docs/exec.md):
 * - `thread.started {thread_id}`, `turn.started {}`, `turn.completed {usage:{input_tokens,
 *   cached_input_tokens, output_tokens}}` (the thread's cumulative usage, so the last one counts),
 *   `turn.failed {error:{message}}` (fatal), `error {message}` (also retry notices such as
 *   `Reconnecting... 1/5 (…)`: fatal only when no turn completes after it).
 * - `item.started` / `item.updated` / `item.completed {item:{id, type, ...}}` with item types
 *   `agent_message {text}` and `reasoning {text}` (completed only: there are no text deltas),
 *   `command_execution {command, aggregated_output, exit_code, status}`, `file_change {changes,
 *   status}`, `mcp_tool_call {server, tool, arguments, status}`, `collab_tool_call {tool}`,
 *   `web_search {query}`, `todo_list {items}`, `error {message}` (a non-fatal warning).
 * No event names the model and none gives a cost.
 */
import { brief, cutStream, errorFrom, isObject, num, obj, Run, safely, str, type Json, type StreamError } from './common';
import type { StreamParser, StreamSink } from './types';

export function createCodexParser(sink: StreamSink): StreamParser {
  const run = new Run(sink);
  const toolItems = new Set<string>();
  let completed = false;
  let lastError: StreamError | undefined;
  let turns = 0;

  function toolOf(item: Json): { name: string; detail: string } | undefined {
    switch (item.type) {
      case 'command_execution': return { name: 'shell', detail: brief(item.command) };
      case 'file_change': {
        const changes = Array.isArray(item.changes) ? item.changes.filter(isObject) : [];
        return { name: 'apply_patch', detail: changes.map((c) => `${str(c.kind) ?? ''} ${str(c.path) ?? ''}`.trim()).join(', ') };
      }
      case 'mcp_tool_call': return { name: [str(item.server), str(item.tool)].filter(Boolean).join('.') || 'mcp', detail: brief(item.arguments) };
      case 'collab_tool_call': return { name: str(item.tool) ?? 'collab', detail: brief(item.prompt) };
      case 'web_search': return { name: 'web_search', detail: brief(item.query) };
      default: return undefined;
    }
  }

  function item(ev: Json, phase: 'started' | 'updated' | 'completed'): void {
    const it = obj(ev.item);
    const id = str(it.id);
    const tool = toolOf(it);
    if (tool) {
      const key = id ?? `${String(it.type)}:${tool.detail}`;
      if (!toolItems.has(key)) {
        toolItems.add(key);
        run.tool(tool.name, tool.detail);
      }
      if (phase === 'completed' && (it.status === 'failed' || it.status === 'declined')) {
        const code = num(it.exit_code);
        run.note(`tool ${tool.name} ${String(it.status)}${code !== undefined ? ` (exit ${code})` : ''}`);
      }
      return;
    }
    if (phase !== 'completed') return;
    if (it.type === 'agent_message') run.message(str(it.text) ?? '');
    else if (it.type === 'reasoning') run.note(`thinking: ${brief(it.text, 200)}`);
    else if (it.type === 'error') run.note(`warning: ${str(it.message) ?? ''}`);
  }

  const handle = (ev: Json): void => {
    switch (ev.type) {
      case 'thread.started':
        return;
      case 'turn.started':
        turns++;
        run.turns = turns;
        if (turns > 1) run.note(`turn ${turns}`);
        run.progress();
        return;
      case 'item.started': return item(ev, 'started');
      case 'item.updated': return item(ev, 'updated');
      case 'item.completed': return item(ev, 'completed');
      case 'turn.completed': {
        completed = true;
        lastError = undefined; // retry notices before a completed turn were not fatal
        const u = obj(ev.usage);
        run.usage.inputTokens = num(u.input_tokens);
        run.usage.cacheReadTokens = num(u.cached_input_tokens);
        run.usage.outputTokens = num(u.output_tokens);
        run.usage.cacheReadInInput = true;
        run.progress();
        return;
      }
      case 'turn.failed': {
        const message = str(obj(ev.error).message) ?? str(ev.message) ?? 'codex: the turn failed';
        run.fail(errorFrom(message));
        return;
      }
      case 'error': {
        const message = str(ev.message) ?? '';
        run.note(`error: ${message}`);
        lastError = errorFrom(message);
        return;
      }
      default: return;
    }
  };

  return {
    line: safely(handle, run),
    end() {
      if (!run.error && lastError) run.fail(lastError);
      else if (!run.error && !completed) run.fail(cutStream('codex'));
      return run.summary();
    },
  };
}
