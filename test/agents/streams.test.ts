import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createStreamParser, STREAM_FORMATS, type StreamFormat, type StreamSummary } from '../../server/src/agents/streams';

const FIXTURES = join(__dirname, '..', 'fixtures', 'agent-streams');

interface Captured {
  summary: StreamSummary;
  texts: string[];
  tools: string[];
  notes: string[];
}

function feed(format: StreamFormat, lines: string[]): Captured {
  const texts: string[] = [];
  const tools: string[] = [];
  const notes: string[] = [];
  const p = createStreamParser(format, { text: (s) => texts.push(s), toolCall: (n) => tools.push(n), note: (s) => notes.push(s) });
  for (const l of lines) p.line(l);
  return { summary: p.end(), texts, tools, notes };
}

function fixture(tool: string, name: string): string[] {
  return readFileSync(join(FIXTURES, tool, `${name}.stdout`), 'utf8').split('\n').filter((l) => l !== '');
}

describe('claude stream-json', () => {
  it('streams partial-message deltas once, counts tools, reads usage, cost, turns and model', () => {
    const r = feed('claude-stream-json', fixture('claude-code', 'doc-partial-tools'));
    assert.deepEqual(r.texts, ['Let me ', 'look.', '\n\nTwo entries: ', 'README.md and src.']);
    assert.deepEqual(r.tools, ['Bash']);
    assert.ok(r.notes.includes('tool Bash: ls'), r.notes.join('|'));
    assert.deepEqual(r.summary, {
      text: 'Two entries: README.md and src.',
      model: 'claude-sonnet-4-5-20250929',
      usage: { inputTokens: 230, outputTokens: 29, cacheReadTokens: 40, costUsd: 0.0123 },
      turns: 2,
      toolCalls: 1,
    });
  });

  it('gives the same text and summary from whole assistant messages (no partial messages)', () => {
    const partial = feed('claude-stream-json', fixture('claude-code', 'doc-partial-tools'));
    const whole = feed('claude-stream-json', fixture('claude-code', 'doc-whole-tools'));
    assert.deepEqual(whole.texts, ['Let me look.', '\n\nTwo entries: README.md and src.']);
    assert.equal(whole.texts.join(''), partial.texts.join(''));
    assert.deepEqual(whole.summary, partial.summary);
  });

  it('reads a 429 API error (printed on stdout) as a retryable error with its status, not as the answer', () => {
    const r = feed('claude-stream-json', fixture('claude-code', 'doc-api-error-429'));
    assert.deepEqual(r.texts, []);
    assert.equal(r.summary.text, '');
    assert.equal(r.summary.error?.status, 429);
    assert.equal(r.summary.error?.retryable, true);
    assert.match(r.summary.error?.message ?? '', /^API Error: 429 /);
    assert.ok(r.notes.some((n) => /API retry 1\/1: rate_limit \(429\)/.test(n)), r.notes.join('|'));
  });

  it('reads a login/key failure as not retryable', () => {
    const r = feed('claude-stream-json', fixture('claude-code', 'doc-api-error-401'));
    assert.deepEqual(r.summary.error, { message: 'Invalid API key · Please run /login', retryable: false });
  });

  it('treats a stream without its result as cut (retryable), keeps the partial text, notes non-JSON lines', () => {
    const r = feed('claude-stream-json', fixture('claude-code', 'doc-cut'));
    assert.equal(r.summary.text, 'Half an ans');
    assert.equal(r.summary.error?.retryable, true);
    assert.match(r.summary.error?.message ?? '', /ended before its final result/);
    assert.ok(r.notes.includes('(node:123) Warning: something the tool printed that is not JSON'));
  });

  it('takes the error text from errors[] on an error subtype, and the status from api_retry when the text has none', () => {
    const r = feed('claude-stream-json', [
      '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":1,"retry_delay_ms":1,"error_status":503,"error":"server_error"}',
      '{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"errors":["stream ended"],"usage":{}}',
    ]);
    assert.deepEqual(r.summary.error, { message: 'stream ended', status: 503, retryable: true });
  });

  it('takes the status from api_error_status (2.1.332) when the text names none', () => {
    const r = feed('claude-stream-json', [
      '{"type":"assistant","message":{"id":"x","model":"<synthetic>","content":[{"type":"text","text":"Repeated server errors"}]},"parent_tool_use_id":null,"is_api_error_message":true,"api_error_status":503}',
      '{"type":"result","subtype":"success","is_error":true,"num_turns":1,"result":"Repeated server errors","api_error_status":503,"usage":{}}',
    ]);
    assert.deepEqual(r.texts, []);
    assert.equal(r.summary.model, undefined);
    assert.deepEqual(r.summary.error, { message: 'Repeated server errors', status: 503, retryable: true });
  });

  it('notes a subagent\'s text instead of streaming it as the answer', () => {
    const r = feed('claude-stream-json', [
      '{"type":"assistant","message":{"id":"m_sub","model":"claude-haiku","content":[{"type":"text","text":"sub says"},{"type":"tool_use","id":"t9","name":"Grep","input":{"pattern":"x"}}]},"parent_tool_use_id":"toolu_task"}',
      '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"main","usage":{"input_tokens":1,"output_tokens":1}}',
    ]);
    assert.deepEqual(r.texts, []);
    assert.ok(r.notes.includes('subagent: sub says'));
    assert.deepEqual(r.tools, ['Grep']);
    assert.equal(r.summary.text, 'main');
  });
});

