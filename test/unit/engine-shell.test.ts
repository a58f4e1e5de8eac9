import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LineSplitter } from '../../server/src/engine/steps/lines';
import { Masker } from '../../server/src/engine/secrets';
import { runShellStep, shellArgs, type ShellStepOptions, type ShellStepResult } from '../../server/src/engine/steps/shell';
import { prepareScript, type Value } from '../../server/src/workflow/expressions/index';

const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;

let root: string;
let n = 0;
/** A fresh directory per test. */
function freshDir(): string {
  const d = path.join(root, `t${n++}`);
  fs.mkdirSync(d);
  return d;
}

interface Run {
  result: ShellStepResult;
  lines: { line: string; stream: 'stdout' | 'stderr' }[];
  log: string | undefined;
  dir: string;
}

async function run(script: string, extra: Partial<ShellStepOptions> = {}, dir = freshDir()): Promise<Run> {
  const lines: Run['lines'] = [];
  const logFile = path.join(dir, 'logs', 'step', '1.log');
  const result = await runShellStep({
    script,
    cwd: dir,
    env: { ...baseEnv, DIR: dir },
    logFile,
    onLine: (line, stream) => lines.push({ line, stream }),
    ...extra,
  });
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : undefined;
  return { result, lines, log, dir };
}

const texts = (r: Run, stream?: 'stdout' | 'stderr'): string[] => r.lines.filter((l) => stream === undefined || l.stream === stream).map((l) => l.line);

/**
 * Waits for a process to be gone; true when it is. The bound (about 30 s) only turns a process
 * that never dies into a failure: the processes the tests wait on sleep far longer than that.
 */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 1500 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

/** Whether a process is alive (a zombie counts as dead). */

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Live processes of a process group. */
function groupMembers(pgid: number): number[] {
  if (fs.existsSync('/proc/self/stat')) {
    const out: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
        if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }
  const ps = spawnSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '').map(Number).filter(alive);
}

const readPid = (dir: string, name: string): number => Number(fs.readFileSync(path.join(dir, name), 'utf8').trim());

/**
 * A script that starts a tree: a background sleep, a background grandchild that creates
 * `survived` once the test says the run has returned (the file `returned`: only a grandchild that
 * outlived the kill can see it), then a foreground sleep that would create `slept` if it were let finish.
 */
const TREE_SCRIPT = [
  'echo $$ > "$DIR/main.pid"',
  'sleep 300 & echo $! > "$DIR/bg.pid"',
  `bash -c 'echo $$ > "$DIR/gc.pid"; until [ -e "$DIR/returned" ]; do sleep 0.01; done; touch "$DIR/survived"' &`,
  'while [ ! -s "$DIR/gc.pid" ]; do sleep 0.01; done',
  'echo started',
  'sleep 30; touch "$DIR/slept"',
].join('\n');

/**
 * The run has returned (so says `returned`); every process of the tree is gone (waited for: a
 * SIGKILLed process may take a moment, and a surviving grandchild ends once it created `survived`);
 * the grandchild never created `survived`, and the foreground sleep was not let run to its end.
 */
async function assertTreeGone(dir: string): Promise<void> {
  fs.writeFileSync(path.join(dir, 'returned'), '');
  const pgid = readPid(dir, 'main.pid');
  for (const f of ['main.pid', 'bg.pid', 'gc.pid']) assert.equal(await gone(readPid(dir, f)), true, `${f} is still alive`);
  assert.equal(fs.existsSync(path.join(dir, 'survived')), false, 'the grandchild survived');
  assert.equal(fs.existsSync(path.join(dir, 'slept')), false, 'the step was let run to its end');
  // The rest of the group (a `sleep 0.01` of a loop) was signalled with it and may still be on its
  // way out on a busy machine: wait for the group to empty. The bound (10 s) stays well below the
  // sleeps of the tree (30 s, 300 s), so a process that survived the kill is still caught.
  for (let i = 0; i < 500 && groupMembers(pgid).length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(groupMembers(pgid), []);
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-shell-'));
});
after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

