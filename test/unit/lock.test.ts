import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acquireLock, describeOwner, LockHeldError, lockStatus, readLock, type LockInfo } from '../../server/src/store/lock';

const ROOT = path.join(__dirname, '..', '..');
const CONTENDER = path.join(ROOT, 'test', 'fixtures', 'lock', 'contender.ts');
const HOST = os.hostname();
const HAS_PROC = fs.existsSync(`/proc/${process.pid}/stat`);

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lock-'));
  tempDirs.push(d);
  return d;
}

function writeLock(file: string, info: Partial<LockInfo> & { pid: number }, ageMs = 0): LockInfo {
  const full: LockInfo = { host: HOST, token: `t${Math.random().toString(36).slice(2, 12)}x`, acquiredAt: new Date().toISOString(), ...info };
  fs.writeFileSync(file, JSON.stringify(full));
  if (ageMs) setAge(file, ageMs);
  return full;
}

function setAge(file: string, ageMs: number): void {
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(file, t, t);
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid);
  return r.pid;
}

async function rejectsHeld(p: Promise<unknown>): Promise<LockHeldError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LockHeldError, `expected LockHeldError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected LockHeldError, but the lock was acquired');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  result: 'ok' | 'held' | 'error' | 'released';
  ownerPid?: number;
  message?: string;
}

/** A child process running test/fixtures/lock/contender.ts, driven one JSON line at a time. */
class Contender {
  readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly pending: ((r: Reply) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor(lockFile: string, logFile: string, jitter: boolean) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CONTENDER, lockFile, logFile, ...(jitter ? ['--jitter'] : [])], { cwd: ROOT });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.pending.shift()?.(JSON.parse(line) as Reply);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => process.stderr.write(`[contender ${this.pid}] ${s}`));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(cmd: object): Promise<Reply> {
    const reply = new Promise<Reply>((resolve) => this.pending.push(resolve));
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
    return reply;
  }

  /** Resolves once the contender has loaded the lock module and answers. */
  ready(): Promise<Reply> {
    return this.send({ cmd: 'release' });
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

describe('session lock', () => {
  it('acquires and releases; a second acquire is refused naming pid and host', async () => {
    const file = path.join(tempDir(), 'lock');
    const h = await acquireLock(file, { heartbeatMs: 0 });
    assert.equal(h.info.pid, process.pid);
    assert.equal(h.info.host, HOST);
    assert.match(h.info.token, /^[0-9a-f]{24}$/);
    if (HAS_PROC) assert.equal(typeof h.info.procStart, 'number');
    assert.deepEqual(readLock(file), h.info);
    assert.deepEqual(lockStatus(file), { state: 'held', owner: h.info });
    assert.ok(h.verify());

    const err = await rejectsHeld(acquireLock(file, { heartbeatMs: 0 }));
    assert.equal(err.reason, 'owned');
    assert.deepEqual(err.owner, h.info);
    assert.match(err.message, new RegExp(`^session is owned by process ${process.pid} on host ${HOST.replace(/\W/g, '\\$&')} \\(since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\); wait for it to finish, or stop it first$`));

    assert.equal(h.release(), true);
    assert.equal(fs.existsSync(file), false);
    assert.deepEqual(lockStatus(file), { state: 'free' });
    assert.equal(h.release(), false);
    const again = await acquireLock(file, { heartbeatMs: 0 });
    again.release();
  });

  it('describes an owner for messages', () => {
    assert.equal(describeOwner({ pid: 1234, host: 'dev-box', token: 'abcdefgh', acquiredAt: '2026-11-21T10:45:12.345Z' }), 'process 1234 on host dev-box (since 2026-11-21T10:45:12Z)');
  });

  it('releases only its own lock, and reports a lost lock', async () => {
    const file = path.join(tempDir(), 'lock');
    const lost: (LockInfo | undefined)[] = [];
    const h = await acquireLock(file, { heartbeatMs: 0, onLost: (owner) => lost.push(owner) });
    const other = writeLock(file, { pid: deadPid() }); // as if someone had taken it over
    assert.equal(h.verify(), false);
    assert.equal(h.heartbeat(), false);
    assert.deepEqual(lost, [other]);
    assert.equal(h.release(), false);
    assert.deepEqual(readLock(file), other);
  });

  it('heartbeats: touches the mtime, by hand and on a timer that can be stopped', async () => {
    const file = path.join(tempDir(), 'lock');
    const h = await acquireLock(file, { heartbeatMs: 20 });
    try {
      setAge(file, 3_600_000);
      // Wait for the timer's touch (bounded by a hang guard, not by a time window).
      for (let i = 0; i < 6000 && Date.now() - fs.statSync(file).mtimeMs >= 5_000; i++) await sleep(10);
      assert.ok(Date.now() - fs.statSync(file).mtimeMs < 5_000, 'the timer touched the lock');
      h.stopHeartbeat();
      setAge(file, 3_600_000);
      await sleep(80);
      assert.ok(Date.now() - fs.statSync(file).mtimeMs > 3_000_000, 'no beat after stopHeartbeat');
      assert.equal(h.heartbeat(), true);
      assert.ok(Date.now() - fs.statSync(file).mtimeMs < 5_000);
    } finally {
      h.release();
    }
  });

  it('takes over the lock of a process that was killed', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'lock');
    const c = new Contender(file, path.join(dir, 'log'), false);
    await c.ready();
    assert.equal((await c.send({ cmd: 'acquire', impl: 'real', mode: 'hold' })).result, 'ok');
    assert.equal(readLock(file)?.pid, c.pid);
    assert.equal(lockStatus(file).state, 'held');
    await rejectsHeld(acquireLock(file, { heartbeatMs: 0 }));
    await c.kill();
    const st = lockStatus(file);
    assert.equal(st.state, 'stale');
    assert.equal(st.owner?.pid, c.pid);
    const h = await acquireLock(file, { heartbeatMs: 0 });
    assert.deepEqual(readLock(file), h.info);
    assert.equal(h.release(), true);
  });

  it('treats a recycled pid (same pid, another start time) as dead', { skip: !HAS_PROC && 'no /proc' }, async () => {
    const file = path.join(tempDir(), 'lock');
    const mine = (await acquireLock(file, { heartbeatMs: 0 })).info;
    fs.unlinkSync(file);
    writeLock(file, { pid: process.pid, procStart: mine.procStart! + 1 });
    assert.equal(lockStatus(file).state, 'stale');
    writeLock(file, { pid: process.pid, procStart: mine.procStart });
    assert.equal(lockStatus(file).state, 'held');
    writeLock(file, { pid: process.pid, procStart: mine.procStart! - 1 });
    const h = await acquireLock(file, { heartbeatMs: 0 });
    h.release();
  });

  it('a lock file that does not parse is held while young, stale when old', async () => {
    for (const content of ['', '{"pid": 12', 'garbage', '{"pid": 1}']) {
      const file = path.join(tempDir(), 'lock');
      fs.writeFileSync(file, content);
      assert.deepEqual(lockStatus(file), { state: 'held' }, JSON.stringify(content));
      assert.equal(readLock(file), undefined);
      const err = await rejectsHeld(acquireLock(file, { heartbeatMs: 0, settleMs: 60 }));
      assert.equal(err.reason, 'busy');
      assert.equal(err.owner, undefined);
      assert.match(err.message, /being written by another process/);
      setAge(file, 10_000);
      assert.deepEqual(lockStatus(file), { state: 'stale' });
      const h = await acquireLock(file, { heartbeatMs: 0 });
      assert.deepEqual(readLock(file), h.info);
      h.release();
    }
  });

  it('waits for a lock that is being written and then names its owner', async () => {
    const file = path.join(tempDir(), 'lock');
    fs.writeFileSync(file, '');
    setTimeout(() => writeLock(file, { pid: process.pid }), 50);
    // Long settle and partial-stale times: only the write ends the wait, however late the timer fires.
    const err = await rejectsHeld(acquireLock(file, { heartbeatMs: 0, settleMs: 60_000, partialStaleMs: 60_000 }));
    assert.equal(err.reason, 'owned');
    assert.equal(err.owner?.pid, process.pid);
  });

  it('a lock from another host is held while its heartbeat is fresh, stale when it stopped', async () => {
    const file = path.join(tempDir(), 'lock');
    writeLock(file, { pid: 4242, host: 'elsewhere.invalid' });
    assert.equal(lockStatus(file).state, 'held');
    const err = await rejectsHeld(acquireLock(file, { heartbeatMs: 0 }));
    assert.match(err.message, /process 4242 on host elsewhere\.invalid/);
    setAge(file, 61_000);
    assert.equal(lockStatus(file).state, 'stale');
    assert.equal(lockStatus(file, { staleMs: 120_000 }).state, 'held');
    const h = await acquireLock(file, { heartbeatMs: 0 });
    assert.equal(readLock(file)?.host, HOST);
    h.release();
  });

  describe('takeover markers', () => {
    it('a marker left by a taker that died does not block the takeover', async () => {
      const file = path.join(tempDir(), 'lock');
      const stale = writeLock(file, { pid: deadPid() });
      writeLock(`${file}.takeover.${stale.token}.0`, { pid: deadPid() });
      fs.writeFileSync(`${file}.takeover.${stale.token}.1`, ''); // died between create and write
      setAge(`${file}.takeover.${stale.token}.1`, 10_000);
      const h = await acquireLock(file, { heartbeatMs: 0 });
      assert.deepEqual(readLock(file), h.info);
      assert.equal(fs.existsSync(`${file}.takeover.${stale.token}.2`), false, 'the winner removes its own marker');
      h.release();
    });

    it('a live taker holding the marker makes others wait, then refuse naming it', async () => {
      const file = path.join(tempDir(), 'lock');
      const stale = writeLock(file, { pid: deadPid() });
      writeLock(`${file}.takeover.${stale.token}.0`, { pid: process.pid }); // alive: us
      const err = await rejectsHeld(acquireLock(file, { heartbeatMs: 0, settleMs: 100 }));
      assert.equal(err.reason, 'takeover');
      assert.equal(err.owner?.pid, process.pid);
      assert.match(err.message, new RegExp(`^session is being taken over by process ${process.pid} on host `));
      assert.deepEqual(readLock(file), stale, 'the stale lock was left alone');
      fs.unlinkSync(`${file}.takeover.${stale.token}.0`); // the taker finishes
      (await acquireLock(file, { heartbeatMs: 0 })).release();
    });

    it('old markers of other generations are collected after an acquire', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'lock');
      writeLock(`${file}.takeover.oldgeneration1.0`, { pid: deadPid() }, 120_000);
      writeLock(`${file}.takeover.x123-456.3`, { pid: process.pid }, 120_000);
      writeLock(`${file}.takeover.younggeneration.0`, { pid: deadPid() });
      const h = await acquireLock(file, { heartbeatMs: 0 });
      assert.deepEqual(fs.readdirSync(dir).sort(), ['lock', 'lock.takeover.younggeneration.0']);
      h.release();
    });
  });

  it('concurrent acquires in one process: exactly one wins', async () => {
    const file = path.join(tempDir(), 'lock');
    writeLock(file, { pid: deadPid() });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLock(file, { heartbeatMs: 0 })));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    const winner = won[0].value;
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as LockHeldError).owner?.token, winner.info.token);
    winner.release();
  });

  describe('race: N processes find the same stale lock at the same moment', () => {
    const N = 8;
    const ROUNDS = 10;
    const dir = tempDir();
    const file = path.join(dir, 'lock');
    const log = path.join(dir, 'log');
    let pool: Contender[] = [];
    let dead = 0;

    before(async () => {
      dead = deadPid();
      pool = Array.from({ length: N }, () => new Contender(file, log, true));
      await Promise.all(pool.map((c) => c.ready()));
    });
    after(async () => {
      await Promise.all(pool.map((c) => c.close()));
    });

    /** A stale lock of one of three kinds: dead pid, unreadable and old, another host's with a stopped heartbeat. */
    function plantStale(round: number): void {
      const kind = round % 3;
      if (kind === 0) writeLock(file, { pid: dead, procStart: 1 });
      else if (kind === 1) {
        fs.writeFileSync(file, round % 2 ? '' : '{"pid":');
        setAge(file, 10_000);
      } else writeLock(file, { pid: 4242, host: 'elsewhere.invalid' }, 120_000);
      assert.equal(lockStatus(file).state, 'stale');
      fs.writeFileSync(log, '');
    }

    /** All contenders are idle, waiting on stdin: one line each, written back to back, starts them together. */
    function go(impl: 'real' | 'naive', mode: 'cycle' | 'hold' | 'abandon'): Promise<Reply[]> {
      return Promise.all(pool.map((c) => c.send({ cmd: 'acquire', impl, mode, deadPid: dead })));
    }

    /** The log's enter/exit pairs must not overlap: returns the pids that entered, in order. */
    function checkLog(): number[] {
      const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const entered: number[] = [];
      let inside: number | undefined;
      for (const line of lines) {
        const [what, pid] = line.split(' ');
        if (what === 'enter') {
          assert.equal(inside, undefined, `process ${pid} entered while ${inside} was inside:\n${lines.join('\n')}`);
          inside = Number(pid);
          entered.push(inside);
        } else {
          assert.equal(Number(pid), inside, `unexpected ${line}:\n${lines.join('\n')}`);
          inside = undefined;
        }
      }
      return entered;
    }

    async function releaseAll(): Promise<void> {
      await Promise.all(pool.map((c) => c.send({ cmd: 'release' })));
    }

    it(`acquire, hold 50 ms, release: never two inside at once (${ROUNDS} rounds)`, async () => {
      const pids = new Set(pool.map((c) => c.pid));
      for (let round = 0; round < ROUNDS; round++) {
        plantStale(round);
        const replies = await go('real', 'cycle');
        const entered = checkLog();
        const ok = replies.filter((r) => r.result === 'ok').length;
        assert.ok(ok >= 1, `round ${round}: nobody acquired: ${JSON.stringify(replies)}`);
        assert.equal(entered.length, ok);
        for (const r of replies) {
          assert.notEqual(r.result, 'error', r.message);
          if (r.result === 'held') assert.ok(r.ownerPid !== undefined && pids.has(r.ownerPid), `round ${round}: ${r.message}`);
        }
        assert.deepEqual(lockStatus(file), { state: 'free' });
      }
    });

    it(`winners keep holding: exactly one of ${N} succeeds, the others are told its pid (${ROUNDS} rounds)`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        plantStale(round);
        const replies = await go('real', 'hold');
        const winners = pool.filter((_, i) => replies[i].result === 'ok');
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(replies)}`);
        const winner = winners[0].pid;
        for (const r of replies) if (r.result !== 'ok') assert.deepEqual([r.result, r.ownerPid], ['held', winner], `round ${round}: ${r.message}`);
        assert.deepEqual(checkLog(), [winner]);
        const st = lockStatus(file);
        assert.equal(st.state, 'held');
        assert.equal(st.owner?.pid, winner);
        await releaseAll();
        checkLog();
        assert.deepEqual(lockStatus(file), { state: 'free' });
      }
    });

    it(`owners that die at once: each new stale lock is taken over by one process at a time (${ROUNDS} rounds)`, async () => {
      // Slow contenders still working on an older generation meet a newer stale one: the generation
      // check under the takeover marker is what keeps them from unlinking it under its new taker.
      for (let round = 0; round < ROUNDS; round++) {
        plantStale(round);
        const replies = await go('real', 'abandon');
        for (const r of replies) assert.equal(r.result, 'ok', r.message);
        assert.deepEqual(checkLog().sort(), pool.map((c) => c.pid).sort());
        assert.equal(lockStatus(file).state, 'stale');
      }
    });

    it('the same harness catches the naive unlink-then-create takeover double-acquiring', async () => {
      let doubled = -1;
      for (let round = 0; round < 30 && doubled < 0; round++) {
        plantStale(round);
        const replies = await go('naive', 'hold');
        if (replies.filter((r) => r.result === 'ok').length > 1) doubled = round;
        await releaseAll();
        fs.rmSync(file, { force: true });
      }
      assert.ok(doubled >= 0, 'the naive takeover never let two processes in: the harness cannot tell a safe lock from an unsafe one');
    });
  });
});