describe('codex --json', () => {
  it('gives whole agent messages, tool items once each, the last cumulative usage, no model', () => {
    const r = feed('codex-json', fixture('codex', 'doc-tools'));
    assert.deepEqual(r.texts, ['Two entries: README.md and src.']);
    assert.deepEqual(r.tools, ['shell', 'apply_patch']);
    assert.ok(r.notes.includes('tool shell: bash -lc ls'));
    assert.ok(r.notes.some((n) => n.startsWith('thinking: **Listing files**')));
    assert.deepEqual(r.summary, {
      text: 'Two entries: README.md and src.',
      usage: { inputTokens: 24763, cacheReadTokens: 24448, outputTokens: 122, cacheReadInInput: true },
      turns: 1,
      toolCalls: 2,
    });
  });

  it('reports turn.failed, with the status and retryability of its message (401: not retryable)', () => {
    const r = feed('codex-json', fixture('codex', 'doc-turn-failed'));
    assert.equal(r.summary.error?.status, 401);
    assert.equal(r.summary.error?.retryable, false);
    assert.match(r.summary.error?.message ?? '', /^unexpected status 401 Unauthorized/);
    assert.ok(r.notes.some((n) => n.startsWith('error: Reconnecting... 1/2')));
  });

  it('reports 429 as retryable', () => {
    const r = feed('codex-json', fixture('codex', 'doc-429'));
    assert.deepEqual(r.summary.error, { message: 'exceeded retry limit, last status: 429 Too Many Requests', status: 429, retryable: true });
  });

  it('does not count a retry notice followed by a completed turn as a failure', () => {
    const r = feed('codex-json', fixture('codex', 'doc-retry-then-ok'));
    assert.equal(r.summary.error, undefined);
    assert.equal(r.summary.text, 'Done.');
  });

  it('treats an error event with no completed turn after it as the failure, and no events at all as a cut stream', () => {
    const a = feed('codex-json', ['{"type":"turn.started"}', '{"type":"error","message":"stream disconnected before completion: error sending request"}']);
    assert.equal(a.summary.error?.retryable, true);
    assert.match(a.summary.error?.message ?? '', /stream disconnected/);
    const b = feed('codex-json', ['Reading prompt from stdin...']);
    assert.match(b.summary.error?.message ?? '', /ended before its final result/);
    assert.deepEqual(b.notes, ['Reading prompt from stdin...']);
  });
});

