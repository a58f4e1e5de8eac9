import assert from 'node:assert/strict';
import * as http from 'node:http';
import { describe, it } from 'node:test';
import { Acks, collectRun, expectError, freePort, hang, sleep, startStream, withServer, type CollectOptions, type Handler } from '../helpers/loopback';
import { createAnthropicProvider } from '../../server/src/agents/anthropic';

// --- a local Anthropic Messages API server -----------------------------------------------------

function send(res: http.ServerResponse, event: string, data: unknown): void {
  if (!res.destroyed) res.write(`event: ${event}\r\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\r\n\r\n`);
}
const messageStart = {
  type: 'message_start',
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-test-20250101', content: [], stop_reason: null, usage: { input_tokens: 25, output_tokens: 1 } },
};
const textDelta = (text: string) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

/** The given pieces `gap` ms apart (or each once the client reported the one before, with Acks). */
function streaming(pieces: string[], gap: number | Acks): Handler {
  return async (_req, res) => {
    startStream(res);
    send(res, 'message_start', messageStart);
    send(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send(res, 'ping', { type: 'ping' });
    for (const [i, p] of pieces.entries()) {
      if (typeof gap === 'number') await sleep(gap);
      else await gap.wait(i);
      send(res, 'content_block_delta', textDelta(p));
    }
    send(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    send(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } });
    send(res, 'message_stop', { type: 'message_stop' });
    res.end();
  };
}

function runCollect(baseUrl: string, opts: CollectOptions & { apiKey?: string; timeoutMs?: number } = {}) {
  return collectRun(createAnthropicProvider({ name: 'claude', baseUrl, apiKey: opts.apiKey, defaultModel: 'claude-default', timeoutMs: opts.timeoutMs }), opts);
}


// --- tests --------------------------------------------------------------------------------------

