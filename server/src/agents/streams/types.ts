/**
 * Parsers of the structured (JSON lines) output of agent CLIs: claude `-p --output-format
 * stream-json --verbose`, codex `exec --json`, gemini `--output-format stream-json`, opencode
 * `run --format json`. The caller splits stdout into lines and feeds them one by one; a parser
 * streams what it learns to a sink and sums the run up at the end. Parsers never throw.
 */
import type { AgentProgress } from '../provider';

export type StreamFormat = 'claude-stream-json' | 'codex-json' | 'gemini-stream-json' | 'opencode-json';

export interface StreamSink {
  /** Assistant text as it arrives (deltas where the tool streams them; whole messages otherwise). */
  text(s: string): void;
  /** A tool call the agent made (name, e.g. "Bash", "read_file"). */
  toolCall(name: string): void;
  /** A human-readable progress/log line that is not the answer (e.g. "tool Bash: ls", "turn 2"), for the step log. Optional to use. */
  note?(s: string): void;
  /** The run's totals so far (usage, turns, tool calls), as they change mid-run: for budgets. */
  usage?(u: AgentProgress): void;
}

export interface StreamSummary {
  /** The final answer text (the result message where the tool gives one, else the concatenated assistant text). */
  text: string;
  /** The model that answered, as the tool reports it. */
  model?: string;
  /**
   * Token counts as the tool reports them. `inputTokens` keeps the tool's own meaning: Anthropic's
   * `input_tokens` excludes cache reads, OpenAI's and Gemini's include them.
   */
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number; costUsd?: number; cacheReadInInput?: boolean };
  turns?: number;
  toolCalls: number;
  /** The tool reported a failure (error event, is_error result, turn.failed...). */
  error?: { message: string; status?: number; retryable: boolean; /** The output ended without the tool's final event (its own error, if any, is elsewhere: stderr). */ cut?: boolean };
}

export interface StreamParser {
  line(line: string): void;
  end(): StreamSummary;
}
