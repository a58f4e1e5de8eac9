/**
 * State format versions through the REAL built CLI (docs/state-and-retention.md):
 * - format 1 (the fixture made by the release before versions) is read as it is, exactly as that
 *   release read it, and never rewritten by reading; a resume keeps it in format 1;
 * - new sessions are written in format 2 (`v` and `by` in front of state.json and of the log's first line);
 * - a folder in a newer format is refused by every command with one line naming the release that
 *   wrote it and saying to upgrade, and is left byte for byte as it was, also when its state.json
 *   is damaged or missing (the path that rebuilds and writes back a state.json must not run);
 * - snapshots: a newer session inside is refused, an older one is imported as it is.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { copyFixture, EXPECTED, filesOf, fixtureFiles, IDS, INTERRUPTED, sessionsOf, stamp, tree } from '../helpers/stateFixture';
import { assertUsageError, cliRepo, expectJson as json } from './cliProcess';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function repo(): ReturnType<typeof cliRepo> {
  const r = cliRepo('orch-cli-format');
  made.push(r.root);
  return r;
}

const NEWER = /session 20261207-064424-ks0j is in state format 3, written by orchestrator 9\.9\.9; this orchestrator \(0\.1\.0\) reads formats up to 2: upgrade orchestrator to use it \(nothing was changed\)/;

describe('state format 1 (the fixture) is read as it is', () => {
  it('list and show print what the release that wrote it printed, and reading changes no byte of the sessions', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    const before = tree(sessionsOf(root));
    assert.deepEqual(json(await cli('list', '--json')), EXPECTED.list);
    for (const id of IDS) assert.deepEqual(json(await cli('show', id, '--json')), EXPECTED.show[id], id);
    assert.deepEqual(tree(sessionsOf(root)), before);
  });

  it('a resume keeps the session in format 1 (only migrate upgrades)', async () => {
    const { root, cli } = repo();
    copyFixture(root, ['20261207-064424-ks0j']);
    const old = fixtureFiles('20261207-064424-ks0j');
    const r = await cli('resume', '20261207-064424-ks0j', '--json');
    assert.equal(r.code, 1, r.stderr); // its step fails again
    const now = filesOf(root, '20261207-064424-ks0j');
    assert.ok(now.log.length > old.log.length, 'the resume appended events');
    assert.ok(now.log.subarray(0, old.log.length).equals(old.log), 'the old events are untouched');
    assert.match(now.log.toString('utf8', 0, 10), /^\{"seq":1,/);
    assert.doesNotMatch(now.state!.toString('utf8', 0, 20), /"v":/);
    assert.equal(json<{ status: string }>(await cli('show', '20261207-064424-ks0j', '--json')).status, 'failed');
  });

  it('a state.json of another format than its log (a migration cut between two renames) is a stale cache: rebuilt from the log, quietly', async () => {
    const { root, cli } = repo();
    copyFixture(root, [INTERRUPTED]);
    const file = path.join(sessionsOf(root), INTERRUPTED, 'state.json');
    fs.writeFileSync(file, stamp(fs.readFileSync(file), 2, 'orchestrator 0.1.0'));
    const r = await cli('show', INTERRUPTED, '--json');
    assert.deepEqual(json(r), EXPECTED.show[INTERRUPTED]);
    assert.equal(r.stderr, '');
  });
});

describe('new sessions are written in format 2', () => {
  it('state.json and the first line of log.jsonl start with the version and the release', async () => {
    const { root, cli } = repo();
    fs.writeFileSync(path.join(root, 'ok.workflow.yaml'), 'name: ok\nsteps:\n  - id: a\n    run: echo hi\n');
    const r = await cli('run', 'ok.workflow.yaml', '--json');
    const id = json<{ id: string }>(r).id;
    const f = filesOf(root, id);
    assert.match(f.log.toString(), /^\{"v":2,"by":"orchestrator 0\.1\.0","seq":1,"time":"[^"]+","type":"session\.started"/);
    assert.equal(f.log.toString().split('\n').filter((l) => l.includes('"v":')).length, 1, 'only the first line carries it');
    assert.match(f.state!.toString(), /^\{"v":2,"by":"orchestrator 0\.1\.0","id":/);
    assert.equal(json<{ status: string }>(await cli('show', id, '--json')).status, 'succeeded');
    assert.equal((json<Record<string, unknown>>(await cli('show', id, '--json')) as { v?: unknown }).v, undefined, 'the version is the files\', not the state\'s');
  });
});

/** The fixture's failed session, made "newer": format 3 by orchestrator 9.9.9, its state.json as `how` says. */
function newer(root: string, how: 'whole' | 'corrupt' | 'other shape' | 'missing'): void {
  const id = '20261207-064424-ks0j';
  copyFixture(root, [id]);
  const dir = path.join(sessionsOf(root), id);
  const f = fixtureFiles(id);
  const log = how === 'other shape' ? Buffer.concat([Buffer.from('{"v":3,"by":"orchestrator 9.9.9","format":"orchestrator-log"}\n'), f.log]) : stamp(f.log, 3, 'orchestrator 9.9.9');
  fs.writeFileSync(path.join(dir, 'log.jsonl'), log);
  const state = { whole: stamp(f.state, 3, 'orchestrator 9.9.9'), corrupt: Buffer.from('{"v":3,"by":"orchestrator 9.9.9","id":"2026'), 'other shape': Buffer.from('{"v":3,"by":"orchestrator 9.9.9","session":{"id":"x"}}'), missing: undefined }[how];
  if (state) fs.writeFileSync(path.join(dir, 'state.json'), state);
  else fs.rmSync(path.join(dir, 'state.json'));
}