describe('gemini stream-json', () => {
  it('streams assistant deltas (not the echoed prompt), counts tools and turns, reads stats and model', () => {
    const r = feed('gemini-stream-json', fixture('gemini-cli', 'doc-tools'));
    assert.deepEqual(r.texts, ['Let me ', 'look.', '\n\nTwo entries: ', 'README.md and src.']);
    assert.deepEqual(r.tools, ['run_shell_command', 'read_file']);
    assert.ok(r.notes.includes('tool read_file failed: File not found: missing.txt'));
    assert.deepEqual(r.summary, {
      text: 'Let me look.\n\nTwo entries: README.md and src.',
      model: 'gemini-2.5-pro',
      usage: { inputTokens: 350, outputTokens: 30, cacheReadTokens: 100, cacheReadInInput: true },
      turns: 3,
      toolCalls: 2,
    });
  });

  it('reads an error result: 429 / RESOURCE_EXHAUSTED retryable', () => {
    const r = feed('gemini-stream-json', fixture('gemini-cli', 'doc-error-429'));
    assert.equal(r.summary.error?.status, 429);
    assert.equal(r.summary.error?.retryable, true);
  });

  it('reads an error result with a code: 401 not retryable; a warning event is only a note', () => {
    const r = feed('gemini-stream-json', fixture('gemini-cli', 'doc-error-401'));
    assert.deepEqual(r.summary.error, { message: '[API Error: API key not valid. Please pass a valid API key.]', status: 401, retryable: false });
    assert.ok(r.notes.includes('warning: Loop detected, stopping execution'));
  });

  it('treats a stream without its result as cut', () => {
    const r = feed('gemini-stream-json', ['{"type":"init","model":"m"}', '{"type":"message","role":"assistant","content":"par","delta":true}']);
    assert.equal(r.summary.error?.retryable, true);
    assert.equal(r.summary.text, 'par');
  });
});

describe('opencode json', () => {
  it('gives whole text parts, counts tools and steps, sums tokens and cost over steps', () => {
    const r = feed('opencode-json', fixture('opencode', 'doc-tools'));
    assert.deepEqual(r.texts, ['Let me look.', '\n\nTwo entries: README.md and src.']);
    assert.deepEqual(r.tools, ['bash']);
    assert.equal(r.summary.text, 'Let me look.\n\nTwo entries: README.md and src.');
    assert.deepEqual(r.summary.usage, { inputTokens: 230, outputTokens: 29, cacheReadTokens: 15, costUsd: 0.003 });
    assert.equal(r.summary.turns, 2);
    assert.equal(r.summary.toolCalls, 1);
    assert.equal(r.summary.error, undefined);
  });

  it('reads an APIError with its status and isRetryable', () => {
    const r = feed('opencode-json', fixture('opencode', 'doc-error-429'));
    assert.deepEqual(r.summary.error, { message: 'Too Many Requests', status: 429, retryable: true });
  });

  it('reads a ProviderAuthError as not retryable', () => {
    const r = feed('opencode-json', fixture('opencode', 'doc-error-auth'));
    assert.deepEqual(r.summary.error, { message: 'Unauthorized: invalid api key', retryable: false });
  });
});

describe('every parser', () => {
  const junk = ['', 'not json', '[1,2]', '{"type":', '{"type":"unknown.event","x":1}', 'null', '{"type":"result","usage":null,"stats":5,"part":"x","item":7,"message":[]}', '\u001b[31mred warning\u001b[0m'];

  for (const format of STREAM_FORMATS) {
    it(`${format}: never throws, notes non-JSON lines without ANSI codes, ignores unknown events`, () => {
      const r = feed(format, junk);
      assert.ok(r.notes.includes('not json'));
      assert.ok(r.notes.includes('red warning'));
      assert.ok(!r.notes.some((n) => n.includes('unknown.event')));
      assert.equal(typeof r.summary.text, 'string');
    });

    it(`${format}: a sink that throws does not break the parser`, () => {
      const p = createStreamParser(format, { text: () => { throw new Error('sink'); }, toolCall: () => { throw new Error('sink'); }, note: () => { throw new Error('sink'); } });
      for (const l of junk) p.line(l);
      assert.equal(typeof p.end().toolCalls, 'number');
    });
  }
});

/**
 * Real outputs of the installed tools against the loopback fake model server (captured by the
 * real-CLI suite; see test/fixtures/agent-streams/README.md). The server answers "Hello from the
 * fake model. All good." in 4 chunks, as model "fake-model-answered", 123 tokens in and 45 out.
 */
