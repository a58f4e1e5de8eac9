/**
 * Smoke tests of the real agent CLIs themselves (not our engine): each installed tool, isolated in a
 * temp HOME and pointed at the fake model server, takes its prompt on stdin and prints the server's
 * answer in its structured stdout, in a git repository and in a plain folder, with a 300 KB prompt;
 * it sends its own key and nothing else; claude and gemini print streamed text before the model
 * has finished (the fake server holds the stream until the tool printed it).
 * Run through test/agents-real/run.ts, which installs the tools and puts their paths in the env.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { useTool } from './toolSuite';
import { answerText, streamedDelta } from './answerText';
import { makeWorkdirs, runTool } from './runTool';
import { AGENT_TOOLS, setupTool, type AgentTool } from './setup';

const KEY_HEADER: Record<AgentTool, (h: Record<string, unknown>) => unknown> = {
  'claude-code': (h) => h['x-api-key'],
  codex: (h) => h.authorization,
  'gemini-cli': (h) => h['x-goog-api-key'],
  opencode: (h) => h.authorization,
};
const CREDENTIAL_HEADERS = ['x-api-key', 'authorization', 'x-goog-api-key', 'api-key', 'proxy-authorization'];

for (const tool of AGENT_TOOLS) {
  describe(`${tool} (real CLI)`, () => {
    const t = useTool(tool, 'agents-real');
    const bin = t.bin;

    /** A fresh HOME and work folders for one run, the tool set up in them. */
    function prepare(key: string) {
      const dir = t.nextDir();
      const dirs = makeWorkdirs(dir);
      const home = path.join(dir, 'home');
      fs.mkdirSync(home);
      return { ...dirs, setup: setupTool(tool, { baseUrl: t.fake.url, dir: home, apiKey: key }) };
    }

    for (const where of ['repo', 'plain'] as const) {
      it(`answers a prompt given on stdin (${where === 'repo' ? 'git repository' : 'plain folder'})`, async () => {
        const key = `key-${tool}-${where}`;
        const { setup, repo, plain } = prepare(key);
        const text = `Reply ${tool} ${where}: all clear.`;
        const served = t.fake.answer({ text, chunks: 3, usage: { input: 21, output: 8 } }).served;
        const first = t.fake.requests.length;
        const r = await runTool({ bin: bin!, args: setup.args, env: setup.env, cwd: where === 'repo' ? repo : plain, prompt: `Say hello (${where}).` });
        assert.equal(r.exitCode, 0, `exit ${r.exitCode}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`);
        assert.equal(answerText(tool, r.stdout), text);
        const main = await served;
        assert.match(JSON.stringify(main.body), new RegExp(`Say hello \\(${where}\\)`));
        // Only this run's own key went out, in the tool's own header, and no other credential header.
        for (const q of t.fake.requests.slice(first)) {
          const sent = String(KEY_HEADER[tool](q.headers));
          assert.ok(sent.endsWith(key), `${q.url}: key sent as ${sent}`);
          const creds = CREDENTIAL_HEADERS.filter((h) => q.headers[h] !== undefined);
          assert.equal(creds.length, 1, `${q.url} carries ${creds.join(', ')}`);
        }
      });
    }

    it('reads a 300 KB prompt from stdin whole', async () => {
      const { setup, repo } = prepare(`key-${tool}-big`);
      const tail = `END-OF-PROMPT-${tool}`;
      const prompt = `Summarize. ${'lorem ipsum '.repeat(25_000)}${tail}`;
      assert.ok(Buffer.byteLength(prompt) > 300_000);
      const served = t.fake.answer({ text: 'Summary: lorem.' }).served;
      const r = await runTool({ bin: bin!, args: setup.args, env: setup.env, cwd: repo, prompt });
      assert.equal(r.exitCode, 0, r.stdout.slice(-2000) + r.stderr.slice(-2000));
      assert.equal(answerText(tool, r.stdout), 'Summary: lorem.', `stdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}\nrequests: ${t.fake.requests.slice(-3).map((q) => `${q.url} ${q.served} ${q.bodyBytes}`).join(', ')}`);
      const main = await served;
      assert.ok(JSON.stringify(main.body).includes(tail), 'the end of the prompt reached the model');
      assert.ok(main.bodyBytes > 300_000);
    });

    if (tool === 'claude-code' || tool === 'gemini-cli') {
      it('prints streamed text while the model is still answering', async () => {
        const { setup, repo } = prepare(`key-${tool}-hold`);
        const held = t.fake.answer({ text: 'AAAA-BBBB-CCCC-DDDD', chunks: 4, holdAfter: 2 });
        let streamed = '';
        let sawFirst!: () => void;
        const firstPrinted = new Promise<void>((r) => (sawFirst = r));
        let releasedBeforeEnd = false;
        void firstPrinted.then(() => {
          releasedBeforeEnd = true;
          held.release();
        });
        const r = await runTool({ bin: bin!, args: setup.args, env: setup.env, cwd: repo, prompt: 'Stream please.',
          onLine: (l) => {
            const d = streamedDelta(tool, l);
            if (d === undefined) return;
            streamed += d;
            if (streamed.includes('AAAA')) sawFirst();
          } });
        // The tool printed the first chunk while the server still held the rest: only then was it released.
        assert.ok(releasedBeforeEnd);
        assert.equal(r.exitCode, 0, r.stdout.slice(-2000) + r.stderr.slice(-2000));
        assert.equal(streamed, 'AAAA-BBBB-CCCC-DDDD');
      });
    }
  });
}
