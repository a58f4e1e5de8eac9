/**
 * Session snapshots and deleting sessions (docs/sessions.md, "Snapshots and deleting sessions"):
 * sessions made by really running workflows in temp repositories, exported to a file, imported
 * into another repository and compared byte for byte; bad files refused with nothing left behind;
 * live sessions exported, imported as interrupted and resumed; delete refused while a runner owns
 * the session.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlSession, resumeSession } from '../../server/src/engine/sessions';
import { rebuild } from '../../server/src/engine/state';
import { readEvents } from '../../server/src/store/eventLog';
import { deleteSession, exportSnapshot, importSnapshot, SnapshotError, type SessionSnapshotFile } from '../../server/src/store/portable';
import { listSessionIds, listSessions, loadSession, sessionPaths, sessionsDir } from '../../server/src/store/sessionStore';
import { assertRebuilds, cleanupRepos, count, finish, makeRepo, runOpts, start, statuses, waitFor, type Repo } from './helpers';

after(cleanupRepos);

const WORKFLOW = `
name: portable
concurrency: 2
steps:
  - id: hello
    run: |
      echo "hello"
      echo "greeting=hi" >> "$ORCHESTRATOR_OUTPUT"
      echo "::finding severity=medium file=src/x.ts line=4 rule=r1::first"
  - id: fan
    needs: hello
    matrix:
      n: [1, 2]
    run: |
      echo "fan \${{ matrix.n }}"
      echo "::finding severity=high file=src/x.ts line=4 rule=r1::again from \${{ matrix.n }}"
  - id: flaky
    retry: { max_attempts: 2, backoff: 20ms }
    run: |
      if [ ! -e flaky.once ]; then touch flaky.once; echo first; exit 1; fi
      echo second
  - id: gate
    needs: [fan, flaky]
    approval: Ship it?
  - id: fails
    needs: gate
    run: |
      echo "failing" >&2
      exit 3
`;

/** A workflow whose step runs until the file `release` exists in the repository, at most 60 s (and counts its runs). */
const GATED = `
name: gated
steps:
  - id: first
    run: echo first
  - id: wait
    needs: first
    run: |
      echo started >> wait.count
      # Bounded, so that a failing test cannot leave it running.
      for i in $(seq 1 1200); do [ -e release ] && break; sleep 0.05; done
      [ -e release ]
      echo released
  - id: last
    needs: wait
    run: echo last
`;

/** Every file of a folder, by relative path, with its bytes. */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

/** Names in .orchestrator/sessions (folders and files), sorted. */
function sessionsFolder(repo: Repo): string[] {
  try {
    return fs.readdirSync(sessionsDir(repo.root)).sort();
  } catch {
    return [];
  }
}

/** A finished session of WORKFLOW (failed at `fails`, with an approval answered through control.jsonl). */
async function finishedSession(): Promise<{ repo: Repo; id: string }> {
  const repo = makeRepo(WORKFLOW);
  const started = await start(repo);
  await waitFor('the approval', () => loadSession(repo.root, started.id).state.steps.gate.status === 'waiting');
  await controlSession(repo.root, started.id, { type: 'approve', step: 'gate', by: 'tester' });
  const f = await finish(repo, started);
  assert.equal(f.state.status, 'failed', JSON.stringify(statuses(f.state)));
  assert.equal(f.state.steps.flaky.attempt, 2);
  return { repo, id: started.id };
}

async function refuses(p: Promise<unknown>, pattern: RegExp): Promise<SnapshotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SnapshotError, `a SnapshotError expected, got ${e instanceof Error ? `${e.constructor.name}: ${e.stack}` : String(e)}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected a refusal matching ${String(pattern)}`);
}

