/**
 * Transcripts and replay through the real engine: an OpenAI-compatible server on loopback answers
 * an agent step (after one 500) and an arbiter; every call is recorded, masked, per attempt. Then
 * the session is replayed with the server closed and the provider's key missing: same outputs,
 * same findings, no request. A prompt that differs fails clearly, or goes to the provider with
 * `live`; a replay can be replayed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startReplay } from '../../server/src/engine/replay';
import { resumeSession } from '../../server/src/engine/sessions';
import { readTranscript, stepTranscriptFile } from '../../server/src/engine/steps/transcript';
import { promptDifference } from '../../server/src/engine/steps/replaySource';
import { Masker } from '../../server/src/engine/secrets';
import { TranscriptRecorder } from '../../server/src/engine/steps/transcript';
import type { SessionState } from '../../server/src/engine/types';
import { exportSnapshot, importSnapshot } from '../../server/src/store/portable';
import { loadSession, sessionPaths } from '../../server/src/store/sessionStore';
import { cleanEnv, cleanupRepos, finish, makeRepo, runToRest, type Repo } from '../engine/helpers';

const KEY = 'sk-fake-key-0a1b2c3d4e';
const TOKEN = 'tok-Secret-9f8e7d6c5b';

interface ChatServer {
  url: string;
  requests: { system: string; user: string }[];
  close(): Promise<void>;
}

/** Chat completions, streamed: a 500 for the first review request, then answers by who asks. */
async function chatServer(): Promise<ChatServer> {
  const requests: ChatServer['requests'] = [];
  let reviews = 0;
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { messages: { role: string; content: string }[] };
      const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
      const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
      requests.push({ system, user });
      let chunks: string[];
      if (system.startsWith('You arbitrate')) chunks = ['Both looked.\n```decision\n', '{"severity": "medium", "status": "open", "reason": "only admins reach it"}\n```\n'];
      else {
        if (reviews++ === 0) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'overloaded' } }));
          return;
        }
        // The token is split between two chunks: the transcript must still mask it.
        chunks = [`Risky. I saw ${TOKEN.slice(0, 9)}`, `${TOKEN.slice(9)} in the code.\n`, '```findings\n[{"severity": "high", "message": "SQL from input", "file": "src/a.ts", "line": 3, "rule": "r1"}]\n```\n'];
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const c of chunks) res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: c } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 40, completion_tokens: 12 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1`, requests, close: () => new Promise((r) => srv.close(() => r())) };
}

const WORKFLOW = `name: replayable
inputs:
  target: { default: src/a.ts }
negotiate: { agent: judge }
agents:
  rev: { provider: fake, instructions: You review. }
  judge: { provider: fake, instructions: You arbitrate. }
steps:
  - id: prep
    run: echo "focus=$(cat focus.txt)" >> "$ORCHESTRATOR_OUTPUT"
  - id: review
    needs: prep
    agent: rev
    retry: { max_attempts: 2, backoff: 10ms }
    prompt: |
      Review \${{ inputs.target }}, focus on \${{ steps.prep.outputs.focus }}.
      Token: \${{ secrets.TOKEN }}
  - id: lint
    run: echo "::finding severity=low file=src/a.ts line=3 rule=r1::minor"
  - id: after
    needs: review
    run: echo "\${{ steps.review.outputs.text }}" | sed -n 1p
