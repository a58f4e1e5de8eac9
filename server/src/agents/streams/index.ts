// TEMP STUB
import type { StreamFormat, StreamParser, StreamSink } from './types';
export function createStreamParser(_f: StreamFormat, sink: StreamSink): StreamParser {
  let text = '';
  return { line: (l) => { text += l + '\n'; sink.text(l + '\n'); }, end: () => ({ text, toolCalls: 0 }) };
}
