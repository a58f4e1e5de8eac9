/**
 * `orchestrator secrets set NAME` on a real terminal: the built CLI runs under a pseudo-terminal
 * (util-linux `script`), the test types only once the prompt is on the screen (waiting for the
 * prompt's text, never for time). What is typed is never echoed, Backspace deletes, a typo between
 * the two entries writes nothing, Ctrl-C cancels (exit 130) and writes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, runCli } from './cliProcess';
import { allFiles, gitTemp, modeOf, removeTemps, type GitTemp } from './setupHelpers';

const VALUE = 'tty-Secret-9f8e7d';
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The CLI under a pseudo-terminal; `type` sends keys once `waitFor` text has appeared on the screen. */
class Terminal {
  screen = '';
  private readonly child;
  readonly done: Promise<number | null>;
  private waiters: { text: string; from: number; resolve: () => void }[] = [];

  constructor(t: GitTemp, args: string[]) {
    this.child = spawn('script', ['-qec', [process.execPath, CLI, ...args].map(q).join(' '), '/dev/null'], { cwd: t.root, env: { ...t.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.screen += d;
      this.waiters = this.waiters.filter((w) => {
        if (!this.screen.includes(w.text, w.from)) return true;
        w.resolve();
        return false;
      });
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.screen += d));
    this.done = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Resolves when `text` is on the screen (a hang guard fails the test after 60 s). */
  waitFor(text: string): Promise<void> {
    if (this.screen.includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`'${text}' never appeared; screen: ${JSON.stringify(this.screen)}`)), 60_000);
      this.waiters.push({ text, from: 0, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  close(): void {
    this.child.stdin.end();
  }
}

before(() => assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`));
after(removeTemps);

describe('orchestrator secrets set on a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, () => {
  const repo = async (): Promise<GitTemp> => {
    const t = gitTemp('orch-sec-tty');
    assert.equal((await runCli(['init'], { cwd: t.root, env: t.env })).code, 0);
    return t;
  };

  it('asks twice without echo (Backspace deletes), and writes the value to the 0600 file only', async () => {
    const t = await repo();
    const term = new Terminal(t, ['secrets', 'set', 'TTYKEY']);
    await term.waitFor('Value of TTYKEY (hidden): ');
    term.type(`${VALUE}Q\u007f\r`);
    await term.waitFor('Again, to confirm: ');
    term.type(`${VALUE}\r`);
    const code = await term.done;
    assert.equal(code, 0, term.screen);
    assert.ok(!term.screen.includes(VALUE), `the value was echoed: ${JSON.stringify(term.screen)}`);
    assert.ok(!term.screen.includes('*'), 'not even asterisks (they tell its length)');
    assert.match(term.screen, /Saved secret TTYKEY in \.orchestrator\/secrets\/TTYKEY \(mode 0600, ignored by git\)\./);
    const file = path.join(t.root, '.orchestrator', 'secrets', 'TTYKEY');
    assert.equal(fs.readFileSync(file, 'utf8'), VALUE);
    assert.equal(modeOf(file), 0o600);
    for (const f of [...allFiles(t.root), ...allFiles(t.home)]) if (f !== file) assert.ok(!fs.readFileSync(f).includes(VALUE), `the value is in ${f}`);
  });

  it('two different entries write nothing (exit 2)', async () => {
    const t = await repo();
    const term = new Terminal(t, ['secrets', 'set', 'TTYKEY']);
    await term.waitFor('(hidden): ');
    term.type(`${VALUE}\r`);
    await term.waitFor('Again, to confirm: ');
    term.type(`${VALUE}x\r`);
    assert.equal(await term.done, 2, term.screen);
    assert.match(term.screen, /the two values differ: nothing was written/);
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator', 'secrets', 'TTYKEY')));
  });

  it('Ctrl-C cancels (exit 130) and writes nothing', async () => {
    const t = await repo();
    const term = new Terminal(t, ['secrets', 'set', 'TTYKEY']);
    await term.waitFor('(hidden): ');
    term.type('half-typed\u0003');
    assert.equal(await term.done, 130, term.screen);
    assert.match(term.screen, /cancelled: nothing was written/);
    assert.ok(!term.screen.includes('half-typed'));
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator', 'secrets', 'TTYKEY')));
    term.close();
  });
});
