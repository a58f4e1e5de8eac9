/** What the wire modules of the fake model server share: one planned answer and its stream. */

export interface Usage {
  input: number;
  output: number;
  cached?: number;
}

/** One answer as the server will send it, already split into text chunks. */
export interface StreamPlan {
  id: string;
  model: string;
  chunks: string[];
  usage: Usage;
}

/**
 * A streamed answer in one wire format: `prologue` is sent first, then one `deltas` entry per text
 * chunk (a hold or a cut counts these), then `epilogue`. Each string is whole SSE events.
 */
export interface WireStream {
  prologue: string;
  deltas: string[];
  epilogue: string;
}

export type Wire = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini';

/** A server-sent event: `event:` line (when named) and one `data:` line. */
export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
