/**
 * Storage: state.json is a snapshot of log.jsonl (it can be rebuilt from the log alone), a missing
 * or corrupt snapshot is rebuilt with a warning, and a torn last log line is ignored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlSession, resumeSession } from '../../server/src/engine/sessions';
import { rebuild } from '../../server/src/engine/state';
import type { SessionState } from '../../server/src/engine/types';
import { readEvents } from '../../server/src/store/eventLog';
import { loadSession, sessionPaths } from '../../server/src/store/sessionStore';
import { cleanupRepos, finish, makeRepo, runOpts, runToRest, statuses, type Finished, type Repo } from './helpers';

after(cleanupRepos);

const WORKFLOW = `
name: storage
concurrency: 2
inputs:
  who: { default: world }
steps:
  - id: hello
    run: |
      echo "hello \${{ inputs.who }}"
      echo "greeting=hello \${{ inputs.who }}" >> "$ORCHESTRATOR_OUTPUT"
      echo "::finding severity=medium file=src/x.ts line=4 rule=r1::first"
  - id: fan
    needs: hello
    matrix:
      n: [1, 2]
    run: |
      echo "::finding severity=high file=src/x.ts line=4 rule=r1::again from \${{ matrix.n }}"
      echo "n=\${{ matrix.n }}" >> "$ORCHESTRATOR_OUTPUT"
  - id: flaky
    retry: { max_attempts: 2, backoff: 20ms }
    run: |
      if [ ! -e flaky.once ]; then touch flaky.once; exit 1; fi
  - id: skipped
    if: inputs.who == 'nobody'
    run: echo never
  - id: fails
    needs: [fan, flaky]
    run: |
      [ -e fails.ok ]
`;

/** The state as loadSession and rebuild give it, without what only describes the reading. */
function comparable(s: SessionState): SessionState {
  return JSON.parse(JSON.stringify(s)) as SessionState;
}

function rebuiltFromLog(repo: Repo, id: string): SessionState {
  const read = readEvents(sessionPaths(repo.root, id).log);
  assert.equal(read.torn, false);
  assert.equal(read.skipped, 0);
  const s = rebuild(read.events);
  assert.ok(s, 'the log has no session.started');
  return s;
}

/** A copy of a session's folder (only the files named) in a fresh repo. */
function copySession(from: Repo, id: string, files: string[]): Repo {
  const to = makeRepo();
  const src = sessionPaths(from.root, id);
  const dst = sessionPaths(to.root, id);
  fs.mkdirSync(dst.dir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(src.dir, f), path.join(dst.dir, f));
  return to;
}

