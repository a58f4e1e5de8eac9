/**
 * A runner killed in its first instant leaves a session folder without a single event (hidden from
 * `list`). The next runner removes it, unless a live runner owns it (it has the lock and is about to
 * write its first event). A new session's folder is born with its lock (made and locked under a
 * temp name, then renamed into place), so a folder without a lock and without events is a leftover
 * whatever its age; a staged folder is removed once its runner is dead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { startSession } from '../../server/src/engine/sessions';
import { acquireLock } from '../../server/src/store/lock';
import { deleteSession } from '../../server/src/store/sessionFolders';
import { listSessions, sessionPaths } from '../../server/src/store/sessionStore';
import { cleanupRepos, makeRepo, runOpts, type Repo } from './helpers';

after(cleanupRepos);

const WF = 'name: w\nsteps:\n  - id: a\n    run: echo hi\n';

/** A pid that is certainly dead: a process that ran and exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** A session folder as a killed runner leaves it: `lock` (owned by `pid`, when given) and an empty (or torn) log. */
function emptySession(repo: Repo, id: string, opts: { lockPid?: number; log?: string; ageMs?: number } = {}): string {
  const p = sessionPaths(repo.root, id);
  fs.mkdirSync(p.dir, { recursive: true });
  if (opts.log !== undefined) fs.writeFileSync(p.log, opts.log);
  if (opts.lockPid !== undefined) {
    fs.writeFileSync(p.lock, JSON.stringify({ pid: opts.lockPid, host: os.hostname(), token: `tok${opts.lockPid}abcdef`, acquiredAt: new Date().toISOString() }) + '\n');
  }
  fs.writeFileSync(p.runnerLog, '');
  if (opts.ageMs) {
    const t = new Date(Date.now() - opts.ageMs);
    fs.utimesSync(p.dir, t, t);
  }
  return p.dir;
}

async function startOne(repo: Repo): Promise<string> {
  const s = await startSession(repo.file, {}, runOpts(repo));
  assert.equal((await s.done).status, 'succeeded');
  return s.id;
}

describe('session folders without events', () => {
  it('left by a dead runner (stale lock, empty or torn log): the next runner removes them, and their runner logs', async () => {
    const repo = makeRepo(WF);
    const a = emptySession(repo, '20260101-000000-aaaa', { lockPid: deadPid(), log: '' });
    const b = emptySession(repo, '20260101-000000-bbbb', { lockPid: deadPid(), log: '{"seq":1,"type":"session.sta' });
    const c = emptySession(repo, '20260101-000000-cccc', { log: '' }); // left by an older release, killed before it took the lock; young
    assert.equal(listSessions(repo.root).warnings.filter((w) => /has no events/.test(w)).length, 3, 'list hides them');
    await startOne(repo);
    for (const d of [a, b, c]) assert.ok(!fs.existsSync(d), `${path.basename(d)} removed`);
    assert.ok(!fs.existsSync(sessionPaths(repo.root, '20260101-000000-aaaa').runnerLog), 'its runner log too');
    assert.deepEqual(listSessions(repo.root).warnings, []);
  });

  it('a folder whose runner has the lock but has not written its first event is kept', async () => {
    const repo = makeRepo(WF);
    const owned = emptySession(repo, '20260101-000000-dddd');
    const lock = await acquireLock(sessionPaths(repo.root, '20260101-000000-dddd').lock, { heartbeatMs: 0 });
    try {
      await startOne(repo);
      assert.ok(fs.existsSync(owned), 'the owned folder is kept');
      assert.ok(lock.verify(), 'and its lock still belongs to its runner');
    } finally {
      lock.release();
    }
  });

  it('a session with events is never removed, even when its runner died', async () => {
    const repo = makeRepo(WF);
    const id = await startOne(repo);
    fs.writeFileSync(sessionPaths(repo.root, id).lock, JSON.stringify({ pid: deadPid(), host: os.hostname(), token: 'stale0000000', acquiredAt: new Date().toISOString() }) + '\n');
    await startOne(repo);
    assert.ok(fs.existsSync(sessionPaths(repo.root, id).dir));
  });

  it('delete (prune-style clean-up) removes them too', async () => {
    const repo = makeRepo(WF);
    const id = await startOne(repo);
    const empty = emptySession(repo, '20260101-000000-ffff', { lockPid: deadPid(), log: '' });
    await deleteSession(repo.root, id);
    assert.ok(!fs.existsSync(empty));
  });
});
