import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSSE, type SSEEvent } from '../../server/src/agents/sse';

const enc = new TextEncoder();

async function* fromChunks(chunks: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve(); // each chunk arrives on its own turn, as from a socket
    yield typeof c === 'string' ? enc.encode(c) : c;
  }
}

async function collect(chunks: (string | Uint8Array)[]): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const ev of parseSSE(fromChunks(chunks))) out.push(ev);
  return out;
}

/** Every way of cutting `text` into pieces of `size` bytes. */
function bytesIn(text: string, size: number): Uint8Array[] {
  const all = enc.encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

describe('parseSSE', () => {
  it('parses events with \\n, \\r\\n and \\r line ends', async () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = `data: one${eol}${eol}event: named${eol}data: two${eol}${eol}`;
      assert.deepEqual(await collect([text]), [
        { event: 'message', data: 'one' },
        { event: 'named', data: 'two' },
      ], JSON.stringify(eol));
    }
  });

  it('gives the same events however the bytes are split (down to one byte per chunk)', async () => {
    const text = '\uFEFF: comment\r\nevent: a\r\ndata: héllo 🌍\r\ndata:second line\r\nid: 7\r\n\r\ndata: {"x":1}\r\n\r\n';
    const expected = [
      { event: 'a', data: 'héllo 🌍\nsecond line', id: '7' },
      { event: 'message', data: '{"x":1}', id: '7' },
    ];
    for (const size of [1, 2, 3, 5, 7, 1000]) assert.deepEqual(await collect(bytesIn(text, size)), expected, `size ${size}`);
  });

  it('treats \\r at the end of a chunk and \\n at the start of the next as one line end', async () => {
    assert.deepEqual(await collect(['data: a\r', '\ndata: b\r', '\n\r', '\n']), [{ event: 'message', data: 'a\nb' }]);
  });

  it('skips comments, unknown fields and events without data; strips only one leading space', async () => {
    const text = ': keep-alive\n\nevent: ping\n\nretry: 10\nfoo: bar\ndata:  two spaces\ndata\n\n';
    assert.deepEqual(await collect([text]), [{ event: 'message', data: ' two spaces\n' }]);
  });

  it('resets the event name after each event', async () => {
    assert.deepEqual(await collect(['event: x\ndata: 1\n\ndata: 2\n\n']), [
      { event: 'x', data: '1' },
      { event: 'message', data: '2' },
    ]);
  });

  it('drops an event the stream does not finish', async () => {
    assert.deepEqual(await collect(['data: done\n\ndata: cut']), [{ event: 'message', data: 'done' }]);
    assert.deepEqual(await collect(['data: done\n\ndata: cut\n']), [{ event: 'message', data: 'done' }]);
  });

  it('reads a web ReadableStream', async () => {
    const parts = ['data: a\n', '\ndata: b\n\n'];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(enc.encode(p));
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const ev of parseSSE(stream)) out.push(ev.data);
    assert.deepEqual(out, ['a', 'b']);
  });

  it('passes a source error through', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield enc.encode('data: a\n\n');
      await Promise.resolve();
      throw new Error('boom');
    }
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const ev of parseSSE(failing())) seen.push(ev.data);
    }, /boom/);
    assert.deepEqual(seen, ['a']);
  });
});
