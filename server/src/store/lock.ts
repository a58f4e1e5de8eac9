/**
 * The session lock (sessions.md): `.orchestrator/sessions/<id>/lock`, held while a runner owns the
 * session. One owner at a time; a second runner is refused with a message naming the owner; a lock
 * whose owner is dead is stale and is taken over. Readers (list/show) use lockStatus() to tell a
 * live runner from a dead one.
 *
 * The file. Created with open(O_CREAT|O_EXCL) ('wx'), then the JSON LockInfo
 * `{ pid, host, token, acquiredAt, procStart? }` is written and fsync'd. `token` is random and names
 * this generation of the lock; `procStart` is the owner's start time (/proc/<pid>/stat field 22,
 * Linux) so that a recycled pid is not mistaken for the owner. The owner touches the file's mtime
 * every `heartbeatMs` (an unref'd timer) so that other hosts, which cannot probe the pid, see it live.
 *
 * Liveness of the owner of a readable lock:
 *   - same host: process.kill(pid, 0) (ESRCH: dead, EPERM: alive); with /proc, a zombie or a
 *     process whose start time differs from procStart is dead (pid reused). Exact.
 *   - another host: alive while the mtime is younger than `staleMs` (a lease; 60 s by default).
 * A lock whose content does not parse (its creator died between create and write, or is writing
 * right now) is held while its mtime is younger than `partialStaleMs` (5 s), stale after.
 *
 * Generation. A readable lock's generation is its token; an unreadable one's is `x<inode>-<mtimeNs>`
 * (writing content changes the mtime, so a lock that gets written is a new generation).
 *
 * Acquiring:
 *   1. open(lock, 'wx'): success → write, fsync, read back (still our token?) → acquired.
 *   2. EEXIST: read it. Live owner → LockHeldError. Unreadable and young → wait and retry.
 *   3. Stale, generation G: take it over, never by a bare "unlink then create" (two takers that both
 *      saw G stale: A unlinks G and creates A; B then unlinks A's lock and creates B: two owners).
 *      Instead the taker must first claim G:
 *        a. create `lock.takeover.<G>.<k>` with 'wx', for k = 0, 1, ...: level k+1 is tried only
 *           when the marker at level k exists and its creator is dead. A live creator → back off
 *           (sleep a few ms, start again at 1: by then it has finished and we find its live lock).
 *        b. holding the marker, read the lock again: still generation G and still stale? Then
 *           unlink it. (Another generation, a live owner or no file: do not unlink.)
 *        c. create the new lock with 'wx' (EEXIST: someone who found the path free got it fairly;
 *           start again at 1 and find them live).
 *        d. delete our marker (only after c, and only if it still holds our marker token).
 *   Markers of generations other than the current lock's are garbage and anyone may delete them
 *   (we do, when older than a minute, after acquiring).
 *
 * Why two processes never both own the lock. A process owns it from a successful 'wx' create until
 * the file it created is unlinked. Only two things unlink the lock path: the owner's release()
 * (only when the file holds its token) and a taker in step b. So the claim reduces to: a stale
 * generation G is unlinked at most once, and the unlink in step b removes G itself, not a successor.
 *   - At most one live process is between "claimed a marker for G" and "dropped it" at a time:
 *     each level is created with O_EXCL; a level is only skipped when its creator is dead, and a
 *     dead process does nothing more; a marker for G is only deleted by its own holder (after
 *     step c) while G is current. (Deleting a marker of a non-current generation lets a late
 *     process claim it, but that process re-reads in step b, sees another generation, backs off.)
 *   - Tokens are random, so once G is unlinked no lock of generation G ever exists again: a later
 *     holder of a G marker (a slow loser that read G long ago) finds another generation in step b.
 *   - Between the re-read in b and the unlink the file cannot change: changing it needs an unlink,
 *     i.e. another holder of a G claim (excluded above) or G's owner (dead: G is stale).
 *   - Every new lock is created with O_EXCL, so between two unlinks at most one create succeeds.
 * Crashes: a taker that dies holding a marker is dead, so the next taker uses the next level; one
 * that dies after unlinking leaves the path free (the next 'wx' create wins); one that dies after
 * creating but before writing leaves an empty lock, stale after partialStaleMs.
 *
 * Assumptions (the limits of any lock that outlives its owner's crashes): on one host, pid liveness
 * is exact. Across hosts (a shared file system) liveness is a lease: an owner frozen for longer
 * than staleMs, or a host whose clock is off by about that much, can be judged dead while it lives.
 * A process frozen for longer than partialStaleMs between creating a lock or a marker and writing
 * it can be judged dead (each write is read back, which catches most of those cases, not all).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive } from './liveness';
import { createExclusive, look, newInfo, unlinkQuiet, type LockInfo, type Seen } from './lockFile';

export type { LockInfo } from './lockFile';

export interface LockOptions {
  /** A lock from another host whose mtime is older than this is stale (the owner's heartbeat stopped). Default 60 000. */
  readonly staleMs?: number;
  /** A lock file whose content does not parse is stale when older than this, held while younger. Default 5 000. */
  readonly partialStaleMs?: number;
  /** How often the owner touches the file's mtime; 0: no automatic heartbeat. Default staleMs / 4. */
  readonly heartbeatMs?: number;
  /**
   * How long acquireLock keeps retrying while the lock is in a passing state (being written, being
   * taken over by another process) before it gives up with LockHeldError. Default partialStaleMs + 2 000.
   */
  readonly settleMs?: number;
  /** Called (once) when a heartbeat finds the lock no longer ours, with the lock file's current owner. */
  readonly onLost?: (current: LockInfo | undefined) => void;
}

