import assert from 'node:assert/strict';
import { copyFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildInvocation, createCommandProvider, STDERR_TAIL_BYTES, type CommandProviderOptions } from '../../server/src/agents/command';
import { createPresetProvider, PRESETS } from '../../server/src/agents/presets';
import { ProviderError, type AgentChunk } from '../../server/src/agents/provider';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'agents', 'fake-agent');

let dir: string;

before(() => {
  // The fake agent goes on PATH (only the child's PATH) under a name no real tool has.
  dir = mkdtempSync(join(tmpdir(), 'agents-cmd-'));
  copyFileSync(FIXTURE, join(dir, 'fakeagent'));
  chmodSync(join(dir, 'fakeagent'), 0o755);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function provider(extra: Partial<CommandProviderOptions> = {}) {
  const PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
  const { env, ...rest } = extra;
  return createCommandProvider({ name: 'fake', command: ['fakeagent'], promptVia: 'stdin', ...rest, env: { PATH, ...env } });
}

function parseEcho(text: string): { argv: string[]; stdin: string } {
  const lines = text.trim().split('\n');
  return { argv: JSON.parse(lines[0].slice('ARGV:'.length)) as string[], stdin: JSON.parse(lines[1].slice('STDIN:'.length)) as string };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by a container's init) is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Polls `cond`; `ms` is a hang guard (the processes waited for never end on their own). */
async function waitFor(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

const signal = () => new AbortController().signal;

describe('command provider (real processes)', () => {
  it('sends the prompt on stdin, prepends instructions, appends model args', async () => {
    const p = provider({ command: ['fakeagent', '--print'], modelArgs: (m) => ['--model', m] });
    const chunks: AgentChunk[] = [];
    const res = await p.run({ prompt: 'héllo\nworld', model: 'm-1', instructions: 'Be brief.', signal: signal() }, (c) => chunks.push(c));
    const echo = parseEcho(res.text);
    assert.deepEqual(echo.argv, ['--print', '--model', 'm-1']);
    assert.equal(echo.stdin, 'Be brief.\n\nhéllo\nworld');
    assert.equal(res.model, 'm-1');
    // (How many chunks the output came in depends on the machine's speed; streaming itself is
    // checked event by event in 'streams chunks before the process ends'.)
    assert.equal(chunks.filter((c) => !c.note).map((c) => c.text).join(''), res.text);
    // stderr reaches the log as a note, never the answer.
    assert.deepEqual(chunks.filter((c) => c.note).map((c) => c.text), ['[stderr]\nfake agent: done\n']);
  });

  it('substitutes {prompt} and {model} in arguments (no shell), instructions via a flag', async () => {
    const p = provider({ command: ['fakeagent', '-p', '{prompt}', '--model={model}'], promptVia: 'arg', instructionsVia: { flag: '--system' } });
    const prompt = `it's "$HOME" && rm -rf / ; \`x\``;
    const res = await p.run({ prompt, model: 'big', instructions: 'sys', signal: signal() }, () => undefined);
    const echo = parseEcho(res.text);
    assert.deepEqual(echo.argv, ['-p', prompt, '--model=big', '--system', 'sys']);
    assert.equal(echo.stdin, '');
  });

  it('appends the prompt as the last argument when no {prompt} is given', async () => {
    const p = provider({ command: ['fakeagent', 'exec'], promptVia: 'arg', modelArgs: (m) => ['-m', m] });
    const res = await p.run({ prompt: '--looks-like-a-flag', model: 'o3', signal: signal() }, () => undefined);
    assert.deepEqual(parseEcho(res.text).argv, ['exec', '-m', 'o3', '--looks-like-a-flag']);
  });

  it('streams chunks before the process ends', async () => {
    const gate = join(dir, 'gate');
    const p = provider({ env: { FAKE_MODE: 'gate', FAKE_GATE: gate } });
    const seen: string[] = [];
    const res = await p.run({ prompt: 'x', signal: signal() }, (c) => {
      seen.push(c.text);
      // The fake only finishes after it sees the gate file: if chunks were buffered until exit, this would hang.
      if (seen.join('').includes('first')) writeFileSync(gate, '');
    });
    assert.equal(res.text, 'first\nsecond\n');
    assert.ok(seen.join('').startsWith('first'));
  });

  it('decodes UTF-8 split across reads', async () => {
    // The fake writes the next piece only once this reader reported the previous chunk (ack.<n>),
    // so each write is a read of its own, cut inside a character.
    const ack = join(dir, 'ack');
    const p = provider({ env: { FAKE_MODE: 'utf8', FAKE_ACK: ack } });
    const chunks: string[] = [];
    const res = await p.run({ prompt: 'x', signal: signal() }, (c) => {
      chunks.push(c.text);
      writeFileSync(`${ack}.${chunks.length}`, '');
    });
    assert.equal(res.text, 'héllo €uro 😀 done');
    assert.deepEqual(chunks, ['h', 'éllo ', '€uro ', '😀 done']);
  });

  it('missing binary: non-retryable, says what to do', async () => {
    const p = createCommandProvider({ name: 'codex', command: ['codex', 'exec'], promptVia: 'arg', env: { PATH: join(dir, 'nothing-here') } });
    await assert.rejects(p.run({ prompt: 'x', signal: signal() }, () => undefined), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.message, "codex not found on PATH: install it or configure provider 'codex' in .orchestrator/config.yaml (command:)");
      assert.equal(e.retryable, false);
      return true;
    });
  });

  it('non-zero exit: one clean line with the tool\'s error and the exit code, not retryable', async () => {
    const p = provider({ env: { FAKE_MODE: 'fail', FAKE_EXIT: '3', FAKE_STDERR_BYTES: String(3 * STDERR_TAIL_BYTES), FAKE_STDERR: 'Error: invalid API key' } });
    await assert.rejects(p.run({ prompt: 'x', signal: signal() }, () => undefined), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.message, "provider 'fake': Error: invalid API key (fakeagent exited with code 3)");
      assert.equal(e.retryable, false);
      return true;
    });
  });

  for (const stderr of ['Error: 429 Too Many Requests', 'rate limit reached for requests', 'API Error: Overloaded']) {
    it(`non-zero exit with "${stderr}" is retryable`, async () => {
      const p = provider({ env: { FAKE_MODE: 'fail', FAKE_EXIT: '1', FAKE_STDERR: stderr } });
      await assert.rejects(p.run({ prompt: 'x', signal: signal() }, () => undefined), (e: unknown) => {
        assert.ok(e instanceof ProviderError);
        assert.equal(e.retryable, true);
        assert.ok(e.message.includes(stderr));
        return true;
      });
    });
  }

  it('abort kills the process tree', async () => {
    const pidFile = join(dir, 'pid');
    const childPidFile = join(dir, 'child-pid');
    const p = provider({ env: { FAKE_MODE: 'sleep', FAKE_PIDFILE: pidFile, FAKE_CHILD_PIDFILE: childPidFile } });
    const ac = new AbortController();
    const run = p.run({ prompt: 'x', signal: ac.signal }, (c) => {
      if (c.text.includes('sleeping')) ac.abort();
    });
    await assert.rejects(run, (e: unknown) => e instanceof ProviderError && !e.retryable && /cancelled/.test(e.message));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const childPid = Number(readFileSync(childPidFile, 'utf8'));
    assert.ok(await waitFor(() => !isAlive(pid)), `agent ${pid} still running`);
    assert.ok(await waitFor(() => !isAlive(childPid)), `agent's child ${childPid} still running`);
  });

  it('an already-aborted signal does not start the program', async () => {
    const pidFile = join(dir, 'pid-never');
    const p = provider({ env: { FAKE_PIDFILE: pidFile } });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(p.run({ prompt: 'x', signal: ac.signal }, () => undefined), ProviderError);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(pidFile), false);
  });

  it('timeout kills it and fails retryably', async () => {
    // The fake writes its pid as it starts: on a busy machine starting can take longer than the
    // first timeout, so the timeout grows until the fake was up before it.
    const pidFile = join(dir, 'pid-timeout');
    for (let ms = 300; ; ms *= 4) {
      const p = provider({ timeoutMs: ms, env: { FAKE_MODE: 'sleep', FAKE_PIDFILE: pidFile } });
      const shown = ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
      await assert.rejects(p.run({ prompt: 'x', signal: signal() }, () => undefined), (e: unknown) => e instanceof ProviderError && e.retryable && e.message.includes(`did not finish within ${shown} and was killed`));
      if (existsSync(pidFile) || ms >= 20_000) break;
    }
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(await waitFor(() => !isAlive(pid)));
  });

  it('a preset provider runs with overrides (fake binary in place of the tool)', async () => {
    // (The fake prints plain text, so the preset's stream-json parser is turned off here.)
    const p = createPresetProvider('claude-code', { command: ['fakeagent', '-p'], output: undefined, env: { PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` } });
    assert.equal(p.name, 'claude-code');
    const res = await p.run({ prompt: 'hi', model: 'sonnet', instructions: 'sys', signal: signal() }, () => undefined);
    const echo = parseEcho(res.text);
    assert.deepEqual(echo.argv, ['-p', '--model', 'sonnet', '--append-system-prompt', 'sys']);
    assert.equal(echo.stdin, 'hi');
  });
});

describe('presets (argv only, no tools needed)', () => {
  const req = { prompt: 'fix the bug', model: 'MODEL', instructions: 'Be terse.' };
  const cases: Record<string, { file: string; args: string[]; stdin: string; promptFile?: string }> = {
    'claude-code': { file: 'claude', args: ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model', 'MODEL', '--append-system-prompt', 'Be terse.'], stdin: 'fix the bug' },
    codex: { file: 'codex', args: ['exec', '--json', '--skip-git-repo-check', '-m', 'MODEL', '-'], stdin: 'Be terse.\n\nfix the bug' },
    gemini: { file: 'gemini', args: ['--output-format', 'stream-json', '--skip-trust', '-m', 'MODEL'], stdin: 'Be terse.\n\nfix the bug' },
    opencode: { file: 'opencode', args: ['run', '--format', 'json', '-m', 'MODEL'], stdin: 'Be terse.\n\nfix the bug' },
    aider: { file: 'aider', args: ['--yes-always', '--no-auto-commits', '--no-pretty', '--message-file', '{promptFile}', '--model', 'MODEL'], stdin: '', promptFile: 'Be terse.\n\nfix the bug' },
  };
  for (const [name, expected] of Object.entries(cases)) {
    it(`${name}`, () => {
      assert.deepEqual(buildInvocation(name, PRESETS[name], req), expected);
      assert.match(PRESETS[name].source, /^https:\/\//);
    });
  }

  it('covers exactly the five presets', () => {
    assert.deepEqual(Object.keys(PRESETS).sort(), Object.keys(cases).sort());
  });

  it('no preset puts the prompt in an argument: a 300 KB prompt and 200 KB of instructions build for every one', () => {
    for (const name of Object.keys(PRESETS)) {
      const inv = buildInvocation(name, PRESETS[name], { prompt: 'p'.repeat(300_000), instructions: 'i'.repeat(200_000) });
      assert.ok(inv.args.every((a) => a.length < 1000), name);
      assert.equal((inv.stdin || inv.promptFile || '').length, 500_002, `${name}: instructions too long for a flag go before the prompt`);
    }
  });

  it('without a model there are no model args', () => {
    assert.deepEqual(buildInvocation('codex', PRESETS.codex, { prompt: 'p' }).args, ['exec', '--json', '--skip-git-repo-check', '-']);
    assert.deepEqual(buildInvocation('x', { command: ['x', '--model', '{model}', 'y'], promptVia: 'stdin' }, { prompt: 'p' }).args, ['y']);
  });

  it('a default model (the config\'s model:) and extra args (args:) go in', () => {
    assert.deepEqual(buildInvocation('g', { ...PRESETS.gemini, defaultModel: 'gemini-x', args: ['--debug'] }, { prompt: 'p' }).args, ['--output-format', 'stream-json', '--skip-trust', '-m', 'gemini-x', '--debug']);
  });

  it('a prompt over 128 KiB as an argument is refused, naming the provider and the limit', () => {
    assert.throws(() => buildInvocation('mine', { command: ['t'], promptVia: 'arg' }, { prompt: 'é'.repeat(70_000) }), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.equal(e.retryable, false);
      assert.match(e.message, /^provider 'mine': the prompt is 137 KiB, over the 128 KiB one command-line argument may hold; set prompt: stdin/);
      return true;
    });
  });

  it('unknown preset names the known ones', () => {
    assert.throws(() => createPresetProvider('cursor'), /unknown agent preset 'cursor': expected one of claude-code, codex, gemini, opencode, aider/);
  });
});

describe('aider: the prompt in a private file', () => {
  it('the file holds the prompt while the tool runs (mode 0600) and is gone after', async () => {
    const p = createPresetProvider('aider', { command: ['bash', '-c', 'f="$1"; stat -c %a "$f"; cat "$f"; echo; echo "$f"', 'aider', '{promptFile}'], env: {} });
    const res = await p.run({ prompt: 'fix it', instructions: 'carefully', signal: signal() }, () => undefined);
    const [mode, ...rest] = res.text.trim().split('\n');
    const file = rest.pop()!;
    assert.equal(mode, '600');
    assert.equal(rest.join('\n'), 'carefully\n\nfix it');
    assert.equal(existsSync(file), false);
  });
});