void describe('LineSplitter', () => {
  const split = (chunks: Buffer[], max = 1000): string[] => {
    const out: string[] = [];
    const s = new LineSplitter(max, (l) => out.push(l));
    for (const c of chunks) s.write(c);
    s.end();
    return out;
  };
  void it('splits lines across chunks, handles CRLF, a lone CR and a last line without newline', () => {
    assert.deepEqual(split([Buffer.from('a\r'), Buffer.from('\nb'), Buffer.from('c\n\nd\re\r\nlast')]), ['a', 'bc', '', 'd\re', 'last']);
    assert.deepEqual(split([Buffer.from('x\n')]), ['x']);
    assert.deepEqual(split([]), []);
  });
  void it('decodes UTF-8 split anywhere across chunks', () => {
    const text = 'héllo €uro 😀 ok\n';
    const bytes = Buffer.from(text);
    for (let i = 1; i < bytes.length; i++) {
      assert.deepEqual(split([bytes.subarray(0, i), bytes.subarray(i)]), ['héllo €uro 😀 ok'], `split at byte ${i}`);
    }
    assert.deepEqual(split([...bytes].map((b) => Buffer.from([b]))), ['héllo €uro 😀 ok']);
  });
  void it('splits long lines at maxLineLength without holding more than that', () => {
    const out: string[] = [];
    const s = new LineSplitter(100, (l) => out.push(l));
    let maxPending = 0;
    for (let i = 0; i < 10_000; i++) {
      s.write(Buffer.from('x'.repeat(37)));
      maxPending = Math.max(maxPending, s.pendingLength);
    }
    s.write(Buffer.from('\nnext\n'));
    s.end();
    assert.ok(maxPending <= 100, `held ${maxPending}`);
    assert.equal(out.length, 3700 + 1); // 370,000 x in pieces of 100, then 'next'
    assert.ok(out.slice(0, 3700).every((l) => l === 'x'.repeat(100)));
    assert.equal(out[3700], 'next');
    // Never splits a surrogate pair; a CRLF right at the limit gives no extra empty line.
    assert.deepEqual(split([Buffer.from('ab😀cd\n')], 3), ['ab', '😀c', 'd']);
    assert.deepEqual(split([Buffer.from('abc\r'), Buffer.from('\n')], 3), ['abc']);
  });
});

