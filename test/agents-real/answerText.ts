/**
 * The answer text in each tool's structured stdout, read the simplest way that works for the smoke
 * tests (the product's stream parsers live in server/src/agents/streams/).
 */
import type { AgentTool } from './setup';

function lines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of stdout.split('\n')) {
    if (!l.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not an event
    }
  }
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function answerText(tool: AgentTool, stdout: string): string {
  const ev = lines(stdout);
  switch (tool) {
    case 'claude-code':
      return ev.filter((e) => e.type === 'result').map((e) => str(e.result)).join('');
    case 'codex':
      return ev.filter((e) => e.type === 'item.completed' && (e.item as { type?: string })?.type === 'agent_message').map((e) => String((e.item as { text?: string }).text ?? '')).join('');
    case 'gemini-cli':
      return ev.filter((e) => e.type === 'message' && e.role === 'assistant').map((e) => str(e.content)).join('');
    case 'opencode':
      return ev.filter((e) => e.type === 'text').map((e) => String((e.part as { text?: string })?.text ?? '')).join('');
  }
}

/** A piece of streamed text as the tool prints it before the answer is complete, if it does. */
export function streamedDelta(tool: AgentTool, line: string): string | undefined {
  const [e] = lines(line);
  if (!e) return undefined;
  if (tool === 'claude-code' && e.type === 'stream_event') {
    const inner = e.event as { type?: string; delta?: { type?: string; text?: string } };
    return inner.type === 'content_block_delta' && inner.delta?.type === 'text_delta' ? inner.delta.text : undefined;
  }
  if (tool === 'gemini-cli' && e.type === 'message' && e.role === 'assistant' && e.delta === true) return str(e.content);
  return undefined;
}