describe('real outputs', () => {
  const HELLO = 'Hello from the fake model. All good.';
  const FORMAT: Record<string, StreamFormat> = { 'claude-code': 'claude-stream-json', codex: 'codex-json', 'gemini-cli': 'gemini-stream-json', opencode: 'opencode-json' };
  const real = (tool: string, name: string): Captured => feed(FORMAT[tool], fixture(tool, name));
  type Err = StreamSummary['error'];
  const errors: Record<string, Record<string, Err>> = {
    'claude-code': {
      'error-401': { message: 'Invalid API key · Fix external API key', status: 401, retryable: false },
      'error-429': { message: 'API Error: Request rejected (429) · rate limited', status: 429, retryable: true },
    },
    codex: {
      'error-401': { message: 'unexpected status 401 Unauthorized: invalid x-api-key, url: http://127.0.0.1:$PORT/v1/responses', status: 401, retryable: false },
      'error-429': { message: 'exceeded retry limit, last status: 429 Too Many Requests', status: 429, retryable: true },
      // codex loses the server's message and status on a 500.
      'error-500': { message: 'We’re currently experiencing high demand, which may cause temporary errors.', retryable: true },
      cut: { message: 'stream disconnected before completion: Transport error: network error: error decoding response body', retryable: true },
    },
    'gemini-cli': {
      'error-401': { message: '[API Error: {"error":{"code":401,"message":"invalid x-api-key","status":"UNAUTHENTICATED","details":[]}}]', status: 401, retryable: false },
      'error-500': { message: '[API Error: {"error":{"code":500,"message":"internal boom","status":"INTERNAL","details":[]}}]', status: 500, retryable: true },
      cut: { message: '[API Error: terminated]', retryable: true },
    },
    opencode: {
      'error-401': { message: 'invalid x-api-key', status: 401, retryable: false },
      'error-429': { message: 'rate limited', status: 429, retryable: true },
      'error-500': { message: 'internal boom', status: 500, retryable: true },
      cut: { message: 'Connection reset by server', retryable: true },
    },
  };

  for (const tool of Object.keys(FORMAT)) {
    it(`${tool}: a plain answer streams the whole text once, with usage and no error`, () => {
      const r = real(tool, 'ok');
      assert.equal(r.summary.text, HELLO);
      assert.equal(r.texts.join(''), HELLO);
      assert.equal(r.summary.error, undefined);
      assert.equal(r.summary.usage?.inputTokens, 123);
      assert.equal(r.summary.usage?.outputTokens, 45);
      assert.equal(r.summary.turns, 1);
      assert.equal(r.summary.toolCalls, 0);
      assert.equal(r.summary.model, tool === 'claude-code' || tool === 'gemini-cli' ? 'fake-model-answered' : undefined);
    });

    it(`${tool}: an answer after the tool's own retry (429, 500) is not an error`, () => {
      for (const name of ['retry-429-then-ok', 'retry-500-then-ok']) {
        const r = real(tool, name);
        assert.equal(r.summary.error, undefined, name);
        assert.equal(r.summary.text, HELLO, name);
      }
    });

    it(`${tool}: findings and a 300 KB prompt come through whole`, () => {
      assert.match(real(tool, 'findings').summary.text, /^Found one problem\.\n\n```findings\n/);
      assert.equal(real(tool, 'big-prompt').summary.text, HELLO);
    });

    for (const [name, expected] of Object.entries(errors[tool])) {
      it(`${tool}: ${name} gives ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(real(tool, name).summary.error, expected);
      });
    }
  }

  it('a tool turn: each tool counts once, text of both model calls streams once, usage sums both calls', () => {
    const FINAL = 'The folder holds notes.txt.';
    const expected: Record<string, { tool: string; note: string; texts: string[]; summary: Partial<StreamSummary> }> = {
      'claude-code': {
        tool: 'Bash', note: 'tool Bash: ls', texts: ['Let me look.', `\n\n${FINAL}`],
        summary: { text: FINAL, model: 'fake-model-answered', usage: { inputTokens: 100, outputTokens: 29, cacheReadTokens: 14, costUsd: 0.0009828 }, turns: 2 },
      },
      // codex gives no model, and its "turn" is the whole exec, whatever the number of model calls.
      codex: {
        tool: 'shell', note: 'tool shell: /bin/bash -lc ls', texts: [FINAL],
        summary: { text: FINAL, usage: { inputTokens: 100, cacheReadTokens: 14, outputTokens: 18, cacheReadInInput: true }, turns: 1 },
      },
      'gemini-cli': {
        tool: 'list_directory', note: 'tool list_directory: .', texts: ['Let me look.', `\n\n${FINAL}`],
        summary: { text: `Let me look.\n\n${FINAL}`, model: 'fake-model-answered', usage: { inputTokens: 100, outputTokens: 18, cacheReadTokens: 14, cacheReadInInput: true }, turns: 2 },
      },
      // opencode's input count leaves out the cached tokens (50 - 7 per call).
      opencode: {
        tool: 'read', note: 'tool read: $TMP/repo/notes.txt', texts: ['Let me look.', `\n\n${FINAL}`],
        summary: { text: `Let me look.\n\n${FINAL}`, usage: { inputTokens: 86, outputTokens: 18, cacheReadTokens: 14, costUsd: 0 }, turns: 2 },
      },
    };
    for (const [tool, e] of Object.entries(expected)) {
      const r = real(tool, 'tools');
      assert.deepEqual(r.tools, [e.tool], tool);
      assert.ok(r.notes.includes(e.note), `${tool}: ${r.notes.join('|')}`);
      assert.deepEqual(r.texts, e.texts, tool);
      assert.deepEqual(r.summary, { toolCalls: 1, ...e.summary }, tool);
    }
  });

  it('claude: deltas stream before the whole assistant message, which adds no text; usage and cost from the result', () => {
    const r = real('claude-code', 'ok');
    assert.deepEqual(r.texts, ['Hello fro', 'm the fak', 'e model. ', 'All good.']);
    assert.deepEqual(r.summary.usage, { inputTokens: 123, outputTokens: 45, cacheReadTokens: 0, costUsd: 0.001392 });
  });

  it('claude: a 500 is retryable with its status, and a retry notice is noted', () => {
    const e = real('claude-code', 'error-500').summary.error;
    assert.equal(e?.status, 500);
    assert.equal(e?.retryable, true);
    assert.match(e?.message ?? '', /^API Error: 500 internal boom\./);
    assert.ok(real('claude-code', 'retry-429-then-ok').notes.includes('API retry 1/2: rate_limit (429)'));
  });

  it('claude: a cut stream that claude recovered from by itself (non-streaming fallback) is an answer', () => {
    const r = real('claude-code', 'cut');
    assert.equal(r.summary.error, undefined);
    assert.equal(r.summary.text, 'This answer is cut in the middle of it.');
  });

  it('gemini: the echoed prompt is not answer text; a 429 is retryable as one line; a cut keeps the chunks before it', () => {
    const big = real('gemini-cli', 'big-prompt');
    assert.equal(big.texts.join(''), HELLO);
    const e = real('gemini-cli', 'error-429').summary.error;
    assert.equal(e?.retryable, true);
    assert.match(e?.message ?? '', /^\[API Error: rate limited Suggested retry after 1s\.\] Please wait/);
    assert.equal(real('gemini-cli', 'cut').summary.text, 'This answer is cut i');
  });

  it('codex: a retry notice is noted, not fatal', () => {
    const r = real('codex', 'retry-429-then-ok');
    assert.ok(r.notes.some((n) => n.startsWith('error: Reconnecting... 1/2')), r.notes.join('|'));
    assert.ok(r.notes.some((n) => n.startsWith('warning: Model metadata for `fake-model` not found')));
  });

  it('opencode: retries of a failing call are not counted as turns', () => {
    assert.equal(real('opencode', 'cut').summary.turns, undefined);
    assert.deepEqual(real('opencode', 'ok').summary.usage, { inputTokens: 123, outputTokens: 45, cacheReadTokens: 0, costUsd: 0 });
  });
});
