import assert from 'node:assert/strict';
import * as http from 'node:http';
import { describe, it } from 'node:test';
import { Acks, collectRun, expectError, freePort, hang, sleep, startStream, withServer as serve, type CollectOptions, type Handler, type Seen } from '../helpers/loopback';
import { createOpenAIProvider } from '../../server/src/agents/openai';

// --- a local OpenAI-compatible server --------------------------------------------------------

/** Its base URL ends in /v1, as OpenAI-compatible servers' do. */
const withServer = (handler: Handler, fn: (baseUrl: string, seen: Seen[]) => Promise<void>) => serve(handler, fn, '/v1');

function send(res: http.ServerResponse, obj: unknown): void {
  if (!res.destroyed) res.write(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`);
}
const delta = (content: string, model = 'gpt-test-2024') => ({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const finish = { id: 'c1', model: 'gpt-test-2024', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
const usage = { id: 'c1', model: 'gpt-test-2024', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } };

/**
 * A normal answer: the given pieces `gap` ms apart (or each once the client reported the one
 * before, with Acks), then finish, usage and [DONE].
 */
function streaming(pieces: string[], gap: number | Acks): Handler {
  return async (_req, res) => {
    startStream(res);
    send(res, { id: 'c1', model: 'gpt-test-2024', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const [i, p] of pieces.entries()) {
      if (typeof gap === 'number') await sleep(gap);
      else await gap.wait(i);
      send(res, delta(p));
    }
    send(res, finish);
    send(res, usage);
    send(res, '[DONE]');
    res.end();
  };
}

function runCollect(baseUrl: string, opts: CollectOptions & { apiKey?: string; timeoutMs?: number } = {}) {
  return collectRun(createOpenAIProvider({ name: 'local', baseUrl, apiKey: opts.apiKey, defaultModel: 'default-model', timeoutMs: opts.timeoutMs }), opts);
}



// --- tests --------------------------------------------------------------------------------------

describe('openai provider', () => {
  it('streams chunks in order as they arrive, then resolves with text, usage and model', async () => {
    const acks = new Acks();
    await withServer(streaming(['Hel', 'lo', ' world'], acks), async (baseUrl, seen) => {
      const { result, chunks } = await runCollect(baseUrl, { apiKey: 'sk-test', model: 'gpt-test', instructions: 'Be brief.', onChunk: acks.ack });
      assert.deepEqual(chunks.map((c) => c.text), ['Hel', 'lo', ' world']);
      assert.deepEqual(result, { text: 'Hello world', usage: { inputTokens: 12, outputTokens: 3 }, model: 'gpt-test-2024' });
      // Each chunk was delivered when it arrived, not at the end: the server sent every piece only
      // after the client had reported the one before.
      assert.deepEqual(acks.missed, [], 'pieces the client had not reported before the next was sent');

      const req = seen[0];
      assert.equal(req.url, '/v1/chat/completions');
      assert.equal(req.headers.authorization, 'Bearer sk-test');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.deepEqual(req.body, {
        model: 'gpt-test',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
    });
  });

  it('without a key or instructions: no Authorization header, only the user message, the default model, options merged', async () => {
    await withServer(streaming(['ok'], 0), async (baseUrl, seen) => {
      const { result } = await runCollect(`${baseUrl}/`, { options: { temperature: 0.2, model: 'ignored', stream: false } });
      assert.equal(result.text, 'ok');
      assert.equal(seen[0].headers.authorization, undefined);
      assert.equal(seen[0].url, '/v1/chat/completions');
      assert.deepEqual(seen[0].body, { temperature: 0.2, model: 'default-model', messages: [{ role: 'user', content: 'Say hello' }], stream: true, stream_options: { include_usage: true } });
    });
  });

  it('works with a slow stream (chunks 200 ms apart, an idle timeout far above that)', async () => {
    await withServer(streaming(['a', 'b', 'c', 'd'], 200), async (baseUrl) => {
      const { result, chunks } = await runCollect(baseUrl, { timeoutMs: 10_000 });
      assert.equal(result.text, 'abcd');
      assert.equal(chunks.length, 4);
    });
  });

  it('HTTP 401: not retryable, says to check the key and names the secret', async () => {
    await withServer((_q, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl, { apiKey: 'bad' }), (e: unknown) => {
        expectError(/HTTP 401/, false, 401)(e);
        const msg = (e as Error).message;
        assert.ok(msg.startsWith(`openai provider 'local': HTTP 401 from ${baseUrl}/chat/completions: check the api key (secret OPENAI_API_KEY)`), msg);
        assert.match(msg, /Incorrect API key provided/);
        return true;
      });
      await assert.rejects(runCollect(baseUrl), expectError(/no api key was sent: set the secret OPENAI_API_KEY/, false, 401));
    });
  });

  it('HTTP 429 and 500 are retryable; 400 is not and carries the server message', async () => {
    let status = 429;
    await withServer((_q, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `status ${status} message` } }));
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 429 \(rate limited\) from .*: retry later/, true, 429));
      status = 500;
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 500 from .*retry later.*status 500 message/, true, 500));
      status = 400;
      await assert.rejects(runCollect(baseUrl), expectError(/HTTP 400 from .*rejected.*status 400 message/, false, 400));
    });
  });

  it('connection refused: a clear, retryable error', async () => {
    const port = await freePort();
    await assert.rejects(runCollect(`http://127.0.0.1:${port}/v1`), expectError(new RegExp(`connection refused at http://127\\.0\\.0\\.1:${port}/v1/chat/completions: is the server running\\?`), true));
  });

  it('a server that disconnects mid-stream: retryable "ended before complete" error, after the chunks it sent', async () => {
    const acks = new Acks();
    await withServer(async (_q, res) => {
      startStream(res);
      send(res, delta('partial'));
      await acks.wait(1); // the client has the chunk
      res.socket?.destroy();
    }, async (baseUrl) => {
      const got: string[] = [];
      const provider = createOpenAIProvider({ name: 'local', baseUrl, defaultModel: 'm' });
      const onChunk = (c: { text: string }): void => {
        got.push(c.text);
        acks.ack();
      };
      await assert.rejects(provider.run({ prompt: 'x', signal: new AbortController().signal }, onChunk), expectError(/the stream ended before the answer was complete/, true));
      assert.deepEqual(got, ['partial']);
    });
  });

  it('a stream that ends cleanly without [DONE] or finish_reason is incomplete (retryable)', async () => {
    await withServer((_q, res) => {
      startStream(res);
      send(res, delta('partial'));
      res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/the stream ended before the answer was complete/, true));
    });
  });

  it('malformed JSON in a data line: a clear error quoting it', async () => {
    await withServer((_q, res) => {
      startStream(res);
      send(res, delta('a'));
      send(res, '{"choices": [ {"delta": ');
      send(res, '[DONE]');
      res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/malformed event data from .*\(not JSON: \{"choices": \[ \{"delta":\)/, true));
    });
  });

  it('an error object mid-stream becomes a ProviderError', async () => {
    await withServer((_q, res) => {
      startStream(res);
      send(res, { error: { message: 'Provider returned error', code: 502 } });
      res.end();
    }, async (baseUrl) => {
      await assert.rejects(runCollect(baseUrl), expectError(/error mid-stream.*Provider returned error/, true, 502));
    });
  });

  it('abort mid-stream: cancelled, not retryable (the server never ends the stream)', { timeout: 60_000 }, async () => {
    await withServer(async (_q, res) => {
      startStream(res);
      send(res, delta('first'));
      await hang(res); // never finishes on its own
    }, async (baseUrl) => {
      const ac = new AbortController();
      const provider = createOpenAIProvider({ name: 'local', baseUrl, defaultModel: 'm' });
      let aborted = false;
      await assert.rejects(
        provider.run({ prompt: 'x', signal: ac.signal }, () => {
          aborted = true;
          ac.abort();
        }),
        expectError(/^openai provider 'local': cancelled$/, false),
      );
      assert.ok(aborted);
    });
  });

  it('abort while waiting for the response headers, and an already-aborted signal', async () => {
    await withServer((_q, res) => hang(res), async (baseUrl) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(runCollect(baseUrl, { signal: ac.signal }), expectError(/cancelled/, false));
      await assert.rejects(runCollect(baseUrl, { signal: AbortSignal.abort() }), expectError(/cancelled/, false));
    });
  });

  it('a stream that stalls longer than timeoutMs: retryable idle-timeout error', { timeout: 60_000 }, async () => {
    await withServer(async (_q, res) => {
      startStream(res);
      send(res, delta('a'));
      await hang(res);
    }, async (baseUrl) => {
      // The server never sends more: only the idle timeout can end the run.
      await assert.rejects(runCollect(baseUrl, { timeoutMs: 300 }), expectError(/no data from .* for 300ms/, true));
    });
  });

  it('accepts a server that ignores stream and answers with JSON', async () => {
    await withServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: 'llama3', choices: [{ index: 0, message: { role: 'assistant', content: 'whole' } }], usage: { prompt_tokens: 5, completion_tokens: 1 } }));
    }, async (baseUrl) => {
      const { result, chunks } = await runCollect(baseUrl);
      assert.deepEqual(result, { text: 'whole', usage: { inputTokens: 5, outputTokens: 1 }, model: 'llama3' });
      assert.deepEqual(chunks.map((c) => c.text), ['whole']);
    });
  });

  it('no model anywhere, or a bad base_url: clear non-retryable errors without a request', async () => {
    const p = createOpenAIProvider({ name: 'x', baseUrl: 'http://127.0.0.1:9/v1' });
    await assert.rejects(p.run({ prompt: 'x', signal: new AbortController().signal }, () => undefined), expectError(/no model/, false));
    const q = createOpenAIProvider({ name: 'x', baseUrl: 'localhost:11434', defaultModel: 'm' });
    await assert.rejects(q.run({ prompt: 'x', signal: new AbortController().signal }, () => undefined), expectError(/base_url 'localhost:11434'/, false));
  });
});
