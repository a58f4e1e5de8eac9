/**
 * A damaged log.jsonl (a bad line that is not the torn last one) is reported, never skipped without
 * a word: which line, what it lost; a step whose end was lost is treated as not finished and runs
 * again on resume; a lost session.started still lists and shows the session (not resumable), and
 * nothing advises deleting it. Real sessions, real files, damaged by hand.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { InputError, resumeSession } from '../../server/src/engine/sessions';
import { rebuild } from '../../server/src/engine/state';
import { readEvents } from '../../server/src/store/eventLog';
import { acquireLock } from '../../server/src/store/lock';
import { listSessions, loadSession, sessionPaths } from '../../server/src/store/sessionStore';
import { SessionWatcher, summarize } from '../../server/src/store/sessionWatcher';
import { cleanupRepos, count, finish, makeRepo, runOpts, runToRest, statuses, type Repo } from './helpers';

after(cleanupRepos);

const WORKFLOW = `
name: damaged
steps:
  - id: a
    run: echo run >> a.count
  - id: b
    needs: a
    run: echo run >> b.count
`;

/** A copy of a finished session (log.jsonl only, or with state.json) in a fresh repo. */
function copyOf(from: Repo, id: string, withState = false): Repo {
  const to = makeRepo(WORKFLOW);
  const src = sessionPaths(from.root, id);
  const dst = sessionPaths(to.root, id);
  fs.mkdirSync(dst.dir, { recursive: true });
  fs.copyFileSync(src.log, dst.log);
  if (withState) fs.copyFileSync(src.state, dst.state);
  return to;
}

/** Replaces line `n` (1-based) of a session's log with `text` (a flipped byte, garbage). */
function damage(repo: Repo, id: string, n: number, edit: (line: string) => string): void {
  const file = sessionPaths(repo.root, id).log;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[n - 1] = edit(lines[n - 1]);
  fs.writeFileSync(file, lines.join('\n'));
}

function lineOf(repo: Repo, id: string, test: (e: { type: string; step?: string }) => boolean): number {
  const lines = fs.readFileSync(sessionPaths(repo.root, id).log, 'utf8').split('\n');
  return lines.findIndex((l) => l && test(JSON.parse(l) as { type: string; step?: string })) + 1;
}

