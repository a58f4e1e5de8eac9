/** The stream parser for each agent CLI's structured output format. */
import { createClaudeParser } from './claude';
import { createCodexParser } from './codex';
import { createGeminiParser } from './gemini';
import { createOpencodeParser } from './opencode';
import type { StreamFormat, StreamParser, StreamSink } from './types';

export type { StreamFormat, StreamParser, StreamSink, StreamSummary } from './types';

const PARSERS: Record<StreamFormat, (sink: StreamSink) => StreamParser> = {
  'claude-stream-json': createClaudeParser,
  'codex-json': createCodexParser,
  'gemini-stream-json': createGeminiParser,
  'opencode-json': createOpencodeParser,
};

export const STREAM_FORMATS = Object.keys(PARSERS) as StreamFormat[];

export function createStreamParser(format: StreamFormat, sink: StreamSink): StreamParser {
  return PARSERS[format](sink);
}
