/**
 * Runs each installed agent CLI against the fake model server for a set of cases and saves what it
 * printed as fixtures for the stream parsers: test/fixtures/agent-streams/<tool>/<case>.{stdout,stderr,json}.
 * Temp paths, ports and the install cache are replaced by placeholders ($TMP, $PORT, $CACHE) so the
 * fixtures do not change from run to run in those. A script for people, not a test (the `hold` case
 * gives the tool a few seconds to print what it already has).
 *
 * Usage: node --import tsx test/agents-real/capture.ts [tool ...] [--case name,name]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeModelServer, type RecordedRequest } from '../helpers/fakeModels/index';
import { makeWorkdirs, runTool, toolBin } from './runTool';
import { AGENT_TOOLS, setupTool, type AgentTool } from './setup';

const OUT = path.join(import.meta.dirname, '..', 'fixtures', 'agent-streams');
const ANSWER = 'Hello from the fake model. All good.';

interface Case {
  name: string;
  script: (f: FakeModelServer) => void;
  plain?: boolean;
  promptBytes?: number;
  retries?: number;
  hold?: boolean;
  note: string;
}

const CASES: Case[] = [
  { name: 'ok', note: 'answer in 4 chunks, model "fake-model-answered", usage 123 in / 45 out, in a git repo',
    script: (f) => void f.answer({ text: ANSWER, chunks: 4, model: 'fake-model-answered', usage: { input: 123, output: 45 } }) },
  { name: 'ok-plain', plain: true, note: 'the same answer, run in a folder that is not a git repository',
    script: (f) => void f.answer({ text: ANSWER, chunks: 4, model: 'fake-model-answered', usage: { input: 123, output: 45 } }) },
  { name: 'findings', note: 'answer with a ```findings block',
    script: (f) => void f.answer({ text: 'Found one problem.', chunks: 3, findings: [{ severity: 'high', message: 'SQL built from user input', file: 'src/db.ts', line: 12, rule: 'sql-injection' }] }) },
  { name: 'big-prompt', promptBytes: 300_000, note: '300,000-byte prompt on stdin',
    script: (f) => void f.answer({ text: ANSWER, chunks: 2 }) },
  { name: 'error-401', note: 'every turn request answered 401', script: (f) => void f.error({ status: 401, message: 'invalid x-api-key', times: Infinity }) },
  { name: 'error-429', note: 'every turn request answered 429 with retry-after: 1', script: (f) => void f.error({ status: 429, message: 'rate limited', retryAfter: 1, times: Infinity }) },
  { name: 'error-500', note: 'every turn request answered 500', script: (f) => void f.error({ status: 500, message: 'internal boom', times: Infinity }) },
  { name: 'cut', note: 'every turn stream cut (socket destroyed) after 2 of 4 text chunks',
    script: (f) => void f.answer({ text: 'This answer is cut in the middle of it.', chunks: 4, cutAfter: 2, times: Infinity }) },
  { name: 'retry-429-then-ok', retries: 2, note: 'retries allowed (2): first turn request 429 (retry-after: 1), then an answer',
    script: (f) => {
      f.error({ status: 429, message: 'rate limited', retryAfter: 1 });
      f.answer({ text: ANSWER, chunks: 2 });
    } },
  { name: 'retry-500-then-ok', retries: 2, note: 'retries allowed (2): first turn request 500, then an answer',
    script: (f) => {
      f.error({ status: 500, message: 'internal boom' });
      f.answer({ text: ANSWER, chunks: 2 });
    } },
  { name: 'hold', hold: true, note: 'stream held after 2 of 4 chunks; stdout-before-release shows what the tool printed while the model was still streaming',
    script: () => undefined },
];

function scrub(text: string, root: string, port: string, cache: string): string {
  return text.split(root).join('$TMP').split(cache).join('$CACHE').split(`127.0.0.1:${port}`).join('127.0.0.1:$PORT');
}

async function capture(tool: AgentTool, c: Case, bin: string): Promise<void> {
  const fake = await FakeModelServer.start();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-capture-'));
  try {
    const dirs = makeWorkdirs(root);
    const home = path.join(root, 'home');
    fs.mkdirSync(home);
    const s = setupTool(tool, { baseUrl: fake.url, dir: home, retries: c.retries ?? 0 });
    c.script(fake);
    let beforeRelease: string | undefined;
    let stdoutSoFar = '';
    let sawChunk: () => void = () => undefined;
    const chunkSeen = new Promise<void>((r) => (sawChunk = r));
    if (c.hold) {
      const held = fake.answer({ text: 'First half, then the second half.', chunks: 4, holdAfter: 2 });
      void held.reached.then(async () => {
        await Promise.race([chunkSeen, new Promise((r) => setTimeout(r, 5000))]);
        beforeRelease = stdoutSoFar;
        held.release();
      });
    }
    const prompt = c.promptBytes ? `Say hello. ${'lorem ipsum '.repeat(Math.ceil(c.promptBytes / 12))}`.slice(0, c.promptBytes) : 'Say hello.';
    const r = await runTool({ bin, args: s.args, env: s.env, cwd: c.plain ? dirs.plain : dirs.repo, prompt, guardMs: 240_000,
      onLine: (l) => {
        stdoutSoFar += `${l}\n`;
        if (l.includes('First half') || l.includes('First') || l.includes('half')) sawChunk();
      } });
    const port = new URL(fake.url).port;
    const cache = path.dirname(path.dirname(path.dirname(path.dirname(bin))));
    const sc = (t: string) => scrub(t, root, port, cache);
    const dir = path.join(OUT, tool);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${c.name}.stdout`), sc(r.stdout));
    fs.writeFileSync(path.join(dir, `${c.name}.stderr`), sc(r.stderr));
    const reqs = fake.requests.map((q: RecordedRequest) => ({ method: q.method, url: q.url, main: q.main, served: q.served, bodyBytes: q.bodyBytes,
      stream: (q.body as { stream?: unknown } | undefined)?.stream, tools: Array.isArray((q.body as { tools?: unknown[] } | undefined)?.tools) ? (q.body as { tools: unknown[] }).tools.length : undefined }));
    const keyHeaders = fake.requests.map((q) => q.headers['x-api-key'] ?? q.headers.authorization ?? q.headers['x-goog-api-key']);
    const meta = {
      tool, case: c.name, note: c.note, exitCode: r.exitCode, signal: r.signal, argv: [path.basename(bin), ...s.args],
      cwd: c.plain ? 'plain folder (not git)' : 'git repository (git init, no commit)', promptBytes: Buffer.byteLength(prompt), retriesSetting: c.retries ?? 0,
      env: Object.keys(s.env).sort(), configFiles: s.files.map((f) => sc(f)), requests: reqs, keySentAs: [...new Set(keyHeaders.map((k) => String(k).replace(s.apiKey, '<apiKey>')))],
      ...(c.hold ? { stdoutBeforeRelease: sc(beforeRelease ?? '(hold never reached)') } : {}),
      msFromSpawnToExit: Math.round(r.ms),
    };
    fs.writeFileSync(path.join(dir, `${c.name}.json`), `${JSON.stringify(meta, null, 2)}\n`);
    console.log(`${tool} ${c.name}: exit ${r.exitCode}, ${reqs.length} request(s), ${Math.round(r.ms)} ms`);
  } finally {
    await fake.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf('--case');
  const only = ci >= 0 ? args.splice(ci, 2)[1].split(',') : undefined;
  const tools = (args.length ? args : [...AGENT_TOOLS]) as AgentTool[];
  await Promise.all(tools.map(async (tool) => {
    const bin = toolBin(tool);
    if (!bin) throw new Error(`${tool} is not installed: run node scripts/install-agent-clis.mjs`);
    for (const c of CASES.filter((x) => !only || only.includes(x.name))) await capture(tool, c, bin);
  }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
