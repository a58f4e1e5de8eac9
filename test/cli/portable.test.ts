/**
 * `orchestrator snapshot export|import` and `orchestrator delete` through the REAL built CLI
 * (`node server/out/cli.js`), each a child process in throw-away repositories: output and --json,
 * exit codes (0 success, 2 bad usage or invalid input, one line on stderr, no stack trace).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertUsageError, CLI, cliEnv, makeRepo, runCli, sessionFolders, waitFor, type CliResult } from './cliProcess';

const OK = `name: ok
steps:
  - id: hello
    run: |
      echo "hello world"
      echo "greeting=hi" >> "$ORCHESTRATOR_OUTPUT"
      echo "::finding severity=low file=src/a.ts line=3 rule=todo::a TODO is left"
  - id: second
    needs: hello
    run: |
      echo "second line 1"
      echo "second line 2" >&2
`;

const LONG = `name: long
steps:
  - id: long
    run: sleep 300
  - id: next
    needs: long
    run: echo next
`;

interface Summary {
  id: string;
  status: string;
  workflow: string;
  done: number;
  total: number;
  findings: number;
}

const repos = [makeRepo('orch-cli-portable-a'), makeRepo('orch-cli-portable-b'), makeRepo('orch-cli-portable-c')];
const [a, b, c] = repos;
const inRepo =
  (repo: { root: string; home: string }) =>
  (...args: string[]): Promise<CliResult> =>
    runCli(args, { cwd: repo.root, env: cliEnv(repo.home), timeoutMs: 60_000 });
const cliA = inRepo(a);
const cliB = inRepo(b);
const cliC = inRepo(c);

function json<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new Error(`stdout is not JSON (${e instanceof Error ? e.message : String(e)}); exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit 0 expected, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

before(() => {
  assert.ok(fs.existsSync(CLI), `${CLI} does not exist: run npm run build first`);
  fs.writeFileSync(path.join(a.root, 'ok.workflow.yaml'), OK);
  fs.writeFileSync(path.join(a.root, 'long.workflow.yaml'), LONG);
});

after(async () => {
  // Stop a detached runner a failed test may have left, then clean up.
  for (const cli of [cliA, cliB, cliC]) {
    const r = await cli('list', '--json').catch(() => undefined);
    for (const s of r?.code === 0 ? json<Summary[]>(r) : []) {
      if (s.status === 'running' || s.status === 'waiting') await cli('cancel', s.id).catch(() => undefined);
    }
  }
  for (const r of repos) fs.rmSync(r.root, { recursive: true, force: true });
});

describe('snapshot export and import', () => {
  it('exports a session (latest) and imports it into another repository, where show and logs agree', async () => {
    ok(await cliA('run', 'ok.workflow.yaml', '--quiet'));
    const id = json<Summary[]>(ok(await cliA('list', '--json')))[0].id;
    const file = path.join(a.root, 'snap.json');

    const exp = ok(await cliA('snapshot', 'export', 'latest', '-o', file, '--json'));
    const res = json<{ id: string; file: string; bytes: number }>(exp);
    assert.deepEqual(res, { id, file, bytes: fs.statSync(file).size });
    const plain = ok(await cliA('snapshot', 'export', id, '--output', path.join(a.root, 'snap2.json')));
    assert.match(plain.stdout, new RegExp(`^exported session ${id} to .*snap2\\.json \\(\\d+ bytes\\)\\n$`));

    const imp = ok(await cliB('snapshot', 'import', file, '--json'));
    assert.deepEqual(json(imp), { id, status: 'succeeded', warnings: [] });
    assert.equal(imp.stderr, '');

    const showA = json<Record<string, unknown>>(ok(await cliA('show', id, '--json')));
    const showB = json<Record<string, unknown>>(ok(await cliB('show', id, '--json')));
    assert.deepEqual(showB, showA);
    for (const step of ['hello', 'second']) assert.equal(ok(await cliB('logs', id, step)).stdout, ok(await cliA('logs', id, step)).stdout);
    assert.match(ok(await cliB('logs', id, 'hello')).stdout, /hello world/);
    assert.equal(ok(await cliB('logs', id, '--json')).stdout, ok(await cliA('logs', id, '--json')).stdout);
    assert.deepEqual(json(ok(await cliB('findings', id, '--json'))), json(ok(await cliA('findings', id, '--json'))));
    assert.deepEqual(json<Summary[]>(ok(await cliB('list', '--json'))).map((s) => [s.id, s.status]), [[id, 'succeeded']]);

    // A second import of the same id: refused, the session there untouched.
    assertUsageError(await cliB('snapshot', 'import', file), new RegExp(`a session with id ${id} already exists here: delete it first`));
    assert.deepEqual(sessionFolders(b.root), [id]);

    const plainImport = ok(await cliC('snapshot', 'import', path.relative(c.root, file)));
    assert.equal(plainImport.stdout, `imported session ${id} (succeeded): orchestrator show ${id}\n`);
  });

  it('refuses bad files with a one-line error and exit 2, leaving nothing behind', async () => {
    const bad = (name: string, text: string): string => {
      const p = path.join(a.root, name);
      fs.writeFileSync(p, text);
      return p;
    };
    const snap = { format: 'orchestrator-session-snapshot', version: 1, exportedAt: new Date().toISOString(), session: { id: '20200101-000000-zz', state: null, log: '', steps: { '../x': 'evil' } } };
    const before = sessionFolders(b.root).sort();
    assertUsageError(await cliB('snapshot', 'import', bad('garbage.json', 'not json at all')), /garbage\.json is not an orchestrator snapshot \(it is not JSON/);
    assertUsageError(await cliB('snapshot', 'import', bad('wrong.json', JSON.stringify({ format: 'zip', version: 1 }))), /wrong\.json is not an orchestrator snapshot \(its "format" is "zip"/);
    assertUsageError(await cliB('snapshot', 'import', bad('traversal.json', JSON.stringify(snap))), /traversal\.json is not a valid orchestrator snapshot: step file "\.\.\/x" is not allowed/);
    assertUsageError(await cliB('snapshot', 'import', path.join(a.root, 'nope.json')), /cannot read .*nope\.json: no such file/);
    assert.deepEqual(sessionFolders(b.root).sort(), before);
    assert.equal(fs.existsSync(path.join(b.root, '.orchestrator', 'x')), false);
  });

  it('refuses session and step ids too long for the file system (or not ids) in one line, exit 2, before writing anything', async () => {
    const file = path.join(a.root, 'snap.json'); // exported by the first test
    const text = fs.readFileSync(file, 'utf8');
    const id = (JSON.parse(text) as { session: { id: string } }).session.id;
    const before = sessionFolders(b.root).sort();
    const variant = (name: string, edit: (t: string) => string): string => {
      const p = path.join(a.root, name);
      fs.writeFileSync(p, edit(text));
      return p;
    };
    const longId = `20200101-000000-${'x'.repeat(300)}`;
    assertUsageError(await cliB('snapshot', 'import', variant('longid.json', (t) => t.split(id).join(longId))), /longid\.json is not a valid orchestrator snapshot: session\.id: is too long \(at most 64 characters/);
    const longStep = 'h'.repeat(300);
    const renamed = (t: string) => t.split('hello').join(longStep);
    assertUsageError(await cliB('snapshot', 'import', variant('longstep.json', renamed)), /longstep\.json is not a valid orchestrator snapshot: step file "h{40}…" is in a folder whose name is too long \(300 bytes, at most 255\)/);
    const noFiles = (t: string) => {
      const doc = JSON.parse(t) as { session: { steps: Record<string, unknown> } };
      doc.session.steps = {};
      return JSON.stringify(doc);
    };
    const withoutFiles = (t: string) => noFiles(renamed(t));
    assertUsageError(await cliB('snapshot', 'import', variant('longstate.json', withoutFiles)), /longstate\.json is not a valid orchestrator snapshot: step id "h{40}…" is too long \(300 characters; its folder name would be 300 bytes, at most 255\)/);
    const nullState = (t: string) => {
      const doc = JSON.parse(withoutFiles(t)) as { session: { state: unknown } };
      doc.session.state = null;
      return JSON.stringify(doc);
    };
    assertUsageError(await cliB('snapshot', 'import', variant('longlog.json', nullState)), /longlog\.json is not a valid orchestrator snapshot: step id "h{40}…" is too long/);
    const dots = (t: string) => t.split('"second"').join('"../../x"');
    assertUsageError(await cliB('snapshot', 'import', variant('dots.json', (t) => noFiles(dots(t)))), /dots\.json is not a valid orchestrator snapshot: step id "\.\.\/\.\.\/x" is not a step id/);
    assert.deepEqual(sessionFolders(b.root).sort(), before);
    assert.deepEqual(fs.readdirSync(path.join(b.root, '.orchestrator', 'sessions')).filter((n) => n.startsWith('.import-')), []);
  });

  it('reports bad usage of export with exit 2', async () => {
    const noOutput = await cliA('snapshot', 'export', 'latest');
    assert.equal(noOutput.code, 2);
    assert.match(noOutput.stderr, /required option '-o, --output <file>' not specified/);
    assertUsageError(await cliA('snapshot', 'export', '20200101-000000-zz', '-o', path.join(a.root, 'x.json')), /no session '20200101-000000-zz'/);
    assertUsageError(await cliA('snapshot', 'export', 'latest', '-o', path.join(a.root, 'missing', 'x.json')), /the folder .*missing does not exist/);
    const empty = makeRepo('orch-cli-portable-empty');
    try {
      assertUsageError(await inRepo(empty)('snapshot', 'export', 'latest', '-o', 'x.json'), /there are no sessions yet/);
    } finally {
      fs.rmSync(empty.root, { recursive: true, force: true });
    }
  });
});

describe('delete, and a running session', () => {
  it('exports a running session that imports as interrupted; delete refuses it until it is cancelled', async () => {
    const det = ok(await cliA('run', 'long.workflow.yaml', '--detach'));
    const id = det.stdout.trim();
    await waitFor(async () => {
      const s = json<{ steps: Record<string, { status: string }> }>(ok(await cliA('show', id, '--json')));
      return s.steps.long.status === 'running';
    }, 'the long step to run');

    const file = path.join(a.root, 'live.json');
    ok(await cliA('snapshot', 'export', id, '-o', file));
    const imp = json<{ id: string; status: string }>(ok(await cliB('snapshot', 'import', file, '--json')));
    assert.deepEqual(imp, { id, status: 'interrupted', warnings: [] });
    const listed = json<Summary[]>(ok(await cliB('list', '--json'))).find((s) => s.id === id);
    assert.equal(listed?.status, 'interrupted');
    const shown = json<{ status: string; owner?: unknown }>(ok(await cliB('show', id, '--json')));
    assert.equal(shown.status, 'interrupted');
    assert.equal(shown.owner, undefined);

    assertUsageError(await cliA('delete', id), new RegExp(`session ${id} is running \\(owned by process \\d+ on host .*\\): cancel it .* before deleting it`));
    assert.ok(sessionFolders(a.root).includes(id));
    assert.equal(json<{ status: string }>(ok(await cliA('show', id, '--json'))).status, 'running');

    ok(await cliA('cancel', id));
    const del = json<{ id: string; deleted: boolean }>(ok(await cliA('delete', id, '--json')));
    assert.deepEqual(del, { id, deleted: true });
    assert.ok(!sessionFolders(a.root).includes(id));
    assert.ok(!json<Summary[]>(ok(await cliA('list', '--json'))).some((s) => s.id === id));
    assert.equal(fs.existsSync(path.join(a.root, '.orchestrator', 'sessions', `.${id}.runner.log`)), false, 'the runner log goes too');

    // The interrupted copy in B can be deleted at once (no live runner there).
    assert.equal(ok(await cliB('delete', id)).stdout, `deleted session ${id}\n`);
    assertUsageError(await cliB('delete', id), new RegExp(`no session '${id}'`));
    assert.deepEqual(sessionFolders(b.root).filter((n) => n.startsWith('.')), [], 'no temp folder is left');
  });
});