describe('a damaged log.jsonl', () => {
  let repo: Repo;
  let id: string;

  before(async () => {
    repo = makeRepo(WORKFLOW);
    const r = await runToRest(repo);
    assert.equal(r.state.status, 'succeeded');
    id = r.id;
  });

  it("a lost step.finished: reported with its line, the step is not finished, the session is not 'succeeded', resume runs the step again", async () => {
    const copy = copyOf(repo, id);
    const n = lineOf(repo, id, (e) => e.type === 'step.finished' && e.step === 'a');
    damage(copy, id, n, (l) => l.replace('"status":"succeeded"', '"status":"succ\u0000eeded"').replace('{"seq"', '{"seq"\u0007'));

    const read = readEvents(sessionPaths(copy.root, id).log);
    assert.equal(read.damaged.length, 1);
    assert.equal(read.torn, false);
    const loaded = loadSession(copy.root, id);
    assert.equal(loaded.state.status, 'interrupted', 'a session whose step a never finished did not succeed');
    assert.equal(loaded.state.steps.a.status, 'running');
    assert.match(loaded.state.steps.a.reason ?? '', new RegExp(`line ${n} is damaged.*resume runs it again`));
    assert.deepEqual(loaded.state.damaged, [{ line: n, lost: `event ${n}: step.finished of step a`, seq: n, type: 'step.finished', step: 'a' }]);
    assert.match(loaded.warnings.join('\n'), new RegExp(`log\\.jsonl of session ${id} is damaged: line ${n} lost event ${n}: step\\.finished of step a; a is treated as not finished`));
    assert.doesNotMatch(loaded.warnings.join('\n'), /delete/);
    // The summary (list --json, the host's notifications) carries it too.
    assert.deepEqual(summarize(loaded.state).damaged, loaded.state.damaged);
    const listed = listSessions(copy.root);
    assert.equal(listed.sessions.length, 1);
    assert.equal(listed.sessions[0].state.status, 'interrupted');

    // Resume says so (the warning) and runs a again; b, which succeeded, keeps its result.
    const started = await resumeSession(id, runOpts(copy));
    assert.deepEqual(started.reset, ['a']);
    assert.match(started.warnings.join('\n'), /damaged: line \d+ lost event \d+: step\.finished of step a/);
    const r = await finish(copy, started);
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    assert.equal(count(copy, 'a.count'), 1, 'the copy ran a once (the original run was in another repo)');
    assert.equal(count(copy, 'b.count'), 0, 'b succeeded before: not run again');
    // The damage is still there and still reported; the state agrees with the log read again.
    assert.deepEqual(r.state.damaged?.map((d) => d.line), [n]);
    const again = loadSession(copy.root, id);
    assert.equal(again.state.status, 'succeeded');
    assert.match(again.warnings.join('\n'), /damaged/);
    const rebuilt = rebuild(readEvents(sessionPaths(copy.root, id).log).events)!;
    assert.deepEqual(statuses(rebuilt), statuses(again.state));
  });

  it('a lost session.started: the session is still listed and shown from its other events, resume refuses in one line, nothing says delete', async () => {
    const copy = copyOf(repo, id);
    damage(copy, id, 1, (l) => l.slice(0, 40) + l.slice(60));
    const listed = listSessions(copy.root);
    assert.equal(listed.sessions.length, 1, `the session vanished from list: ${listed.warnings.join('; ')}`);
    const s = listed.sessions[0].state;
    assert.equal(s.status, 'succeeded', 'its session.finished event is intact');
    assert.deepEqual(statuses(s), { a: 'succeeded', b: 'succeeded' });
    assert.deepEqual(s.damaged, [{ line: 1, lost: 'event 1: session.started (the workflow and inputs)', seq: 1, type: 'session.started' }]);
    assert.match(listed.warnings.join('\n'), /line 1 lost event 1: session\.started.*it can be shown, not resumed/);
    assert.doesNotMatch(listed.warnings.join('\n'), /delete|stopped while creating/);
    await assert.rejects(resumeSession(id, runOpts(copy)), (e: Error) => e instanceof InputError && /cannot be resumed: line 1 of its log\.jsonl, the session\.started event, is damaged/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(resumeSession(id, runOpts(copy, {})), InputError);
    assert.ok(fs.existsSync(sessionPaths(copy.root, id).log), 'the data stays');
  });

  it("the host's session list carries the damage", () => {
    const copy = copyOf(repo, id);
    damage(copy, id, 2, (l) => l.replace('"time":', '"time'));
    const watcher = new SessionWatcher(copy.root);
    watcher.start();
    try {
      const [summary] = watcher.list();
      assert.equal(summary.id, id);
      assert.deepEqual(summary.damaged, [{ line: 2, lost: 'event 2: step.started of step a', seq: 2, type: 'step.started', step: 'a' }]);
    } finally {
      watcher.stop();
    }
  });

  it('a line of garbage between two events lost nothing; a damaged line after the snapshot is numbered as in the file', () => {
    const copy = copyOf(repo, id, true);
    const file = sessionPaths(copy.root, id).log;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // state.json reflecting the first 2 events only, then garbage after line 3.
    const first = lines.slice(0, 2).join('\n') + '\n';
    const snap = { ...rebuild(readEvents(file).events.slice(0, 2))!, logOffset: Buffer.byteLength(first) };
    fs.writeFileSync(sessionPaths(copy.root, id).state, JSON.stringify(snap));
    lines.splice(3, 0, 'garbage \u0000\u0000\u0000');
    fs.writeFileSync(file, lines.join('\n'));
    const loaded = loadSession(copy.root, id);
    assert.deepEqual(loaded.state.damaged, [{ line: 4, lost: 'no event (the events around it follow each other)' }]);
    assert.equal(loaded.state.status, 'succeeded', 'nothing was lost');
  });

  it('a torn last line is still ignored without a word', () => {
    const copy = copyOf(repo, id);
    const file = sessionPaths(copy.root, id).log;
    fs.appendFileSync(file, '{"seq":99,"ti');
    const loaded = loadSession(copy.root, id);
    assert.equal(loaded.state.damaged, undefined);
    assert.doesNotMatch(loaded.warnings.join('\n'), /damaged/);
    assert.equal(loaded.state.status, 'succeeded');
    fs.appendFileSync(file, 'me\n'); // now ends in a complete line that does not parse: still the torn last one
    assert.equal(loadSession(copy.root, id).state.damaged, undefined);
  });
});

describe('state.json missing', () => {
  it('is rebuilt from the log and written back once (atomically), so the warning is given once', async () => {
    const repo = makeRepo(WORKFLOW);
    const r = await runToRest(repo);
    const paths = sessionPaths(repo.root, r.id);
    const before = fs.readFileSync(paths.state, 'utf8');
    fs.rmSync(paths.state);
    const first = loadSession(repo.root, r.id);
    assert.deepEqual(first.warnings, [`session ${r.id} has no state.json; rebuilt it from log.jsonl and saved it`]);
    assert.deepEqual(JSON.parse(fs.readFileSync(paths.state, 'utf8')), JSON.parse(before));
    assert.deepEqual(loadSession(repo.root, r.id).warnings, [], 'said once');
    assert.deepEqual(fs.readdirSync(paths.dir).filter((f) => f.endsWith('.tmp')), []);
    // A corrupt one is replaced too.
    fs.writeFileSync(paths.state, '{"id": "half');
    assert.match(loadSession(repo.root, r.id).warnings.join(), /does not parse; rebuilt it from log\.jsonl and saved it/);
    assert.deepEqual(loadSession(repo.root, r.id).warnings, []);
  });

  it('is not written while a live process owns the session (its runner writes its own)', async () => {
    const repo = makeRepo(WORKFLOW);
    const r = await runToRest(repo);
    const paths = sessionPaths(repo.root, r.id);
    fs.rmSync(paths.state);
    const lock = await acquireLock(paths.lock);
    try {
      assert.deepEqual(loadSession(repo.root, r.id).warnings, [`session ${r.id} has no state.json; rebuilt it from log.jsonl`]);
      assert.equal(fs.existsSync(paths.state), false);
    } finally {
      lock.release();
    }
    assert.match(loadSession(repo.root, r.id).warnings.join(), /and saved it/);
    assert.ok(fs.existsSync(paths.state));
  });
});