void describe('runShellStep', { concurrency: true }, () => {
  void it('runs bash like GitHub Actions does', () => {
    assert.deepEqual(shellArgs('bash', 'echo'), ['--noprofile', '--norc', '-eo', 'pipefail', '-c', 'echo']);
    assert.deepEqual(shellArgs('/bin/sh', 'echo'), ['-e', '-c', 'echo']);
  });

  void it('maps exit codes to outcomes', async () => {
    const ok = await run('true');
    assert.equal(ok.result.outcome, 'succeeded');
    assert.equal(ok.result.exitCode, 0);
    assert.equal(ok.result.signal, null);
    assert.equal(ok.result.error, undefined);
    assert.equal(ok.log, undefined, 'no output, no log file');
    const bad = await run('echo partial; exit 3');
    assert.equal(bad.result.outcome, 'failed');
    assert.equal(bad.result.exitCode, 3);
    const killed = await run('kill -USR1 $$');
    assert.equal(killed.result.outcome, 'failed');
    assert.equal(killed.result.exitCode, null);
    assert.equal(killed.result.signal, 'SIGUSR1');
  });

  void it('stops at the first failing command (-e) and in a pipeline (pipefail)', async () => {
    const e = await run('echo before\nfalse\necho after');
    assert.equal(e.result.outcome, 'failed');
    assert.equal(e.result.exitCode, 1);
    assert.deepEqual(texts(e), ['before']);
    const p = await run('false | true\necho after');
    assert.equal(p.result.outcome, 'failed');
    assert.deepEqual(texts(p), []);
  });

  void it('streams stdout and stderr lines, in order, into one log and onLine', async () => {
    // Order across the two pipes is the order the event loop sees them in: the script writes each
    // line only after the previous one was reported (onLine creates ack<n>), so it is unambiguous.
    const dir = freshDir();
    const seen: Run['lines'] = [];
    const onLine = (line: string, stream: 'stdout' | 'stderr'): void => {
      seen.push({ line, stream });
      fs.writeFileSync(path.join(dir, `ack${seen.length}`), '');
    };
    const ack = (n: number): string => `until [ -e "$DIR/ack${n}" ]; do sleep 0.01; done`;
    const r = await run(`echo out1; ${ack(1)}; echo err1 >&2; ${ack(2)}; echo out2; ${ack(3)}; echo err2 >&2; ${ack(4)}; echo out3`, { onLine, timeoutMs: 60_000 }, dir);
    assert.equal(r.result.outcome, 'succeeded');
    assert.deepEqual(seen, [
      { line: 'out1', stream: 'stdout' },
      { line: 'err1', stream: 'stderr' },
      { line: 'out2', stream: 'stdout' },
      { line: 'err2', stream: 'stderr' },
      { line: 'out3', stream: 'stdout' },
    ]);
    assert.equal(r.log, 'out1\nerr1\nout2\nerr2\nout3\n');
  });

  void it('reports lines as they come, not at exit', async () => {
    // The script cannot go past its first line until onLine has reported it (and created `go`):
    // lines reported only at exit would leave it waiting until its timeout.
    const dir = freshDir();
    const seen: string[] = [];
    const onLine = (line: string): void => {
      seen.push(line);
      if (line === 'first') fs.writeFileSync(path.join(dir, 'go'), '');
    };
    const r = await run('echo first; until [ -e "$DIR/go" ]; do sleep 0.01; done; echo second', { onLine, timeoutMs: 60_000 }, dir);
    assert.equal(r.result.outcome, 'succeeded', 'the first line was not reported while the step ran');
    assert.deepEqual(seen, ['first', 'second']);
  });

  void it('joins a line written in pieces, keeps a last line without newline, and strips CRLF', async () => {
    const r = await run(`printf 'ab'; sleep 0.1; printf 'c\\n'; printf 'win\\r\\nx\\r'; sleep 0.1; printf '\\ny'; printf 'tail'`);
    assert.equal(r.result.outcome, 'succeeded');
    assert.deepEqual(texts(r), ['abc', 'win', 'x', 'ytail']);
    assert.equal(r.log, 'abc\nwin\nx\nytail\n');
    const err = await run(`printf 'no newline on stderr' >&2`);
    assert.deepEqual(err.lines, [{ line: 'no newline on stderr', stream: 'stderr' }]);
  });

  void it('decodes multi-byte UTF-8 split across reads', async () => {
    // € is e2 82 ac, 😀 is f0 9f 98 80: each is cut between two writes with a pause between.
    const r = await run(`printf 'price \\xe2\\x82'; sleep 0.1; printf '\\xac, smile \\xf0\\x9f'; sleep 0.1; printf '\\x98\\x80\\n'`);
    assert.deepEqual(texts(r), ['price €, smile 😀']);
    assert.equal(r.log, 'price €, smile 😀\n');
  });

  void it('splits a 1 MB line at maxLineLength', async () => {
    const max = 64 * 1024;
    const r = await run(`head -c 1000000 /dev/zero | tr '\\0' a; echo; echo next`, { maxLineLength: max });
    assert.equal(r.result.outcome, 'succeeded');
    const lines = texts(r);
    assert.equal(lines.length, 16 + 1);
    assert.ok(lines.every((l) => l.length <= max));
    assert.equal(lines.slice(0, 16).join(''), 'a'.repeat(1_000_000));
    assert.equal(lines[16], 'next');
    assert.equal(r.log!.length, 1_000_000 + 16 + 'next\n'.length);
  });

  void it('masks a secret cut across the pieces of a very long line', async () => {
    const secret = 's3cr3t-long-line-value';
    const masker = new Masker([secret]);
    const b64 = Buffer.from(secret).toString('base64');
    // The secret (and its base64) straddle the 64 KiB cut of a 200,000-character line.
    const script = `printf '%s' "$(head -c 65530 /dev/zero | tr '\\0' a)"; printf '%s' "$SECRET"; printf '%s' "$(head -c 65500 /dev/zero | tr '\\0' b)"; printf '%s' "$B64"; head -c 68000 /dev/zero | tr '\\0' c; echo`;
    const r = await run(script, { env: { ...(process.env as Record<string, string>), SECRET: secret, B64: b64 }, mask: (l) => masker.mask(l), maskPrefix: (t) => masker.maskPrefix(t) });
    assert.equal(r.result.outcome, 'succeeded');
    const log = r.log ?? '';
    assert.ok(!log.includes(secret) && !log.includes(b64), 'the secret, or its base64, is in the log');
    assert.equal((log.match(/\*\*\*/g) ?? []).length, 2);
    assert.equal(log.replace(/\*\*\*/g, '').replace(/\n/g, '').length, 65530 + 65500 + 68000);
  });

  void it('masks every line before it is written or reported', async () => {
    const secret = 's3cr3t-value';
    const mask = (line: string): string => line.split(secret).join('***');
    const r = await run('echo "token=$TOKEN"; echo "$TOKEN" >&2; echo clean', { mask, env: { ...baseEnv, TOKEN: secret } });
    assert.deepEqual(texts(r, 'stdout'), ['token=***', 'clean']);
    assert.deepEqual(texts(r, 'stderr'), ['***']);
    assert.ok(!r.log!.includes(secret));
    assert.ok(!fs.readFileSync(path.join(r.dir, 'logs', 'step', '1.log')).includes(secret));
    assert.equal(spawnSync('grep', ['-r', secret, r.dir]).status, 1, 'the secret is somewhere on disk');
  });

  void it('passes env and cwd to the script, and only env', async () => {
    const dir = freshDir();
    const r = await run('echo "$FOO"; pwd; echo "${HOME-unset}"', { env: { PATH: baseEnv.PATH, FOO: 'bar baz' } }, dir);
    assert.equal(r.result.outcome, 'succeeded');
    assert.deepEqual(texts(r), ['bar baz', fs.realpathSync(dir), 'unset']);
  });

  void it('passes a script too long for one argument through a temporary file', async () => {
    const script = `# ${'x'.repeat(200_000)}\necho "big $FOO"\nfalse\necho never`;
    const r = await run(script, { env: { ...baseEnv, FOO: 'ok' } });
    assert.equal(r.result.outcome, 'failed', 'the flags (-e) apply too');
    assert.deepEqual(texts(r), ['big ok']);
  });

  void it('times out: kills the whole tree', async () => {
    // The timeout must come after the tree is built (`started`): on a busy machine building it
    // can take longer than the first timeout, so the timeout grows until it does.
    let r: Run;
    let timeoutMs = 300;
    for (;;) {
      r = await run(TREE_SCRIPT, { timeoutMs, killGraceMs: 2000 });
      if (texts(r).length > 0 || timeoutMs >= 20_000) break;
      fs.writeFileSync(path.join(r.dir, 'returned'), ''); // a run given up on: nothing of it may wait forever
      timeoutMs *= 4;
    }
    assert.equal(r.result.outcome, 'timed_out');
    assert.equal(r.result.signal, 'SIGTERM');
    assert.ok(r.result.durationMs >= timeoutMs - 50, `took ${r.result.durationMs} ms, the timeout is ${timeoutMs} ms`);
    assert.deepEqual(texts(r), ['started']);
    await assertTreeGone(r.dir);
  });

  void it('is cancelled by the abort signal: kills the whole tree', async () => {
    const ac = new AbortController();
    const dir = freshDir();
    const pending = run(TREE_SCRIPT, { signal: ac.signal, killGraceMs: 2000, onLine: () => ac.abort() }, dir);
    const r = await pending;
    assert.equal(r.result.outcome, 'cancelled');
    await assertTreeGone(dir);
    const early = await run('touch ran', { signal: AbortSignal.abort() });
    assert.equal(early.result.outcome, 'cancelled');
    assert.equal(fs.existsSync(path.join(early.dir, 'ran')), false);
  });

  void it('SIGKILLs a script that ignores SIGTERM after killGraceMs', async () => {
    // Stopped (cancel and timeout share the kill) once it says `ready`, so SIGTERM is ignored for sure.
    const ac = new AbortController();
    const r = await run(`trap '' TERM; echo $$ > "$DIR/main.pid"; sleep 300 & echo $! > "$DIR/bg.pid"; echo ready; sleep 30; touch "$DIR/slept"`, {
      signal: ac.signal,
      killGraceMs: 300,
      onLine: () => ac.abort(),
    });
    assert.equal(r.result.outcome, 'cancelled');
    assert.equal(r.result.signal, 'SIGKILL');
    assert.ok(r.result.durationMs >= 300, `took ${r.result.durationMs} ms, less than the grace`);
    // SIGKILL is delivered, but the process may need a moment to go: wait for it.
    assert.equal(await gone(readPid(r.dir, 'bg.pid')), true);
    assert.deepEqual(groupMembers(readPid(r.dir, 'main.pid')), []);
    assert.equal(fs.existsSync(path.join(r.dir, 'slept')), false, 'the step was let run to its end');
  });

  void it('kills background jobs left behind when the script exits', async () => {
    const r = await run('echo $$ > "$DIR/main.pid"; sleep 300 & echo $! > "$DIR/bg.pid"; (sleep 30; echo late) & echo done');
    assert.equal(r.result.outcome, 'succeeded');
    assert.deepEqual(texts(r), ['done'], 'the step waited for its background jobs');
    assert.equal(await gone(readPid(r.dir, 'bg.pid')), true);
    assert.deepEqual(groupMembers(readPid(r.dir, 'main.pid')), []);
  });

  void it('does not wait long for a process that left the group but holds the output open', async (t) => {
    if (spawnSync('setsid', ['--version']).status !== 0) return t.skip('no setsid binary');
    const dir = freshDir();
    try {
      const r = await run('setsid sleep 300 & echo $! > "$DIR/escaped.pid"; echo done', {}, dir);
      assert.equal(r.result.outcome, 'succeeded');
      assert.equal(alive(readPid(dir, 'escaped.pid')), true, 'the step waited for the escaped process to end');
      assert.deepEqual(texts(r), ['done']);
    } finally {
      try {
        process.kill(readPid(dir, 'escaped.pid'), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  void it('reports a missing shell in words', async () => {
    const r = await run('echo hi', { shell: 'no-such-shell-xyz' });
    assert.equal(r.result.outcome, 'failed');
    assert.equal(r.result.exitCode, null);
    assert.match(r.result.error ?? '', /^no-such-shell-xyz not found on PATH/);
    const abs = await run('echo hi', { shell: '/nonexistent/bin/bash' });
    assert.equal(abs.result.outcome, 'failed');
    assert.equal(abs.result.error, 'shell /nonexistent/bin/bash does not exist');
  });

  void it('reports a bad working directory in words', async () => {
    const dir = freshDir();
    const missing = path.join(dir, 'nope');
    const r = await run('echo hi', { cwd: missing }, dir);
    assert.equal(r.result.outcome, 'failed');
    assert.equal(r.result.error, `working directory ${missing} does not exist`);
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    const notDir = await run('echo hi', { cwd: file }, dir);
    assert.equal(notDir.result.outcome, 'failed');
    assert.equal(notDir.result.error, `working directory ${file} is not a directory`);
  });

  void it('fails the step, without throwing, when onLine throws', async () => {
    const r = await run('echo one; sleep 30; touch "$DIR/slept"', {
      killGraceMs: 500,
      onLine: () => {
        throw new Error('boom');
      },
    });
    assert.equal(r.result.outcome, 'failed');
    assert.match(r.result.error ?? '', /output handling failed: boom/);
    assert.equal(fs.existsSync(path.join(r.dir, 'slept')), false, 'the step was let run to its end');
  });

  void it('reports a log file that cannot be written, and still runs the step', async () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'blocker'), '');
    const r = await run('echo hi', { logFile: path.join(dir, 'blocker', 'x.log') }, dir);
    assert.equal(r.result.outcome, 'succeeded');
    assert.deepEqual(texts(r), ['hi']);
    assert.match(r.result.error ?? '', /^cannot write the log file .*blocker\/x\.log: /);
  });
});

void describe('runShellStep with prepareScript: expression values never become shell code', { concurrency: true }, () => {
  const values = ['$(touch pwned)', "'; touch pwned #", '`touch pwned`', '"; touch pwned; echo "', '$(touch pwned) && touch pwned', 'a\nb; touch pwned'];
  for (const value of values) {
    void it(JSON.stringify(value), async () => {
      const dir = freshDir();
      const ctx = { contexts: { inputs: { x: value } as Record<string, Value> } };
      const prepared = prepareScript('echo "${{ inputs.x }}"\necho ${{ inputs.x }}\nprintf "%s|" ${{ inputs.x }}; echo', ctx);
      assert.ok(!prepared.script.includes('touch'));
      const r = await run(prepared.script, { env: { ...baseEnv, ...prepared.env } }, dir);
      assert.equal(r.result.outcome, 'succeeded', r.result.error);
      assert.equal(fs.existsSync(path.join(dir, 'pwned')), false);
      const valueLines = value.split('\n');
      assert.deepEqual(texts(r).slice(0, valueLines.length), valueLines, 'the quoted echo prints the literal value');
      const words = value.split(/\s+/).filter((w) => w !== '');
      assert.deepEqual(texts(r).slice(valueLines.length), [words.join(' '), `${words.join('|')}|`], 'unquoted: only word splitting');
    });
  }
});
