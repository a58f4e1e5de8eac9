/**
 * Records the session `npm run demo` replays when no agent provider is configured:
 * `.orchestrator/recordings/review/` (run with `node --import tsx scripts/record-demo.ts`).
 *
 * The repository's review workflow runs once, in a temporary copy of the repository (its files as
 * git lists them, node_modules linked, built), with the provider `reviewer` pointing at a loopback server
 * that speaks OpenAI chat completions and answers each specialist with the text below. The change
 * reviewed is the recording's own `change.patch` (input `patch`), so the prompts are the same
 * whenever the recording is replayed. Kept: the session's log.jsonl and the agent steps'
 * transcripts and prompts (what a replay reads), not the shell steps' logs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSession } from '../server/src/engine/sessions';

const repo = path.resolve(__dirname, '..');
const target = path.join(repo, '.orchestrator', 'recordings', 'review');
const PATCH = '.orchestrator/recordings/review/change.patch';

const ANSWERS: [RegExp, string][] = [
  [
    /security reviewer/,
    [
      'The change widens what the claude stream parser treats as an API error (`is_api_error_message`, `api_error_status`).',
      'No injection or path handling is touched. One small point: the text of the error goes into the step log as it came.',
      '',
      '```findings',
      '[{"severity": "low", "message": "The API error text from the tool is written to the log verbatim (run.note); it can echo part of the request. The log is masked for secrets, but keep such notes short.", "file": "server/src/agents/streams/claude.ts", "line": 89, "rule": "verbatim-error-text"}]',
      '```',
      '',
    ].join('\n'),
  ],
  [
    /performance reviewer/,
    [
      'No performance problem: the new checks read a few fields of each stream event, in constant time.',
      'The result path reads `api_error_status` once per event.',
      '',
      '```findings',
      '[{"severity": "info", "message": "An API error without a category now falls back to the text \'API error\'; a test for that branch would keep it from regressing.", "file": "server/src/agents/streams/claude.ts", "line": 88, "rule": "untested-branch"}]',
      '```',
      '',
    ].join('\n'),
  ],
  [/audit the reviews/, 'Both reviews hold. The security note is minor (the log is masked); the performance reviewer found no cost, only an untested branch. Nothing blocks the change.\n'],
];

async function main(): Promise<void> {
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
      const text = ANSWERS.find(([re]) => re.test(system))?.[1] ?? 'No comment.\n';
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of text.match(/[^\n]*\n?/g)!.filter(Boolean)) res.write(`data: ${JSON.stringify({ model: `${body.model}-2026-12`, choices: [{ delta: { content: piece } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: Math.round(raw.length / 4), completion_tokens: Math.round(text.length / 4) } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1`;

  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-record-demo-'));
  try {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (f.startsWith('.orchestrator/recordings/') && f !== PATCH) continue;
      if (!fs.existsSync(path.join(repo, f))) continue;
      fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      fs.copyFileSync(path.join(repo, f), path.join(copy, f));
    }
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'));
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: copy, stdio: 'ignore' }); // the unit tests run the built CLI
    fs.writeFileSync(path.join(copy, '.orchestrator', 'config.yaml'), `providers:\n  reviewer:\n    type: openai\n    base_url: ${url}\n    api_key_secret: REVIEWER_KEY\n    model: fake-reviewer-1\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, ORCHESTRATOR_SECRET_REVIEWER_KEY: 'sk-recording-not-a-real-key' };
    const started = await startSession(path.join(copy, '.orchestrator', 'workflows', 'review.yaml'), { patch: PATCH, agents: 'yes', task: 'the claude stream parser change' }, { repoRoot: copy, env, homeDir: copy });
    const state = await started.done;
    process.stdout.write(`recorded session ${state.id}: ${state.status}\n`);
    for (const id of state.order) process.stdout.write(`  ${id}: ${state.steps[id].status}${state.steps[id].reason ? ` (${state.steps[id].reason})` : ''}\n`);
    if (state.status !== 'succeeded') throw new Error('the recorded session did not succeed: not saved');

    for (const e of fs.readdirSync(target)) if (e !== 'change.patch') fs.rmSync(path.join(target, e), { recursive: true, force: true });
    fs.copyFileSync(started.paths.log, path.join(target, 'log.jsonl'));
    const steps = path.join(started.paths.dir, 'steps');
    for (const step of fs.readdirSync(steps)) {
      for (const f of fs.readdirSync(path.join(steps, step)).filter((n) => /\.(transcript\.jsonl|prompt\.md)$/.test(n))) {
        fs.mkdirSync(path.join(target, 'steps', step), { recursive: true });
        fs.copyFileSync(path.join(steps, step, f), path.join(target, 'steps', step, f));
      }
    }
    const leaked = execFileSync('grep', ['-rl', copy, target], { encoding: 'utf8' }).trim();
    if (leaked) throw new Error(`the recording names the temporary copy (${copy}): ${leaked}`);
  } catch (e) {
    if ((e as { status?: number }).status === 1) return; // grep found nothing
    throw e;
  } finally {
    srv.close();
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`record-demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