describe('storage', () => {
  let repo: Repo;
  let first: Finished;

  before(async () => {
    repo = makeRepo(WORKFLOW);
    first = await runToRest(repo);
  });

  it('state.json parses and equals the state rebuilt from log.jsonl alone (also after a resume)', async () => {
    assert.equal(first.state.status, 'failed', JSON.stringify(statuses(first.state)));
    assert.equal(first.state.steps.fails.status, 'failed');
    assert.equal(first.state.steps.flaky.attempt, 2);
    assert.equal(first.state.steps.skipped.status, 'skipped');
    assert.equal(first.state.findings.length, 1);
    assert.equal(first.state.findings[0].sources.length, 3);
    const paths = sessionPaths(repo.root, first.id);

    const raw = JSON.parse(fs.readFileSync(paths.state, 'utf8')) as SessionState & { logOffset: number; v?: number; by?: string };
    assert.equal(raw.logOffset, fs.statSync(paths.log).size, 'the snapshot reflects the whole log');
    assert.equal(raw.v, 2, 'state.json carries its state format (docs/state-and-retention.md)');
    const { logOffset: _o, v: _v, by: _b, ...snapshot } = raw;
    assert.deepEqual(comparable(snapshot), comparable(rebuiltFromLog(repo, first.id)));
    assert.deepEqual(comparable(first.state), comparable(rebuiltFromLog(repo, first.id)));
    assert.deepEqual(comparable(first.final), comparable(first.state), 'what the runner returned is what it persisted');
    assert.deepEqual(first.warnings, []);

    // Resume (the failing step now passes): still the same state both ways.
    fs.writeFileSync(repo.path('fails.ok'), '');
    const r = await finish(repo, await resumeSession(first.id, runOpts(repo)));
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    assert.deepEqual(comparable(r.state), comparable(rebuiltFromLog(repo, first.id)));
    const leftovers = fs.readdirSync(paths.dir).filter((f) => f.endsWith('.tmp'));
    assert.deepEqual(leftovers, [], 'temp files of atomic writes are left behind');
  });

  it('a missing state.json is rebuilt from the log, with a warning', () => {
    const copy = copySession(repo, first.id, ['log.jsonl']);
    const loaded = loadSession(copy.root, first.id);
    assert.equal(loaded.warnings.length, 1);
    assert.match(loaded.warnings[0], /no state\.json; rebuilt it from log\.jsonl/);
    assert.deepEqual(comparable(loaded.state), comparable(loadSession(repo.root, first.id).state));
  });

  it('a snapshot taken mid-run (findings reported, not merged yet, nothing after it in the log) still gives the merged findings', () => {
    const copy = copySession(repo, first.id, ['log.jsonl', 'state.json']);
    const file = sessionPaths(copy.root, first.id).state;
    const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as SessionState & { logOffset: number };
    assert.ok(snap.rawFindings.length > 0 && snap.logOffset === fs.statSync(sessionPaths(copy.root, first.id).log).size);
    fs.writeFileSync(file, JSON.stringify({ ...snap, findings: [] }));
    const loaded = loadSession(copy.root, first.id);
    assert.deepEqual(loaded.warnings, []);
    assert.deepEqual(comparable(loaded.state).findings, comparable(first.state).findings);
  });

  it('a corrupt state.json is rebuilt from the log, with a warning', () => {
    for (const garbage of ['{"id": "half a snap', '', 'null', '[]', '{"logOffset": "x"}', '{"id":"x","steps":{},"order":["a"],"seq":1,"logOffset":0}']) {
      const copy = copySession(repo, first.id, ['log.jsonl']);
      fs.writeFileSync(sessionPaths(copy.root, first.id).state, garbage);
      const loaded = loadSession(copy.root, first.id);
      assert.equal(loaded.warnings.length, 1, `state.json ${JSON.stringify(garbage)}: ${JSON.stringify(loaded.warnings)}`);
      assert.match(loaded.warnings[0], /state\.json/);
      assert.deepEqual(comparable(loaded.state), comparable(loadSession(repo.root, first.id).state), `state.json ${JSON.stringify(garbage)}`);
    }
  });

  it('a torn last record: at every byte offset readEvents does not throw and ignores it, loadSession works', () => {
    const log = fs.readFileSync(sessionPaths(repo.root, first.id).log);
    const all = readEvents(sessionPaths(repo.root, first.id).log).events;
    const whole = loadSession(repo.root, first.id).state;
    const lastStart = log.lastIndexOf(10, log.length - 2) + 1;
    const last = JSON.parse(log.subarray(lastStart).toString()) as { type: string };
    assert.equal(last.type, 'session.finished');
    const copy = copySession(repo, first.id, []);
    const file = sessionPaths(copy.root, first.id).log;
    for (let cut = lastStart; cut < log.length; cut++) {
      fs.writeFileSync(file, log.subarray(0, cut));
      const read = readEvents(file);
      assert.equal(read.events.length, all.length - 1, `cut at ${cut}`);
      assert.deepEqual(read.events.at(-1), all.at(-2));
      assert.equal(read.torn, cut > lastStart, `cut at ${cut}`);
      assert.equal(read.endOffset, lastStart, `cut at ${cut}`);
      const loaded = loadSession(copy.root, first.id);
      // Without session.finished the session was still live: its runner is gone, so interrupted.
      assert.equal(loaded.state.status, 'interrupted', `cut at ${cut}`);
      assert.equal(loaded.state.seq, all.length - 1);
      assert.deepEqual(statuses(loaded.state), statuses(whole));
    }
  });

  it('cancelling a session at rest cuts a torn last line before appending', async () => {
    const log = fs.readFileSync(sessionPaths(repo.root, first.id).log);
    const lastStart = log.lastIndexOf(10, log.length - 2) + 1;
    const copy = copySession(repo, first.id, []);
    const file = sessionPaths(copy.root, first.id).log;
    fs.writeFileSync(file, log.subarray(0, lastStart + 25));
    assert.equal(loadSession(copy.root, first.id).state.status, 'interrupted');
    const done = await controlSession(copy.root, first.id, { type: 'cancel', reason: 'given up' });
    assert.equal(done.applied, 'done');
    const read = readEvents(file);
    assert.equal(read.torn, false);
    assert.equal(read.skipped, 0, 'the torn line and the first appended event became one bad line');
    assert.equal(read.events.at(-1)?.type, 'session.finished');
    const loaded = loadSession(copy.root, first.id);
    assert.equal(loaded.state.status, 'cancelled');
    assert.equal(loaded.state.reason, 'given up');
    assert.deepEqual(comparable(loaded.state), comparable(rebuild(read.events)!));
  });

  it('resume cuts a torn last line before appending: every line of the log parses afterwards', async () => {
    const log = fs.readFileSync(sessionPaths(repo.root, first.id).log);
    const lastStart = log.lastIndexOf(10, log.length - 2) + 1;
    const copy = copySession(repo, first.id, []);
    fs.writeFileSync(copy.path('fails.ok'), '');
    const file = sessionPaths(copy.root, first.id).log;
    fs.writeFileSync(file, log.subarray(0, lastStart + 25));
    const r = await finish(copy, await resumeSession(first.id, runOpts(copy)));
    assert.equal(r.state.status, 'succeeded', JSON.stringify(statuses(r.state)));
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the log ends with a newline');
    const seqs = lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      'seqs are 1..n',
    );
    assert.deepEqual(comparable(r.state), comparable(rebuild(readEvents(file).events)!));
    // The copy had no state.json: the resumed runner wrote one again.
    const snap = JSON.parse(fs.readFileSync(sessionPaths(copy.root, first.id).state, 'utf8')) as SessionState;
    assert.equal(snap.status, 'succeeded');
    assert.deepEqual(loadSession(copy.root, first.id).warnings, []);
  });
});