export type LockStatus =
  | { readonly state: 'free' }
  /** `owner` is absent only while the lock file is being written. */
  | { readonly state: 'held'; readonly owner?: LockInfo }
  /** `owner` is absent when the stale lock file does not parse. */
  | { readonly state: 'stale'; readonly owner?: LockInfo };

export interface LockHandle {
  readonly file: string;
  readonly info: LockInfo;
  /** Removes the lock file if it still holds our token; stops the heartbeat. True when it removed it. */
  release(): boolean;
  /** Touches the lock file's mtime if it is still ours; false (and onLost) when it is not. */
  heartbeat(): boolean;
  /** Whether the lock file still holds our token. */
  verify(): boolean;
  /** Stops the automatic heartbeat (release() does too). */
  stopHeartbeat(): void;
}

/** Why acquireLock refused. */
export type LockHeldReason = 'owned' | 'takeover' | 'busy';

export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  /**
   * @param owner the lock's live owner ('owned'), or the process taking a stale lock over right
   * now ('takeover'); undefined when the lock file was still being written ('busy').
   */
  constructor(
    readonly file: string,
    readonly owner: LockInfo | undefined,
    readonly reason: LockHeldReason = 'owned',
  ) {
    super(
      reason === 'owned' && owner
        ? `session is owned by ${describeOwner(owner)}; wait for it to finish, or stop it first`
        : reason === 'takeover' && owner
          ? `session is being taken over by ${describeOwner(owner)}; try again in a moment`
          : `session lock ${file} is being written by another process; try again in a moment`,
    );
  }
}

/** `process 1234 on host dev-box (since 2026-11-21T10:45:12Z)` */
export function describeOwner(info: LockInfo): string {
  return `process ${info.pid} on host ${info.host} (since ${info.acquiredAt.replace(/\.\d+Z$/, 'Z')})`;
}

/** The lock file's content when it exists and parses. */
export function readLock(file: string): LockInfo | undefined {
  return look(file)?.info;
}

