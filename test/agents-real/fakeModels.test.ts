/**
 * The fake model server on its own: each wire format streams the scripted answer, errors carry
 * their status and retry-after, a hold stops the stream until released, a cut ends it early, side
 * requests leave the script alone, and every request is recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeModelServer, splitChunks } from '../helpers/fakeModels/index';

let fake: FakeModelServer;
before(async () => (fake = await FakeModelServer.start()));
after(async () => fake.close());

const tools = [{ name: 'bash' }];
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** The `data:` payloads of an SSE body, parsed (`[DONE]` kept as a string). */
function events(text: string): unknown[] {
  return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).map((d): unknown => (d === '[DONE]' ? d : JSON.parse(d)));
}

const chatText = (chunks: unknown[]): string => chunks.map((c) => (c as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '').join('');

describe('fake model server', () => {
  it('splits text into the asked number of chunks', () => {
    assert.deepEqual(splitChunks('abcdefgh', 4), ['ab', 'cd', 'ef', 'gh']);
    assert.deepEqual(splitChunks('ab', 5), ['a', 'b']);
  });

  it('streams an Anthropic answer with model, usage and a findings block', async () => {
    fake.answer({ text: 'Hello there', chunks: 2, model: 'm-answered', usage: { input: 7, output: 3 }, findings: [{ severity: 'low', message: 'x' }] });
    const res = await post('/v1/messages?beta=true', { model: 'm', stream: true, tools, messages: [] }, { 'x-api-key': 'k1' });
    const ev = events(await res.text()) as { type: string; delta?: { text?: string }; message?: { model: string; usage: { input_tokens: number } }; usage?: { output_tokens: number } }[];
    assert.equal(ev[0].message?.model, 'm-answered');
    assert.equal(ev[0].message?.usage.input_tokens, 7);
    const text = ev.filter((e) => e.type === 'content_block_delta').map((e) => e.delta?.text).join('');
    assert.match(text, /^Hello there\n\n```findings\n\[/);
    assert.equal(ev.find((e) => e.type === 'message_delta')?.usage?.output_tokens, 3);
    assert.equal(ev.at(-1)?.type, 'message_stop');
    const rec = fake.requests.at(-1)!;
    assert.equal(rec.headers['x-api-key'], 'k1');
    assert.equal(rec.main, true);
  });

  it('streams chat completions with a final usage chunk, responses events and Gemini chunks', async () => {
    fake.answer({ text: 'abcdef', chunks: 3, usage: { input: 5, output: 2 } });
    const chat = events(await (await post('/v1/chat/completions', { model: 'm', stream: true, tools, messages: [] })).text());
    assert.equal(chat.at(-1), '[DONE]');
    assert.deepEqual((chat.at(-2) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 5);
    assert.equal(chatText(chat), 'abcdef');

    fake.answer({ text: 'xyz', chunks: 3 });
    const resp = events(await (await post('/v1/responses', { model: 'm', stream: true, tools, input: [] })).text()) as { type: string; delta?: string; response?: { id?: string } }[];
    assert.equal(resp.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), 'xyz');
    assert.ok(resp.at(-1)?.type === 'response.completed' && resp.at(-1)?.response?.id);

    fake.answer({ text: 'gem', chunks: 3 });
    const gem = events(await (await post('/v1beta/models/g-1:streamGenerateContent?alt=sse', { contents: [], tools: [{ functionDeclarations: tools }] })).text()) as {
      candidates: { content: { parts: { text: string }[] }; finishReason?: string }[]; modelVersion: string }[];
    assert.equal(gem.map((g) => g.candidates[0].content.parts[0].text).join(''), 'gem');
    assert.equal(gem.at(-1)?.candidates[0].finishReason, 'STOP');
    assert.equal(gem[0].modelVersion, 'g-1');
  });

  it('answers errors in each wire format, with retry-after', async () => {
    fake.error({ status: 429, message: 'slow down', retryAfter: 3, times: 2 });
    const a = await post('/v1/messages', { model: 'm', stream: true, tools, messages: [] });
    assert.equal(a.status, 429);
    assert.equal(a.headers.get('retry-after'), '3');
    assert.deepEqual(await a.json(), { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    const g = await post('/v1beta/models/g:streamGenerateContent?alt=sse', { tools: [{ functionDeclarations: tools }] });
    assert.equal(((await g.json()) as { error: { status: string } }).error.status, 'RESOURCE_EXHAUSTED');
    assert.equal(fake.pending, 0);
  });

  it('holds a stream until released, and tells the test when the hold is reached', async () => {
    const held = fake.answer({ text: 'aabbccdd', chunks: 4, holdAfter: 2 });
    const res = await post('/v1/chat/completions', { model: 'm', stream: true, tools, messages: [] });
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    await held.reached;
    let got = '';
    while (!got.includes('"bb"')) got += new TextDecoder().decode((await reader.read()).value);
    assert.ok(!got.includes('"cc"'));
    held.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
    assert.ok(got.includes('"dd"') && got.includes('[DONE]'));
  });

  it('cuts a stream after k chunks', async () => {
    fake.answer({ text: 'aabbccdd', chunks: 4, cutAfter: 1 });
    const res = await post('/v1/chat/completions', { model: 'm', stream: true, tools, messages: [] });
    await assert.rejects(res.text());
    assert.equal(fake.requests.at(-1)?.served, 'cut after 1');
  });

  it('answers side requests without taking the scripted answer', async () => {
    const scripted = fake.answer({ text: 'the real answer' });
    const title = events(await (await post('/v1/chat/completions', { model: 'm', stream: true, messages: [] })).text());
    assert.equal(chatText(title), 'Fake title');
    assert.equal((await (await post('/v1/messages/count_tokens', {})).json() as { input_tokens: number }).input_tokens, 1);
    assert.equal((await fetch(`${fake.url}/v1/nothing`)).status, 404);
    assert.equal(fake.pending, 1);
    const main = events(await (await post('/v1/chat/completions', { model: 'm', stream: true, tools, messages: [] })).text());
    assert.equal(chatText(main), 'the real answer');
    assert.equal((await scripted.served).main, true);
    const seen = await fake.waitForRequest((r) => r.pathname === '/v1/nothing');
    assert.equal(seen.served, '404');
  });
});