describe('export and import', () => {
  it('round-trips state, log, control and step logs byte for byte into another repository', async () => {
    const { repo: a, id } = await finishedSession();
    const src = sessionPaths(a.root, id);
    // A step log cut in the middle of a character (a crash mid-write): not UTF-8, still copied exactly.
    fs.appendFileSync(src.stepLog('hello', 1), Buffer.from([0x61, 0xe2, 0x82]));
    const out = path.join(a.root, 'snap.json');
    const r = await exportSnapshot(a.root, id, out);
    assert.equal(r.id, id);
    assert.equal(r.file, out);
    assert.equal(r.bytes, fs.statSync(out).size);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as SessionSnapshotFile;
    assert.equal(doc.format, 'orchestrator-session-snapshot');
    assert.equal(doc.version, 1);
    assert.equal(doc.live, false);
    assert.deepEqual(doc.session.steps['hello/1.log'], { base64: fs.readFileSync(src.stepLog('hello', 1)).toString('base64') });
    assert.equal(typeof doc.session.steps['fan[n=1]/1.log'], 'string');
    assert.ok(doc.session.control, 'control.jsonl (the approval) is in the snapshot');

    const b = makeRepo();
    const imported = await importSnapshot(b.root, out);
    assert.deepEqual(imported, { id, warnings: [] });
    const dst = sessionPaths(b.root, id);
    const before = filesOf(src.dir);
    const after = filesOf(dst.dir);
    assert.ok(before.has('lock') === false, 'a session at rest has no lock');
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [rel, bytes] of before) assert.ok(bytes.equals(after.get(rel)!), `${rel} differs after the round trip`);
    for (const rel of ['state.json', 'log.jsonl', 'control.jsonl', 'steps/flaky/1.log', 'steps/flaky/2.log', 'steps/fails/1.log']) assert.ok(after.has(rel), `${rel} was imported`);

    const la = loadSession(a.root, id);
    const lb = loadSession(b.root, id);
    assert.deepEqual(lb.warnings, []);
    assert.equal(lb.owner, undefined);
    assert.deepEqual(lb.state, la.state);
    assertRebuilds(b, id);
    assert.deepEqual(listSessionIds(b.root), [id]);
    assert.equal(fs.readFileSync(path.join(b.root, '.orchestrator', '.gitignore'), 'utf8').includes('sessions/'), true);
  });

  it('exports a session whose state.json is missing, and the import rebuilds it from the log', async () => {
    const { repo: a, id } = await finishedSession();
    fs.rmSync(sessionPaths(a.root, id).state);
    const out = path.join(a.root, 'nostate.json');
    await exportSnapshot(a.root, id, out);
    // Reading the session (export does) wrote the rebuilt state.json back.
    assert.ok(fs.existsSync(sessionPaths(a.root, id).state));
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as SessionSnapshotFile;
    assert.notEqual(doc.session.state, null);
    doc.session.state = null;
    fs.writeFileSync(out, JSON.stringify(doc));
    const b = makeRepo();
    const r = await importSnapshot(b.root, out);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /missing; rebuilt it from the log/);
    assertRebuilds(b, id);
  });

  it('rebuilds the state from the log when the two disagree', async () => {
    const { repo: a, id } = await finishedSession();
    const out = path.join(a.root, 'snap.json');
    await exportSnapshot(a.root, id, out);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as SessionSnapshotFile;
    // A state ahead of its log: it claims events the log does not hold.
    doc.session.state = { ...doc.session.state!, seq: doc.session.state!.seq + 5, logOffset: doc.session.state!.logOffset + 1000, status: 'succeeded' };
    fs.writeFileSync(out, JSON.stringify(doc));
    const b = makeRepo();
    const r = await importSnapshot(b.root, out);
    assert.match(r.warnings.join('\n'), /does not match its log; rebuilt it from the log/);
    assertRebuilds(b, id);
    assert.equal(loadSession(b.root, id).state.status, 'failed');
  });

  it('refuses bad files and existing ids, and leaves nothing behind', async () => {
    const { repo: a, id } = await finishedSession();
    const good = path.join(a.root, 'good.json');
    await exportSnapshot(a.root, id, good);
    const doc = JSON.parse(fs.readFileSync(good, 'utf8')) as SessionSnapshotFile;
    const b = makeRepo();
    await importSnapshot(b.root, good);
    const c = makeRepo();

    const variant = (name: string, f: (d: SessionSnapshotFile & Record<string, unknown>) => unknown): string => {
      const d = structuredClone(doc) as SessionSnapshotFile & Record<string, unknown>;
      const text = f(d);
      const p = path.join(a.root, name);
      fs.writeFileSync(p, typeof text === 'string' ? text : JSON.stringify(d));
      return p;
    };
    const cases: [string, RegExp][] = [
      [variant('garbage.json', () => 'this is not { json'), /garbage\.json is not an orchestrator snapshot \(it is not JSON/],
      [variant('array.json', () => '[1, 2]'), /array\.json is not an orchestrator snapshot \(its "format" is missing/],
      [variant('format.json', (d) => { d.format = 'something-else' as never; }), /format\.json is not an orchestrator snapshot \(its "format" is "something-else"/],
      [variant('version.json', (d) => { d.version = 7 as never; }), /version\.json is a snapshot of version 7, written by orchestrator 0\.1\.0; this orchestrator \(0\.1\.0\) reads version 1: upgrade orchestrator to import it/],
      [variant('traversal.json', (d) => { d.session.steps['../x'] = 'evil'; }), /traversal\.json .*step file "\.\.\/x" is not allowed/],
      [variant('deep.json', (d) => { d.session.steps['../../../../tmp/1.log'] = 'evil'; }), /step file "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/1\.log" is not allowed/],
      [variant('dots.json', (d) => { d.session.steps['../1.log'] = 'evil'; }), /step file "\.\.\/1\.log" is not allowed/],
      [variant('absolute.json', (d) => { d.session.steps['/etc/1.log'] = 'evil'; }), /step file "\/etc\/1\.log" is not allowed/],
      [variant('other.json', (d) => { d.session.steps['hello/notes.txt'] = 'x'; }), /step file "hello\/notes\.txt" is not allowed/],
      [variant('badid.json', (d) => { d.session.id = '../../outside'; }), /badid\.json is not a valid orchestrator snapshot: session\.id: is not a session id/],
      [variant('nolog.json', (d) => { d.session.log = ''; d.session.state = null; }), /nolog\.json .*no session\.started event/],
      [variant('otherlog.json', (d) => { d.session.log = (d.session.log as string).replace(/"session":"[^"]+"/, '"session":"20200101-000000-zz"'); }), /holds an event of session "20200101-000000-zz"/],
      [variant('mismatch.json', (d) => { d.session.state!.id = '20200101-000000-zz'; }), /its state is of session 20200101-000000-zz/],
      [variant('badstate.json', (d) => { (d.session.state as unknown as Record<string, unknown>).status = 'exploded'; }), /badstate\.json is not a valid orchestrator snapshot: session\.state\.status/],
      [variant('badb64.json', (d) => { d.session.steps['hello/1.log'] = { base64: '***' }; }), /is not base64/],
      [path.join(a.root, 'missing.json'), /cannot read .*missing\.json: no such file/],
    ];
    for (const [file, pattern] of cases) {
      const before = sessionsFolder(c);
      await refuses(importSnapshot(c.root, file), pattern);
      assert.deepEqual(sessionsFolder(c), before, `${path.basename(file)} left something in the sessions folder`);
    }
    assert.deepEqual(listSessionIds(c.root), []);
    assert.equal(fs.existsSync(path.join(c.root, 'x')) || fs.existsSync(path.join(sessionsDir(c.root), 'x')), false);

    // An id that exists: refused, and the existing session is untouched.
    const beforeB = filesOf(sessionPaths(b.root, id).dir);
    await refuses(importSnapshot(b.root, good), new RegExp(`a session with id ${id} already exists here: delete it first`));
    const afterB = filesOf(sessionPaths(b.root, id).dir);
    assert.deepEqual([...afterB.keys()].sort(), [...beforeB.keys()].sort());
    for (const [rel, bytes] of beforeB) assert.ok(bytes.equals(afterB.get(rel)!), `${rel} changed`);
    assert.deepEqual(sessionsFolder(b), [id]);
    // The source repository refuses it too.
    await refuses(importSnapshot(a.root, good), /already exists here/);
  });

  it('refuses to export what is not there', async () => {
    const { repo: a, id } = await finishedSession();
    await refuses(exportSnapshot(a.root, '20200101-000000-zz', path.join(a.root, 'x.json')), /no session '20200101-000000-zz'/);
    await refuses(exportSnapshot(a.root, '../etc', path.join(a.root, 'x.json')), /'\.\.\/etc' is not a session id/);
    await refuses(exportSnapshot(a.root, id, path.join(a.root, 'no', 'such', 'dir', 'x.json')), /the folder .* does not exist/);
    await refuses(exportSnapshot(a.root, id, a.root), /is a folder: give a file name/);
    assert.equal(fs.existsSync(path.join(a.root, 'x.json')), false);
  });
});

describe('a live session', () => {
  it('exports while running, imports as interrupted with no owner, and resumes to the end', async () => {
    const a = makeRepo(GATED);
    const started = await start(a);
    await waitFor('the wait step to run', () => count(a, 'wait.count') === 1 && loadSession(a.root, started.id).state.steps.wait.status === 'running');
    assert.ok(fs.existsSync(sessionPaths(a.root, started.id).lock), 'the runner holds the lock');
    const out = path.join(a.root, 'live.json');
    let r: Awaited<ReturnType<typeof exportSnapshot>>;
    try {
      r = await exportSnapshot(a.root, started.id, out);
    } finally {
      // Let the original finish; the copy is a point in time.
      fs.writeFileSync(a.path('release'), '');
    }
    assert.equal((await finish(a, started)).state.status, 'succeeded');
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as SessionSnapshotFile;
    assert.equal(doc.live, true);
    assert.equal(doc.session.state?.status, 'running');
    assert.equal(Object.keys(doc.session.steps).some((k) => k.includes('lock')), false);

    const b = makeRepo();
    assert.deepEqual((await importSnapshot(b.root, r.file)).warnings, []);
    assert.equal(fs.existsSync(sessionPaths(b.root, r.id).lock), false, 'no lock is imported');
    const loaded = loadSession(b.root, r.id);
    assert.equal(loaded.state.status, 'interrupted');
    assert.equal(loaded.owner, undefined);
    assert.equal(loaded.state.steps.first.status, 'succeeded');
    assert.equal(loaded.state.steps.wait.status, 'running');
    assert.deepEqual(listSessions(b.root).sessions.map((s) => [s.state.id, s.state.status]), [[r.id, 'interrupted']]);
    // What the log holds and what the state says agree (the state was read first, the log after).
    const read = readEvents(sessionPaths(b.root, r.id).log);
    assert.equal(read.torn, false);
    assert.equal(rebuild(read.events)?.seq, loaded.state.seq);

    // Resumable: the interrupted step runs again, here; the one that succeeded does not.
    fs.writeFileSync(b.path('release'), '');
    const resumed = await resumeSession(r.id, runOpts(b));
    assert.deepEqual(resumed.reset, ['wait']);
    const done = await finish(b, resumed);
    assert.equal(done.state.status, 'succeeded', JSON.stringify(statuses(done.state)));
    assert.equal(count(b, 'wait.count'), 1, 'the wait step ran again in the new repository');
    assert.equal(done.state.steps.wait.attempt, 2);
    assertRebuilds(b, r.id);
  });

  it('exports a session waiting for an approval; it imports as interrupted', async () => {
    const a = makeRepo(WORKFLOW);
    const started = await start(a);
    const out = path.join(a.root, 'waiting.json');
    try {
      await waitFor('the approval', () => loadSession(a.root, started.id).state.status === 'waiting');
      await exportSnapshot(a.root, started.id, out);
    } finally {
      await controlSession(a.root, started.id, { type: 'cancel', by: 'tester' });
      await finish(a, started);
    }
    const b = makeRepo();
    await importSnapshot(b.root, out);
    const loaded = loadSession(b.root, started.id);
    assert.equal(loaded.state.status, 'interrupted');
    assert.equal(loaded.owner, undefined);
    assert.equal(loaded.state.steps.gate.status, 'waiting');
  });
});

describe('delete', () => {
  it('removes a session at rest, and refuses one that a live runner owns', async () => {
    const { repo: a, id } = await finishedSession();
    await deleteSession(a.root, id);
    assert.equal(fs.existsSync(sessionPaths(a.root, id).dir), false);
    assert.deepEqual(listSessionIds(a.root), []);
    assert.deepEqual(sessionsFolder(a), [], 'no temp folder is left behind');
    await refuses(deleteSession(a.root, id), new RegExp(`no session '${id}'`));
    await refuses(deleteSession(a.root, '../..'), /is not a session id/);

    writeGated(a);
    const started = await start(a);
    const release = (): void => fs.writeFileSync(a.path('release'), '');
    try {
      await waitFor('the wait step to run', () => count(a, 'wait.count') === 1);
      await refusedWhileRunning(a, started.id);
    } finally {
      release();
    }
    assert.equal((await finish(a, started)).state.status, 'succeeded');
    await deleteSession(a.root, started.id);
    assert.deepEqual(listSessionIds(a.root), []);
  });

  it('deletes an interrupted session (a stale lock) and an unreadable one', async () => {
    const a = makeRepo(GATED);
    const { id } = await finishedOf(a);
    // A lock left by a process that is gone: stale, so the session is interrupted and can be deleted.
    fs.writeFileSync(sessionPaths(a.root, id).lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), token: 'deadbeefdeadbeef', acquiredAt: new Date().toISOString() }) + '\n');
    await deleteSession(a.root, id);
    assert.deepEqual(sessionsFolder(a), []);
    // A folder whose runner died while creating it (no events): not readable, still deletable.
    const broken = '20200101-000000-br';
    fs.mkdirSync(sessionPaths(a.root, broken).dir, { recursive: true });
    await refuses(exportSnapshot(a.root, broken, path.join(a.root, 'b.json')), /has no events/);
    await deleteSession(a.root, broken);
    assert.deepEqual(sessionsFolder(a), []);
  });
});

async function refusedWhileRunning(repo: Repo, id: string): Promise<void> {
  const e = await refuses(deleteSession(repo.root, id), new RegExp(`session ${id} is running \\(owned by process ${process.pid} on host .*\\): cancel it .* or wait for it to finish before deleting it`));
  assert.ok(e.message.length < 400);
  assert.ok(fs.existsSync(sessionPaths(repo.root, id).log), 'the running session is untouched');
  assert.equal(loadSession(repo.root, id).state.status, 'running');
  assert.deepEqual(sessionsFolder(repo).filter((n) => n.startsWith('.')), [], 'no temp folder is left');
}

function writeGated(repo: Repo): void {
  fs.writeFileSync(repo.file, GATED);
  fs.rmSync(repo.path('release'), { force: true });
  fs.rmSync(repo.path('wait.count'), { force: true });
}

async function finishedOf(repo: Repo): Promise<{ id: string }> {
  fs.writeFileSync(repo.path('release'), '');
  const f = await finish(repo, await start(repo));
  assert.equal(f.state.status, 'succeeded');
  return { id: f.id };
}