/** For readers: is the lock free, held by a live owner, or left by a dead one? */
export function lockStatus(file: string, opts: Pick<LockOptions, 'staleMs' | 'partialStaleMs'> = {}): LockStatus {
  const o = withDefaults(opts);
  let seen = look(file);
  // A lock being written right now parses within microseconds: give it a moment.
  for (let i = 0; i < 10 && seen && !seen.info && isLive(seen, o); i++) {
    sleepSync(5);
    seen = look(file);
  }
  if (!seen) return { state: 'free' };
  const owner = seen.info ? { owner: seen.info } : {};
  return isLive(seen, o) ? { state: 'held', ...owner } : { state: 'stale', ...owner };
}

/** Takes the lock, or throws LockHeldError when a live process holds it. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<LockHandle> {
  const o = withDefaults(opts);
  const deadline = Date.now() + o.settleMs;
  for (let n = 0; ; n++) {
    const r = attempt(file, o);
    if (r.kind === 'acquired') {
      collectMarkers(file, r.info.token);
      return new Handle(file, r.info, o);
    }
    if (r.kind === 'held') throw new LockHeldError(file, r.owner, 'owned');
    if (Date.now() >= deadline) throw new LockHeldError(file, r.owner, r.owner ? 'takeover' : 'busy');
    await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** n, 40) * (0.5 + Math.random())));
  }
}

/**
 * One synchronous attempt at the lock (a stale one is taken over as acquireLock does): the handle,
 * or undefined when a live process holds it or it is in a passing state (being written or taken
 * over). For short synchronous work by readers (settling an interrupted migration); no heartbeat
 * unless `heartbeatMs` says so.
 */
export function tryAcquireLockSync(file: string, opts: LockOptions = {}): LockHandle | undefined {
  const o = withDefaults({ heartbeatMs: 0, ...opts });
  const r = attempt(file, o);
  if (r.kind !== 'acquired') return undefined;
  collectMarkers(file, r.info.token);
  return new Handle(file, r.info, o);
}

/**
 * A handle for a lock this process took in a folder that it then renamed (the file moved with the
 * folder: same inode, same token), at the lock's new path. Throws when the file there is not it.
 */
export function adoptLock(file: string, info: LockInfo, opts: LockOptions = {}): LockHandle {
  if (look(file)?.info?.token !== info.token) throw new Error(`${file}: the lock there is not the one this process took`);
  return new Handle(file, info, withDefaults(opts));
}

// ---------------------------------------------------------------------------------------------

interface Resolved {
  readonly staleMs: number;
  readonly partialStaleMs: number;
  readonly heartbeatMs: number;
  readonly settleMs: number;
  readonly onLost?: (current: LockInfo | undefined) => void;
}

function withDefaults(opts: LockOptions): Resolved {
  const staleMs = opts.staleMs ?? 60_000;
  const partialStaleMs = opts.partialStaleMs ?? 5_000;
  return {
    staleMs,
    partialStaleMs,
    heartbeatMs: opts.heartbeatMs ?? staleMs / 4,
    settleMs: opts.settleMs ?? partialStaleMs + 2_000,
    ...(opts.onLost ? { onLost: opts.onLost } : {}),
  };
}

/** Takeover markers of other generations older than this are deleted after an acquire. */
const MARKER_GC_MS = 60_000;
/** Takeover levels tried before giving up (each one needs a taker that died mid-takeover). */
const MAX_LEVELS = 32;

type Attempt =
  | { kind: 'acquired'; info: LockInfo }
  | { kind: 'held'; owner: LockInfo }
  /** A passing state: retry shortly. `owner`: who is in the middle of something, when known. */
  | { kind: 'busy'; owner?: LockInfo };

/** One synchronous pass of the algorithm in the header (nothing else in this process interleaves). */
function attempt(file: string, o: Resolved): Attempt {
  const mine = newInfo();
  if (createExclusive(file, mine)) return confirm(file, mine);
  const seen = look(file);
  if (!seen) return { kind: 'busy' }; // released between our create and our read
  if (isLive(seen, o)) return seen.info ? { kind: 'held', owner: seen.info } : { kind: 'busy' };
  return takeOver(file, seen, o);
}