describe('anthropic provider', () => {
  it('streams text deltas in order as they arrive, then resolves with text, usage and model', async () => {
    const acks = new Acks();
    await withServer(streaming(['Hel', 'lo', ' there'], acks), async (baseUrl, seen) => {
      const { result, chunks } = await runCollect(baseUrl, { apiKey: 'sk-ant-test', model: 'claude-test', instructions: 'Be brief.', onChunk: acks.ack });
      assert.deepEqual(chunks.map((c) => c.text), ['Hel', 'lo', ' there']);
      assert.deepEqual(result, { text: 'Hello there', usage: { inputTokens: 25, outputTokens: 15 }, model: 'claude-test-20250101' });
      // Delivered as they arrived: the server sent every piece only after the client reported the one before.
      assert.deepEqual(acks.missed, [], 'pieces the client had not reported before the next was sent');

      const req = seen[0];
      assert.equal(req.url, '/v1/messages');
      assert.equal(req.headers['x-api-key'], 'sk-ant-test');
      assert.equal(req.headers['anthropic-version'], '2023-06-01');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers.authorization, undefined);
      assert.deepEqual(req.body, {
        max_tokens: 4096,
        model: 'claude-test',
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
      });
    });
  });

  it('default model, no system without instructions, max_tokens and other options from the step', async () => {
    await withServer(streaming(['ok'], 0), async (baseUrl, seen) => {
      const { result } = await runCollect(baseUrl, { options: { max_tokens: 100, temperature: 0 } });
      assert.equal(result.text, 'ok');
      assert.deepEqual(seen[0].body, { max_tokens: 100, temperature: 0, model: 'claude-default', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
      assert.equal(seen[0].headers['x-api-key'], undefined);
    });
  });

  it('skips non-text deltas (thinking, tool input)', async () => {
    await withServer((_q, res) => {
      startStream(res);
      send(res, 'message_start', messageStart);
      send(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } });
      send(res, 'content_block_delta', textDelta('answer'));
      send(res, 'content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a"' } });
      send(res, 'message_stop', { type: 'message_stop' });
      res.end();
    }, async (baseUrl) => {
      const { result } = await runCollect(baseUrl);
      assert.equal(result.text, 'answer');
    });
  });

  it('works with a slow stream (chunks 200 ms apart, an idle timeout far above that)', async () => {
    await withServer(streaming(['a', 'b', 'c', 'd'], 200), async (baseUrl) => {
      const { result, chunks } = await runCollect(baseUrl, { timeoutMs: 10_000 });
      assert.equal(result.text, 'abcd');
      assert.equal(chunks.length, 4);
    });
  });

  it('an overloaded_error event is retryable; invalid_request_error is not', async () => {
    let type = 'overloaded_error';
    await withServer((_q, res) => {
      startStream(res);
      send(res, 'message_start', messageStart);
      send(res, 'content_block_delta', textDelta('par'));
      send(res, 'error', { type: 'error', error: { type, message: `${type} happened` } });
      res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/overloaded_error .*\(overloaded_error happened\): the API is overloaded; retry later/, true));
      type = 'invalid_request_error';
      await assert.rejects(runCollect(baseUrl), expectError(/invalid_request_error/, false));
    });
  });

  it('HTTP 401: not retryable, names the secret; 429, 500 and 529 retryable', async () => {
    let status = 401;
    await withServer((_q, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'some_error', message: `status ${status}` } }));
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl, { apiKey: 'bad' }), (e: unknown) => {
        expectError(/status 401/, false, 401)(e);
        assert.ok((e as Error).message.startsWith(`anthropic provider 'claude': HTTP 401 from ${baseUrl}/v1/messages: check the api key (secret ANTHROPIC_API_KEY)`), (e as Error).message);
        return true;
      });
      status = 429;
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 429 \(rate limited\).*retry later/, true, 429));
      status = 500;
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 500/, true, 500));
      status = 529;
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 529 .*overloaded/, true, 529));
    });
  });

  it('connection refused: a clear, retryable error', async () => {
    const port = await freePort();
    await assert.rejects(runCollect(`http://127.0.0.1:${port}`), expectError(/connection refused at .*: is the server running\?/, true));
  });

  it('a server that disconnects mid-stream, or ends without message_stop: retryable "ended early"', async () => {
    let destroy = true;
    let acks = new Acks();
    await withServer(async (_q, res) => {
      startStream(res);
      send(res, 'message_start', messageStart);
      send(res, 'content_block_delta', textDelta('partial'));
      await acks.wait(1); // the client has the chunk
      if (destroy) res.socket?.destroy();
      else res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl, { onChunk: acks.ack }), expectError(/the stream ended before the answer was complete/, true));
      destroy = false;
      acks = new Acks();
      await assert.rejects(runCollect(baseUrl, { onChunk: acks.ack }), expectError(/the stream ended before the answer was complete/, true));
    });
  });

  it('malformed JSON in a data line: a clear error', async () => {
    await withServer((_q, res) => {
      startStream(res);
      send(res, 'message_start', messageStart);
      send(res, 'content_block_delta', '{"type": "content_block_delta", "delta": {');
      send(res, 'message_stop', { type: 'message_stop' });
      res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/malformed event data .*not JSON/, true));
    });
  });

  it('abort mid-stream: cancelled, not retryable (the server never ends the stream)', { timeout: 60_000 }, async () => {
    await withServer(async (_q, res) => {
      startStream(res);
      send(res, 'message_start', messageStart);
      send(res, 'content_block_delta', textDelta('first'));
      await hang(res);
    }, async (baseUrl) => {
      const ac = new AbortController();
      const provider = createAnthropicProvider({ name: 'claude', baseUrl, defaultModel: 'm' });
      let aborted = false;
      await assert.rejects(
        provider.run({ prompt: 'x', signal: ac.signal }, () => {
          aborted = true;
          ac.abort();
        }),
        expectError(/^anthropic provider 'claude': cancelled$/, false),
      );
      assert.ok(aborted);
    });
  });
});
