export type StreamFormat = 'claude-stream-json' | 'codex-json' | 'gemini-stream-json' | 'opencode-json';
export interface StreamSink {
  /** Assistant text as it arrives (deltas where the tool streams them; whole messages otherwise). */
  text(s: string): void;
  /** A tool call the agent made (name, e.g. "Bash", "read_file"). */
  toolCall(name: string): void;
  /** A human-readable progress/log line that is not the answer (e.g. "tool Bash: ls", "turn 2"), for the step log. Optional to use. */
  note?(s: string): void;
}
export interface StreamSummary {
  /** The final answer text (the result message where the tool gives one, else the concatenated assistant text). */
  text: string;
  model?: string;            // the model that answered, as the tool reports it
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number; costUsd?: number };
  turns?: number;
  toolCalls: number;
  /** The tool reported a failure (error event, is_error result, turn.failed...). */
  error?: { message: string; status?: number; retryable: boolean };
}
export interface StreamParser { line(line: string): void; end(): StreamSummary; }