function takeOver(file: string, stale: Seen, o: Resolved): Attempt {
  const claim = claimGeneration(file, stale.gen, o);
  if (claim.kind === 'busy') return claim;
  try {
    const now = look(file);
    if (now) {
      if (now.gen !== stale.gen || isLive(now, o)) return { kind: 'busy' }; // replaced or revived: judge afresh
      unlinkQuiet(file);
    }
    const mine = newInfo();
    return createExclusive(file, mine) ? confirm(file, mine) : { kind: 'busy' };
  } finally {
    const m = look(claim.path);
    if (m?.info?.token === claim.token) unlinkQuiet(claim.path);
  }
}

/** Step a: an O_EXCL marker for generation `gen`, at the first level whose creator is not dead. */
function claimGeneration(file: string, gen: string, o: Resolved): { kind: 'claimed'; path: string; token: string } | { kind: 'busy'; owner?: LockInfo } {
  for (let level = 0; level < MAX_LEVELS; level++) {
    const p = `${file}.takeover.${gen}.${level}`;
    const me = newInfo();
    if (createExclusive(p, me)) return { kind: 'claimed', path: p, token: me.token };
    const m = look(p);
    if (!m) return { kind: 'busy' }; // its holder just finished: the lock has most likely changed
    if (isLive(m, o)) return m.info ? { kind: 'busy', owner: m.info } : { kind: 'busy' };
    // Its creator is dead and will never act again: the next level decides between the living.
  }
  throw new Error(`${file}: ${MAX_LEVELS} takeover markers left by dead processes; delete ${path.basename(file)}.takeover.* in ${path.dirname(file)}`);
}

/** Reads back what we just wrote: catches a lock taken from under a creator that stalled. */
function confirm(file: string, mine: LockInfo): Attempt {
  return look(file)?.info?.token === mine.token ? { kind: 'acquired', info: mine } : { kind: 'busy' };
}

/** Deletes takeover markers of generations other than `currentGen` older than MARKER_GC_MS. Never throws. */
function collectMarkers(file: string, currentGen: string): void {
  const prefix = `${path.basename(file)}.takeover.`;
  try {
    for (const name of fs.readdirSync(path.dirname(file))) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      if (rest.slice(0, rest.lastIndexOf('.')) === currentGen) continue;
      const p = path.join(path.dirname(file), name);
      try {
        if (Date.now() - fs.statSync(p).mtimeMs > MARKER_GC_MS) fs.unlinkSync(p);
      } catch {
        // gone already, or not ours to delete
      }
    }
  } catch {
    // the directory is unreadable: nothing to collect
  }
}

class Handle implements LockHandle {
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    readonly file: string,
    readonly info: LockInfo,
    private readonly o: Resolved,
  ) {
    if (o.heartbeatMs > 0) {
      this.timer = setInterval(() => {
        try {
          this.heartbeat();
        } catch {
          // a transient I/O error: the next beat tries again
        }
      }, o.heartbeatMs);
      this.timer.unref();
    }
  }

  verify(): boolean {
    return look(this.file)?.info?.token === this.info.token;
  }

  heartbeat(): boolean {
    if (this.done) return false;
    if (!this.verify()) {
      this.done = true;
      this.stopHeartbeat();
      this.o.onLost?.(readLock(this.file));
      return false;
    }
    const now = new Date();
    fs.utimesSync(this.file, now, now);
    return true;
  }

  release(): boolean {
    this.stopHeartbeat();
    if (this.done) return false;
    this.done = true;
    if (!this.verify()) return false;
    unlinkQuiet(this.file);
    return true;
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

// ---------------------------------------------------------------------------------------------

function isLive(seen: Seen, o: Resolved): boolean {
  if (!seen.info) return Date.now() - seen.mtimeMs < o.partialStaleMs;
  if (seen.info.host !== os.hostname()) return Date.now() - seen.mtimeMs < o.staleMs;
  return processAlive(seen.info.pid, seen.info.procStart);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
