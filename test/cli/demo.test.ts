/**
 * `npm run demo` without a provider: scripts/demo.mjs and the built CLI replay the committed
 * recording (.orchestrator/recordings/review) in a temporary copy of the repository's review setup.
 * The copy is small (a few source files, one unit test) so that lint, typecheck and the tests,
 * which run for real in a replay, take seconds; the recording, the workflow, its prompts and the
 * demo script are the repository's own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { cliEnv, REPO_ROOT } from './cliProcess';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function demoCopy(): { root: string; home: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-demo-'));
  made.push(base);
  const root = path.join(base, 'repo');
  const home = path.join(base, 'home');
  fs.mkdirSync(home);
  for (const f of ['.orchestrator/workflows', '.orchestrator/prompts', '.orchestrator/recordings', 'scripts/demo.mjs', 'scripts/eslint-sarif.cjs', 'eslint.config.mjs', 'tsconfig.json', 'package.json']) {
    fs.cpSync(path.join(REPO_ROOT, f), path.join(root, f), { recursive: true });
  }
  const write = (f: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  };
  write('server/src/add.ts', 'export function add(a: number, b: number): number {\n  return a + b; // TODO: overflow?\n}\n');
  write('client/src/index.ts', "import { add } from '../../server/src/add';\n\nexport const three = add(1, 2);\n");
  write('test/unit/add.test.ts', "import assert from 'node:assert/strict';\nimport { it } from 'node:test';\nimport { add } from '../../server/src/add';\n\nit('adds', () => assert.equal(add(1, 2), 3));\n");
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.mkdirSync(path.join(root, 'server', 'out'), { recursive: true });
  for (const f of fs.readdirSync(path.join(REPO_ROOT, 'server', 'out'))) fs.symlinkSync(path.join(REPO_ROOT, 'server', 'out', f), path.join(root, 'server', 'out', f));
  return { root, home };
}

describe('npm run demo without a provider', () => {
  it('replays the recorded review: agent findings from the recording, labelled as a replay, exit 0', () => {
    const { root, home } = demoCopy();
    const env = cliEnv(home);
    const demo = spawnSync(process.execPath, ['scripts/demo.mjs'], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(demo.status, 0, `${demo.stdout}\n${demo.stderr}`);
    assert.match(demo.stdout, /^No agent provider named 'reviewer' is configured, so this is a REPLAY/);
    assert.match(demo.stderr, /orchestrator: replay of session \d{8}-\d{6}-\w+: agent answers come from its recording \(no provider is called\)/);
    assert.match(demo.stdout, /✔|succeeded/);
    // The findings table: the agents' (from the recording) and the TODO scan's (run now).
    assert.match(demo.stdout, /low\s+server\/src\/agents\/streams\/claude\.ts:89\s+verbatim-error-text\s+security/);
    assert.match(demo.stdout, /info\s+server\/src\/add\.ts:2\s+todo\s+todos/);

    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'server', 'out', 'cli.js'), ...args], { cwd: root, env, encoding: 'utf8' });
    const list = JSON.parse(cli('list', '--json').stdout) as { id: string; status: string; replayOf?: string }[];
    assert.equal(list.length, 1);
    assert.equal(list[0].status, 'succeeded');
    assert.match(list[0].replayOf ?? '', /^\d{8}-\d{6}-\w+$/);
    assert.match(cli('list').stdout, /Self review \(replay of \d{8}-/);
    const show = cli('show', 'latest').stdout;
    assert.match(show, /replay of: \S+ \(\.orchestrator\/recordings\/review\): agent answers come from its recording/);
    assert.match(show, /security\s+succeeded\s+1\s+\S+\s+agent: reviewer\/fake-reviewer-1-2026-12 \d+→\d+ tokens/);

    // A replay of the replay, through the CLI, with --json.
    const again = cli('replay', 'latest', '--json');
    assert.equal(again.status, 0, again.stderr);
    const summary = JSON.parse(again.stdout) as { status: string; replayOf: string };
    assert.equal(summary.status, 'succeeded');
    assert.equal(summary.replayOf, list[0].id);
  });
});