`;

function setup(url: string): Repo {
  const repo = makeRepo(WORKFLOW);
  fs.mkdirSync(repo.path('.orchestrator'), { recursive: true });
  fs.writeFileSync(repo.path('.orchestrator', 'config.yaml'), `providers:\n  fake:\n    type: openai\n    base_url: ${url}\n    api_key_secret: FAKE_KEY\n    model: m1\n`);
  fs.writeFileSync(repo.path('focus.txt'), 'injection\n');
  return repo;
}

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => cleanEnv({ ORCHESTRATOR_SECRET_TOKEN: TOKEN, ...extra });

function everyFile(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everyFile(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** What a replay must reproduce: statuses, outputs, attempts, findings and decisions. */
function result(s: SessionState): unknown {
  return {
    status: s.status,
    steps: s.order.map((id) => [id, s.steps[id].status, s.steps[id].attempt, s.steps[id].outputs, s.steps[id].agent?.usage, s.steps[id].agent?.model]),
    findings: s.findings.map((f) => [f.id, f.severity, f.status, f.file, f.line, f.rule, f.message, f.decision]),
  };
}

async function replay(repo: Repo, source: string, opts: { live?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<SessionState> {
  const started = await startReplay(source, { repoRoot: repo.root, homeDir: repo.home, env: opts.env ?? env({ ORCHESTRATOR_SECRET_TOKEN: 'another-token-value' }), snapshotEveryMs: 50, ...(opts.live ? { live: true } : {}) });
  return (await finish(repo, started)).state;
}

after(cleanupRepos);

describe('transcripts and replay', () => {
  it('records every call masked, per attempt; a replay without server or key gives the same outputs and findings', async () => {
    const srv = await chatServer();
    const repo = setup(srv.url);
    const orig = await runToRest(repo, {}, { env: env({ ORCHESTRATOR_SECRET_FAKE_KEY: KEY }) });
    await srv.close();
    assert.equal(orig.state.status, 'succeeded', JSON.stringify(orig.state.steps));
    assert.equal(orig.state.steps.review.attempt, 2);
    assert.equal(srv.requests.length, 3); // the 500, the answer, the arbiter
    const paths = sessionPaths(repo.root, orig.id);

    // Attempt 1: the call and its error; attempt 2: the call, the chunks (by line), the answer.
    const [a1] = readTranscript(stepTranscriptFile(paths, 'review', 1));
    assert.equal(a1.call.provider, 'fake');
    assert.equal(a1.call.round, 1);
    assert.equal(a1.call.prompt, 'Review src/a.ts, focus on injection.\nToken: ***\n');
    assert.match(a1.call.instructions ?? '', /^You review\.\n\n.*findings/s);
    assert.equal(a1.end?.type, 'error');
    assert.match(a1.end?.type === 'error' ? a1.end.message : '', /500/);
    const [a2] = readTranscript(stepTranscriptFile(paths, 'review', 2));
    // (How many reads the stream came in depends on the machine's load: the text, and that every
    // recorded chunk is whole lines, do not.)
    assert.equal(a2.chunks.map((c) => c.text).join(''), 'Risky. I saw *** in the code.\n```findings\n[{"severity": "high", "message": "SQL from input", "file": "src/a.ts", "line": 3, "rule": "r1"}]\n```\n');
    assert.ok(a2.chunks.every((c) => c.text.endsWith('\n')), JSON.stringify(a2.chunks));
    assert.ok(a2.chunks.every((c, i) => c.t >= 0 && (i === 0 || c.t >= a2.chunks[i - 1].t)));
    assert.equal(a2.end?.type, 'result');
    assert.deepEqual(a2.end?.type === 'result' && a2.end.usage, { inputTokens: 40, outputTokens: 12 });
    const arbiter = fs.readdirSync(path.join(paths.dir, 'steps', '%arbiter'));
    assert.deepEqual(arbiter, [`${orig.state.findings[0].id}.transcript.jsonl`]);
    assert.equal(orig.state.findings[0].decision?.reason, 'only admins reach it');
    // No secret, nor the piece of one, anywhere in the session.
    for (const f of everyFile(paths.dir)) {
      const text = fs.readFileSync(f, 'utf8');
      assert.ok(!text.includes(KEY) && !text.includes(TOKEN) && !text.includes(TOKEN.slice(0, 9)) && !text.includes(TOKEN.slice(9)), `${f} holds a secret`);
    }

    // Replay: the server is closed, FAKE_KEY is missing, TOKEN has another value.
    const rep = await replay(repo, orig.id);
    assert.deepEqual(result(rep), result(orig.state));
    assert.deepEqual(rep.replay, { of: orig.id, from: path.join('.orchestrator', 'sessions', orig.id) });
    assert.equal(srv.requests.length, 3);
    // The replay streamed into its own log and recorded its own transcripts.
    const rpaths = sessionPaths(repo.root, rep.id);
    assert.match(fs.readFileSync(rpaths.stepLog('review', 2), 'utf8'), /Risky\. I saw \*\*\* in the code\./);
    assert.equal(readTranscript(stepTranscriptFile(rpaths, 'review', 2))[0].call.replayOf, orig.id);

    // Snapshots carry the transcripts (the arbiter's too): an imported session replays.
    const other = makeRepo(WORKFLOW);
    fs.writeFileSync(other.path('focus.txt'), 'injection\n');
    const snap = path.join(other.root, 'snap.json');
    await exportSnapshot(repo.root, orig.id, snap);
    await importSnapshot(other.root, snap);
    const imported = sessionPaths(other.root, orig.id);
    assert.deepEqual(fs.readdirSync(path.join(imported.dir, 'steps', 'review')).filter((f) => f.endsWith('.transcript.jsonl')), ['1.transcript.jsonl', '2.transcript.jsonl']);
    assert.ok(fs.existsSync(path.join(imported.dir, 'steps', '%arbiter', arbiter[0])));
    assert.deepEqual(result(await replay(other, orig.id)), result(orig.state));

    // A resumed replay keeps replaying (the server is still closed): resume --from runs the review again as attempt 3.
    const resumed = await finish(repo, await resumeSession(rep.id, { repoRoot: repo.root, homeDir: repo.home, env: env(), snapshotEveryMs: 50, from: 'review' }));
    assert.equal(resumed.state.status, 'succeeded', JSON.stringify(resumed.state.steps.review));
    assert.equal(resumed.state.steps.review.attempt, 3);
    assert.equal(resumed.state.steps.review.outputs.text, orig.state.steps.review.outputs.text);

    // A replay of the replay.
    const rep2 = await replay(repo, rep.id);
    assert.deepEqual(result(rep2), result(orig.state));
    assert.equal(rep2.replay?.of, rep.id);
    // list/show see it as a replay (the summary), and a reload from the log keeps it.
    assert.equal(loadSession(repo.root, rep2.id).state.replay?.of, rep.id);
  });

  it('a prompt that differs fails clearly; with live it goes to the provider', async () => {
    const srv = await chatServer();
    try {
      const repo = setup(srv.url);
      const orig = await runToRest(repo, {}, { env: env({ ORCHESTRATOR_SECRET_FAKE_KEY: KEY }) });
      assert.equal(orig.state.status, 'succeeded');
      fs.writeFileSync(repo.path('focus.txt'), 'speed\n');
      const failed = await replay(repo, orig.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.steps.review.status, 'failed');
      assert.equal(failed.steps.review.attempt, 1, 'not retried');
      assert.equal(
        failed.steps.review.reason,
        `replay: the prompt of step review differs from the recording: first difference at line 1: recorded "Review src/a.ts, focus on injection.", now "Review src/a.ts, focus on speed."; run 'orchestrator replay ${orig.id} --live' to send it to the provider`,
      );
      const before = srv.requests.length;
      const live = await replay(repo, orig.id, { live: true, env: env({ ORCHESTRATOR_SECRET_FAKE_KEY: KEY }) });
      assert.equal(live.status, 'succeeded', JSON.stringify(live.steps.review));
      assert.equal(srv.requests.length, before + 1, 'the review went live; the arbiter matched the recording');
      assert.match(srv.requests[before].user, /focus on speed/);
      const t = readTranscript(stepTranscriptFile(sessionPaths(repo.root, live.id), 'review', 1))[0];
      assert.equal(t.call.replayOf, undefined);
    } finally {
      await srv.close();
    }
  });

  it('compares prompts line by line; *** in the recording matches any text', () => {
    assert.equal(promptDifference('a\nkey: ***\nc', 'a\nkey: other\nc'), undefined);
    assert.equal(promptDifference('a\nb', 'a\nb\nc'), 'first difference at line 3: recorded (no such line), now "c"');
    assert.equal(promptDifference('x *** y', 'x 1 z'), 'first difference at line 1: recorded "x *** y", now "x 1 z"');
  });

  it('the recorder takes a round: verify rounds go to the same file', () => {
    const repo = makeRepo();
    const file = repo.path('t.transcript.jsonl');
    const masker = new Masker([TOKEN]);
    for (const round of [1, 2]) {
      const r = new TranscriptRecorder(file, masker, round);
      r.call({ provider: 'p', prompt: `round ${round} ${TOKEN}` });
      r.chunk({ text: 'tool', note: true });
      r.chunk({ text: 'ok' });
      r.result({ text: 'ok' });
    }
    const calls = readTranscript(file);
    assert.deepEqual(calls.map((c) => [c.call.round, c.call.prompt, c.chunks.map((x) => [x.text, x.note ?? false]), c.end?.type]), [
      [1, 'round 1 ***', [['tool', true], ['ok', false]], 'result'],
      [2, 'round 2 ***', [['tool', true], ['ok', false]], 'result'],
    ]);
  });
});
