/**
 * Server-Sent Events parser (WHATWG HTML "event stream interpretation"), over a web ReadableStream
 * or any async iterable of bytes.
 *
 * - Lines end in `\r\n`, `\n` or `\r` (a `\r` at the end of one chunk and `\n` at the start of the
 *   next are one line end); UTF-8 split across chunks is decoded correctly; a leading BOM is dropped.
 * - `data:` lines accumulate, joined with `\n`; a blank line dispatches the event; an event with no
 *   data is not dispatched. `event:` sets the type (default `message`), `id:` the last event id.
 * - Lines starting with `:` are comments (keep-alives); unknown fields are ignored; a field's value
 *   loses one leading space; a line without `:` is a field with an empty value.
 * - An event not ended by a blank line when the stream ends is discarded, as the spec says; callers
 *   know a stream is complete from its own terminator (`[DONE]`, `message_stop`).
 */

export interface SSEEvent {
  /** The `event:` name, or `message`. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last `id:` seen (spec: persists across events), if any. */
  id?: string;
}

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

async function* bytesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // Stopping early (the consumer broke out, or threw) cancels the stream, which closes the
    // connection. Cancelling a finished or failed stream is harmless.
    reader.cancel().catch(() => undefined);
  }
}

/** Splits bytes into lines (without their line ends). The last line, if unterminated, is dropped. */
async function* linesOf(source: ByteSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let buf = '';
  let first = true;
  let skipLF = false; // the previous chunk ended in '\r': a '\n' starting this one is part of that line end
  for await (const bytes of bytesOf(source)) {
    let text = decoder.decode(bytes, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (skipLF && text.length > 0) {
      if (text[0] === '\n') text = text.slice(1);
      skipLF = false;
    }
    buf += text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== '\r' && c !== '\n') continue;
      yield buf.slice(start, i);
      if (c === '\r') {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === '\n') i++;
        } else {
          skipLF = true;
        }
      }
      start = i + 1;
    }
    buf = buf.slice(start);
  }
  // Whatever is left in buf (and in the decoder) is an unterminated line: discarded.
}

/** Yields each event of the stream as it completes. */
export async function* parseSSE(source: ByteSource): AsyncGenerator<SSEEvent> {
  let data: string[] = [];
  let event = '';
  let lastId: string | undefined;
  for await (const line of linesOf(source)) {
    if (line === '') {
      if (data.length > 0) {
        const ev: SSEEvent = { event: event || 'message', data: data.join('\n') };
        if (lastId !== undefined) ev.id = lastId;
        yield ev;
      }
      data = [];
      event = '';
      continue;
    }
    if (line[0] === ':') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'data':
        data.push(value);
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      default:
        break; // 'retry' and unknown fields: nothing to do for a one-shot request
    }
  }
}
