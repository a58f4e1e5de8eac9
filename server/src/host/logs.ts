/**
 * Live step logs for the editor: `followLog` answers a step's output so far, and from then on the
 * host pushes what the runner appends (`logAppended`), watching the step's folder (fs.watch) and
 * the session's events. A new attempt replaces the text (`reset`). Nothing is polled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogRef, LogText } from '../protocol';
import type { SessionState } from '../engine/types';
import { SessionNotFoundError, sessionPaths } from '../store/sessionStore';
import { InputError } from '../engine/sessions';

/** At most this much of a log is sent at once (the start of a longer log is left out). */
const MAX_INITIAL = 1 << 20;
const CHUNK = 1 << 20;

interface Follow {
  readonly id: string;
  readonly step: string;
  /** Set when the client asked for one attempt; otherwise the follow moves on to new attempts. */
  readonly pinned: boolean;
  attempt: number;
  offset: number;
  decoder: StringDecoder;
  watcher?: fs.FSWatcher;
  refs: number;
}

export class LogFollowers {
  private readonly follows = new Map<string, Follow>();

  constructor(
    private readonly repoRoot: string,
    private readonly state: (id: string) => SessionState,
    private readonly send: (text: LogText & { reset?: boolean }) => void,
  ) {}

  private key(ref: LogRef): string {
    return `${ref.id}\u0000${ref.step}\u0000${ref.attempt ?? ''}`;
  }

  follow(ref: LogRef): LogText {
    let s: SessionState;
    try {
      s = this.state(ref.id);
    } catch (e) {
      if (e instanceof SessionNotFoundError) throw new InputError(e.message);
      throw e;
    }
    const st = s.steps[ref.step];
    if (!st) throw new InputError(`session ${ref.id} has no step '${ref.step}' (steps: ${s.order.join(', ')})`);
    if (ref.attempt !== undefined && (!Number.isInteger(ref.attempt) || ref.attempt < 1 || ref.attempt > st.attempt)) {
      throw new InputError(`step ${ref.step} has no attempt ${ref.attempt} (it has run ${st.attempt} time(s))`);
    }
    const key = this.key(ref);
    const existing = this.follows.get(key);
    const f: Follow = existing ?? { id: ref.id, step: ref.step, pinned: ref.attempt !== undefined, attempt: ref.attempt ?? st.attempt, offset: 0, decoder: new StringDecoder('utf8'), refs: 0 };
    f.refs++;
    // Every follow request answers the whole (tail of the) log, so a second editor tab starts right.
    // A second follow of the same log answers what the first one was sent so far (up to its
    // offset) and leaves the offset alone: the bytes after it reach both tabs as logAppended.
    // (Moving the offset to the current size would skip, for the first tab, what the runner wrote
    // since the last pump.)
    const file = sessionPaths(this.repoRoot, ref.id).stepLog(ref.step, Math.max(1, f.attempt));
    let size = 0;
    if (existing) size = f.offset;
    else {
      try {
        size = f.attempt > 0 ? fs.statSync(file).size : 0;
      } catch {
        size = 0;
      }
    }
    const from = Math.max(0, size - MAX_INITIAL);
    const text = from < size ? this.readRange(file, from, size) : '';
    if (!existing) {
      f.offset = size;
      f.decoder = new StringDecoder('utf8');
    }
    this.follows.set(key, f);
    this.watch(f);
    return { id: ref.id, step: ref.step, attempt: f.attempt, text, ...(from > 0 ? { skippedBytes: from } : {}) };
  }

  unfollow(ref: LogRef): void {
    const key = this.key(ref);
    const f = this.follows.get(key);
    if (!f) return;
    if (--f.refs > 0) return;
    f.watcher?.close();
    this.follows.delete(key);
  }

  /** Called when a session's log grew (its state changed): new attempts and output. */
  poke(sessionId: string): void {
    for (const f of this.follows.values()) if (f.id === sessionId) this.pump(f);
  }

  /** Drops every follow of a session that was deleted (a later follow of the same id starts afresh). */
  forget(sessionId: string): void {
    for (const [key, f] of [...this.follows]) {
      if (f.id !== sessionId) continue;
      f.watcher?.close();
      this.follows.delete(key);
    }
  }

  dispose(): void {
    for (const f of this.follows.values()) f.watcher?.close();
    this.follows.clear();
  }

  private watch(f: Follow): void {
    if (f.watcher) return;
    const dir = path.dirname(sessionPaths(this.repoRoot, f.id).stepLog(f.step, 1));
    if (!fs.existsSync(dir)) return; // the step has not started; poke() comes with its first event
    try {
      f.watcher = fs.watch(dir, () => this.pump(f));
      f.watcher.on('error', () => {
        f.watcher?.close();
        f.watcher = undefined;
      });
    } catch {
      /* the session's events still poke */
    }
  }

  private pump(f: Follow): void {
    if (!this.follows.has(this.key({ id: f.id, step: f.step, ...(f.pinned ? { attempt: f.attempt } : {}) }))) return;
    if (!f.pinned) {
      let latest = f.attempt;
      try {
        latest = this.state(f.id).steps[f.step]?.attempt ?? f.attempt;
      } catch {
        return; // the session is gone
      }
      if (latest > f.attempt) {
        f.attempt = latest;
        f.offset = 0;
        f.decoder = new StringDecoder('utf8');
        this.send({ id: f.id, step: f.step, attempt: f.attempt, text: '', reset: true });
      }
    }
    this.watch(f);
    if (f.attempt < 1) return;
    const file = sessionPaths(this.repoRoot, f.id).stepLog(f.step, f.attempt);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return;
    }
    while (size > f.offset) {
      const end = Math.min(size, f.offset + CHUNK);
      const text = this.readRange(file, f.offset, end, f.decoder);
      f.offset = end;
      if (text) this.send({ id: f.id, step: f.step, attempt: f.attempt, text });
    }
  }

  private readRange(file: string, from: number, to: number, decoder?: StringDecoder): string {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(to - from);
      const n = fs.readSync(fd, buf, 0, buf.length, from);
      return decoder ? decoder.write(buf.subarray(0, n)) : buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
}