describe('a folder in a newer format is refused, and left byte for byte as it was', () => {
  for (const how of ['whole', 'corrupt', 'other shape', 'missing'] as const) {
    it(`state.json ${how}: every command says which release wrote it and to upgrade`, async () => {
      const { root, cli } = repo();
      newer(root, how);
      const before = tree(sessionsOf(root));
      const id = '20261207-064424-ks0j';

      const list = await cli('list', '--json');
      assert.deepEqual(json(list), []);
      assert.match(list.stderr, NEWER);
      for (const args of [['show', id], ['show', id, '--json'], ['resume', id], ['cancel', id], ['logs', id, 'second'], ['snapshot', 'export', id, '-o', path.join(root, 'x.json')]]) {
        assertUsageError(await cli(...args), NEWER);
      }
      const migrate = await cli('migrate');
      assert.equal(migrate.code, 1, migrate.stderr);
      assert.match(migrate.stderr, NEWER);
      const pruned = json<{ removed: unknown[]; skipped: { id: string; reason: string }[] }>(await cli('prune', '--keep', '0', '--json'));
      assert.deepEqual(pruned.removed, []);
      assert.match(pruned.skipped[0].reason, NEWER);
      assert.deepEqual(tree(sessionsOf(root)), before, 'nothing in the sessions folder changed');
      assert.equal(fs.existsSync(path.join(root, 'x.json')), false);
    });
  }
});

describe('snapshots carry the format of the session inside', () => {
  it('a snapshot holding a newer session is refused; one holding a format-1 session is imported as it is', async () => {
    const src = repo();
    copyFixture(src.root, ['20261207-064424-7nd6']);
    const file = path.join(src.root, 'old.json');
    assert.equal((await src.cli('snapshot', 'export', '20261207-064424-7nd6', '-o', file)).code, 0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { by?: string; session: { state: Record<string, unknown>; log: string } };
    assert.equal(doc.by, 'orchestrator 0.1.0');
    assert.equal(doc.session.state.v, undefined);

    const dst = repo();
    assert.equal((await dst.cli('snapshot', 'import', file)).code, 0);
    const imported = filesOf(dst.root, '20261207-064424-7nd6');
    assert.ok(imported.log.equals(fixtureFiles('20261207-064424-7nd6').log), 'the log is imported as it was (format 1)');
    assert.deepEqual(json(await dst.cli('show', '20261207-064424-7nd6', '--json')), EXPECTED.show['20261207-064424-7nd6']);

    const newerFile = path.join(src.root, 'newer.json');
    doc.session.log = stamp(doc.session.log, 3, 'orchestrator 9.9.9').toString();
    fs.writeFileSync(newerFile, JSON.stringify(doc));
    const other = repo();
    assertUsageError(await other.cli('snapshot', 'import', newerFile), /newer\.json holds a session in state format 3, written by orchestrator 9\.9\.9; this orchestrator \(0\.1\.0\) reads formats up to 2: upgrade orchestrator to import it/);
    assert.deepEqual(tree(sessionsOf(other.root)), {});
  });
});
