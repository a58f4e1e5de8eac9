import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanReason, REASON_MAX_CHARS, retryableFromText, statusFromText, stripAnsi } from '../../server/src/agents/reasons';

describe('stripAnsi', () => {
  it('removes colours, cursor moves, OSC titles and hyperlinks, keeps the text', () => {
    assert.equal(stripAnsi('\u001b[31m\u001b[1mError:\u001b[22m bad\u001b[39m'), 'Error: bad');
    assert.equal(stripAnsi('\u001b]0;title\u0007a\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\b'), 'alinkb');
    assert.equal(stripAnsi('x\u001b[2K\u001b[1Gy\u001b(B\u001b=z\u009b31mw'), 'xyzw');
  });
});

describe('cleanReason', () => {
  it('drops the prompt that codex echoes on stderr, its banner and token count, and keeps the error', () => {
    const prompt = 'Review this diff.\nLook for bugs in the parser.\nReport findings as JSON.';
    const stderr = [
      'Reading prompt from stdin...',
      'OpenAI Codex v0.171.0 (research preview)',
      '--------',
      'workdir: /repo',
      'model: gpt-5',
      'provider: fake',
      'sandbox: read-only',
      'session id: 0199',
      '--------',
      'user',
      ...prompt.split('\n'),
      '\u001b[31mERROR:\u001b[0m unexpected status 401 Unauthorized: invalid api key',
      'tokens used',
      '0',
    ].join('\n');
    assert.equal(cleanReason(stderr, { prompt }), 'ERROR: unexpected status 401 Unauthorized: invalid api key');
  });

  it('prefers the error line over the stack frames and the lead-in of a Node crash', () => {
    const stderr = [
      'An unexpected critical error occurred:',
      'file:///opt/gemini/bundle/gemini.js:1234',
      '    throw err;',
      '    ^',
      '',
      'Error: Invalid auth method selected.',
      '    at validateAuth (file:///opt/gemini/bundle/gemini.js:10:5)',
      '    at async main (file:///opt/gemini/bundle/gemini.js:20:3)',
      '',
      'Node.js v22.1.0',
    ].join('\n');
    assert.equal(cleanReason(stderr), 'Error: Invalid auth method selected.');
  });

  it('keeps what stays on screen after carriage-return progress, and the last meaningful line when none states an error', () => {
    assert.equal(cleanReason('loading 10%\rloading 50%\rloading 100%\n'), 'loading 100%');
    assert.equal(cleanReason('\n\nstarting\nwaiting for the model\n\n'), 'waiting for the model');
    assert.equal(cleanReason('\u001b[2K\u001b[1G⠋ Thinking\n'), '');
  });

  it("reads claude's API error on stdout", () => {
    assert.equal(cleanReason('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow"}}\n'), 'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow"}}');
  });

  it('prefers an Error line to a weaker "failed" line, and the last of equals', () => {
    assert.equal(cleanReason('request failed\nError: first\nsomething\nError: second\ndone'), 'Error: second');
    assert.equal(cleanReason('ok\nthe upload failed\nbye'), 'the upload failed');
  });

  it('is one line of at most REASON_MAX_CHARS', () => {
    const r = cleanReason(`Error: ${'x'.repeat(1000)}\n`);
    assert.equal(r.length, REASON_MAX_CHARS);
    assert.ok(r.endsWith('…'));
    assert.ok(!r.includes('\n'));
    assert.equal(cleanReason('Error:   spaced\tout   words'), 'Error: spaced out words');
  });

  it('returns an empty string for nothing meaningful', () => {
    assert.equal(cleanReason(''), '');
    assert.equal(cleanReason('\n  \n----\n'), '');
  });
});

describe('statusFromText / retryableFromText', () => {
  const cases: [string, boolean, number | undefined][] = [
    ['API Error: 429 {"type":"error"}', true, 429],
    ['API Error: 529 Overloaded', true, 529],
    ['API Error: 500 {"type":"error","error":{"type":"api_error"}}', true, 500],
    ['unexpected status 502 Bad Gateway', true, 502],
    ['exceeded retry limit, last status: 429 Too Many Requests', true, 429],
    ['{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}', true, 429],
    ['[API Error: Resource has been exhausted (e.g. check quota).]', true, undefined],
    ['Overloaded', true, undefined],
    ['rate_limit_error: slow down', true, undefined],
    ['request to http://127.0.0.1:1/v1 failed, reason: connect ECONNREFUSED 127.0.0.1:1', true, undefined],
    ['read ECONNRESET', true, undefined],
    ['socket hang up', true, undefined],
    ['TypeError: terminated', true, undefined],
    ['stream disconnected before completion', true, undefined],
    ['API Error: 401 {"type":"error","error":{"type":"authentication_error"}}', false, 401],
    ['HTTP 403 Forbidden', false, 403],
    ['Invalid API key · Please run /login', false, undefined],
    ['Not logged in · Please run /login', false, undefined],
    ['API key not valid. Please pass a valid API key.', false, undefined],
    ['Invalid auth method selected.', false, undefined],
    ['Your credit balance is too low', false, undefined],
    ['invalid_request_error: prompt is too long', false, undefined],
    ['tokens used 500', false, undefined],
    ['', false, undefined],
  ];
  for (const [text, retryable, status] of cases) {
    it(`${JSON.stringify(text)} → ${retryable ? 'retryable' : 'not retryable'}${status ? ` (${status})` : ''}`, () => {
      const r = retryableFromText(text);
      assert.equal(r.retryable, retryable);
      assert.equal(r.status, status);
      assert.equal(statusFromText(text), status);
    });
  }
});

describe('cleanReason on real stderr (captured by the real-CLI suite)', () => {
  const stderr = (tool: string, name: string): string => readFileSync(join(__dirname, '..', 'fixtures', 'agent-streams', tool, `${name}.stderr`), 'utf8');

  it('gemini: the API error, not the stack trace, the inspected error object or the report path', () => {
    assert.equal(cleanReason(stderr('gemini-cli', 'error-401')), 'Error when talking to Gemini API _ApiError: {"error":{"code":401,"message":"invalid x-api-key","status":"UNAUTHENTICATED","details":[]}}');
    assert.equal(cleanReason(stderr('gemini-cli', 'error-429')), 'Error when talking to Gemini API RetryableQuotaError: rate limited');
    assert.match(cleanReason(stderr('gemini-cli', 'cut')), /SocketError: other side closed|TypeError: terminated/);
    assert.equal(retryableFromText(stderr('gemini-cli', 'error-401')).retryable, false);
    assert.equal(retryableFromText(stderr('gemini-cli', 'error-429')).retryable, true);
  });

  it('gemini: start-up noise alone gives nothing', () => {
    assert.equal(cleanReason(stderr('gemini-cli', 'ok-plain')), '');
  });

  it('codex in --json mode: empty stderr gives an empty reason', () => {
    assert.equal(cleanReason(stderr('codex', 'error-401')), '');
  });
});
