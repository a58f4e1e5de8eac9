/**
 * `orchestrator migrate [--dry-run] [--json]` through the REAL built CLI on the format-1 fixture
 * (test/fixtures/state-v1): what --dry-run says and that it changes nothing, the upgrade's exact
 * bytes, the backup, that the upgraded folder reads as the old release read the old one, a second
 * run with nothing to do, a live session refusing the whole migration (nothing changed), and a
 * session that cannot be upgraded left as it is. Crashes: test/crash/migrate.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { copyFixture, EXPECTED, FIXTURE, filesOf, fixtureFiles, IDS, INTERRUPTED, sessionsOf, tree, upgraded } from '../helpers/stateFixture';
import { cliRepo, expectJson as json, waitFor } from './cliProcess';

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function repo(): ReturnType<typeof cliRepo> {
  const r = cliRepo('orch-cli-migrate');
  made.push(r.root);
  return r;
}

interface Report {
  dryRun: boolean;
  to: number;
  migrated: { id: string; from: number }[];
  current: string[];
  left: { id: string; reason: string }[];
  running: { id: string; owner: string }[];
  changes: string[];
  backup?: string;
}

describe('orchestrator migrate', () => {
  it('--dry-run says what would be upgraded and changes nothing', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    const before = tree(sessionsOf(root));
    const r = json<Report>(await cli('migrate', '--dry-run', '--json'));
    assert.deepEqual(r, {
      dryRun: true,
      to: 2,
      migrated: IDS.map((id) => ({ id, from: 1 })),
      current: [],
      left: [],
      running: [],
      changes: ['1 → 2: add "v":2 and "by" to state.json and to the first line of log.jsonl'],
    });
    const text = await cli('migrate', '--dry-run');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^3 sessions would be upgraded to state format 2/);
    assert.match(text.stdout, /nothing was changed/);
    assert.deepEqual(tree(sessionsOf(root)), before);
  });

  it('upgrades every session to format 2 with a backup; the folder reads as before; a second run has nothing to do', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    const r = json<Report>(await cli('migrate', '--json'));
    assert.equal(r.dryRun, false);
    assert.deepEqual(r.migrated, IDS.map((id) => ({ id, from: 1 })));
    assert.match(r.backup ?? '', /^\.orchestrator\/sessions\/\.backup-format-1-\d{8}-\d{6}-[0-9a-f]{4}$/);
    for (const id of IDS) {
      const now = filesOf(root, id);
      const want = upgraded(id);
      assert.ok(now.log.equals(want.log), `${id}: the log is the old one with the version in front`);
      assert.deepEqual(JSON.parse(now.state!.toString()), want.state, id);
      assert.match(now.state!.toString(), /^\{"v":2,"by":"orchestrator 0\.1\.0","id":/);
      const old = fixtureFiles(id);
      assert.ok(fs.readFileSync(path.join(root, r.backup!, id, 'log.jsonl')).equals(old.log), `${id}: backup of the log`);
      assert.ok(fs.readFileSync(path.join(root, r.backup!, id, 'state.json')).equals(old.state), `${id}: backup of the state`);
      // Step logs are not touched.
      assert.deepEqual(tree(path.join(sessionsOf(root), id, 'steps')), tree(path.join(FIXTURE, 'sessions', id, 'steps')));
    }
    const record = JSON.parse(fs.readFileSync(path.join(root, r.backup!, 'migration.json'), 'utf8')) as { to: number; sessions: { id: string; from: number }[] };
    assert.equal(record.to, 2);
    assert.deepEqual(record.sessions, IDS.map((id) => ({ id, from: 1 })));
    const left = fs.readdirSync(sessionsOf(root)).filter((n) => n.startsWith('.migration') || n.includes('migrating'));
    assert.deepEqual(left, [], 'no journal left');
    for (const id of IDS) assert.deepEqual(fs.readdirSync(path.join(sessionsOf(root), id)).filter((n) => n.includes('migrating')), []);

    assert.deepEqual(json(await cli('list', '--json')), EXPECTED.list);
    for (const id of IDS) assert.deepEqual(json(await cli('show', id, '--json')), EXPECTED.show[id], id);

    const again = json<Report>(await cli('migrate', '--json'));
    assert.deepEqual(again.migrated, []);
    assert.deepEqual(again.current, IDS);
    const text = await cli('migrate');
    assert.match(text.stdout, /every session is in state format 2 already \(3 sessions\): nothing to do/);
  });

  it('a live session refuses the whole migration, nothing is changed; once it ends, migrate upgrades it too', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    fs.cpSync(path.join(FIXTURE, 'workflows'), root, { recursive: true });
    const others = IDS.filter((id) => id !== INTERRUPTED);
    // Resumed by this release, the format-1 session stays in format 1 and runs (its step sleeps).
    const resumed = await cli('resume', INTERRUPTED, '--detach');
    assert.equal(resumed.code, 0, resumed.stderr);
    await waitFor(() => fs.existsSync(path.join(root, 'long.started')), 'the resumed step to start');
    const before = Object.fromEntries(others.map((id) => [id, tree(path.join(sessionsOf(root), id))]));

    const dry = json<Report>(await cli('migrate', '--dry-run', '--json'));
    assert.deepEqual(dry.running.map((x) => x.id), [INTERRUPTED]);
    const refused = await cli('migrate');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^orchestrator: session ${INTERRUPTED} is running \\(owned by process \\d+ on host .+\\): wait for it to finish or cancel it, then migrate again; nothing was changed\\n$`));
    const refusedJson = json<{ refused: string }>(await cli('migrate', '--json'), 1);
    assert.match(refusedJson.refused, /is running/);
    for (const id of others) assert.deepEqual(tree(path.join(sessionsOf(root), id)), before[id], id);
    assert.doesNotMatch(filesOf(root, INTERRUPTED).log.toString('utf8', 0, 10), /"v"/);

    assert.equal((await cli('cancel', INTERRUPTED)).code, 0);
    const r = json<Report>(await cli('migrate', '--json'));
    assert.deepEqual(r.migrated.map((m) => m.id), IDS);
    const shown = json<{ status: string; steps: Record<string, { status: string }> }>(await cli('show', INTERRUPTED, '--json'));
    assert.equal(shown.status, 'cancelled');
    assert.equal(shown.steps.long.status, 'cancelled');
  });

  it('a journal that cannot be read does not stop readers; migrate refuses and names it', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    fs.mkdirSync(path.join(sessionsOf(root), '.migration'));
    fs.writeFileSync(path.join(sessionsOf(root), '.migration', 'plan.json'), '{"format":');
    const before = tree(sessionsOf(root));
    assert.deepEqual(json(await cli('list', '--json')), EXPECTED.list);
    const r = await cli('migrate');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^orchestrator: the journal of an interrupted migration in .+\.migration cannot be settled \(.+\): fix or move that folder away, then migrate again; nothing was changed\n$/);
    const now = tree(sessionsOf(root));
    delete now['.migrate.lock']; // the lock of whoever tried to settle it, if a release left it
    assert.deepEqual(now, before);
  });

  it('a session whose first line is damaged cannot be upgraded: it is left as it is, the others are upgraded', async () => {
    const { root, cli } = repo();
    copyFixture(root);
    const log = path.join(sessionsOf(root), '20261207-064424-ks0j', 'log.jsonl');
    const bytes = fs.readFileSync(log);
    bytes[0] = 0x78; // 'x'
    fs.writeFileSync(log, bytes);
    const r = json<Report>(await cli('migrate', '--json'));
    assert.deepEqual(r.left, [{ id: '20261207-064424-ks0j', reason: 'the first line of its log.jsonl is damaged or incomplete' }]);
    assert.deepEqual(r.migrated.map((m) => m.id), IDS.filter((id) => id !== '20261207-064424-ks0j'));
    assert.ok(fs.readFileSync(log).equals(bytes));
  });
});
