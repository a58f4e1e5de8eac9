/**
 * log.jsonl: the append-only event log, the source of truth of a session (sessions.md).
 *
 * Group commit: append() only buffers; the buffer is written with one write() at the end of the
 * current tick (so a burst of events costs one syscall) and fsync'd at most every `syncEveryMs`
 * and whenever `sync()` is called (the runner syncs before every state snapshot and at rest
 * transitions). A killed process loses nothing it wrote (the page cache survives the process);
 * a power cut loses at most the last interval, which resume handles as at-least-once.
 * A crash can leave a torn last line; readers ignore a last line that does not parse.
 */
import * as fs from 'node:fs';
import type { SessionEvent } from '../engine/types';

export interface AppendOptions {
  /** Write at once rather than at the end of the tick. */
  readonly flush?: boolean;
  /** Write and fsync at once (rest transitions, approvals). */
  readonly sync?: boolean;
}

export class EventLog {
  private fd: number;
  private buffer: string[] = [];
  private scheduled = false;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private lastSeq: number;
  /** Bytes written so far (the offset the next event starts at). */
  private size: number;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  /**
   * Applied to every event's `data` before it is written or reported (the runner sets the secret
   * masker here, so that no value it records, e.g. an error message quoting a value, holds a secret).
   */
  mask: ((data: Record<string, unknown>) => Record<string, unknown>) | undefined;

  constructor(
    readonly file: string,
    readonly session: string,
    lastSeq: number,
    private readonly syncEveryMs = 200,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
    this.lastSeq = lastSeq;
  }

  get seq(): number {
    return this.lastSeq;
  }

  /** Bytes in the file once everything buffered is written. */
  get offset(): number {
    return this.size + this.buffer.reduce((n, l) => n + Buffer.byteLength(l), 0);
  }

  /** Called for every event appended (after it is buffered). */
  onEvent(f: (e: SessionEvent) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  append(type: SessionEvent['type'], fields: Omit<SessionEvent, 'seq' | 'time' | 'type' | 'session'> = {}, opts: AppendOptions = {}): SessionEvent {
    if (this.mask && fields.data) fields = { ...fields, data: this.mask(fields.data) };
    const event: SessionEvent = { seq: ++this.lastSeq, time: this.now().toISOString(), type, session: this.session, ...fields };
    this.buffer.push(JSON.stringify(event) + '\n');
    for (const l of this.listeners) l(event);
    if (opts.sync) this.sync();
    else if (opts.flush) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return event;
  }

  /** Writes what is buffered (one write). */
  flush(): void {
    this.scheduled = false;
    if (!this.buffer.length || this.fd < 0) return;
    const data = Buffer.from(this.buffer.join(''));
    this.buffer = [];
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off);
    this.size += data.length;
    this.dirty = true;
    if (!this.syncTimer && this.syncEveryMs > 0) {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        this.sync();
      }, this.syncEveryMs);
      this.syncTimer.unref();
    }
  }

  /** Writes and fsyncs: everything appended so far is on disk. */
  sync(): void {
    this.flush();
    if (this.dirty && this.fd >= 0) {
      fs.fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  close(): void {
    if (this.fd < 0) return;
    this.sync();
    if (this.syncTimer) clearTimeout(this.syncTimer);
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export interface ReadResult {
  events: SessionEvent[];
  /** The offset after the last complete line read. */
  endOffset: number;
  /** Whether a torn (incomplete or unparseable) last line was ignored. */
  torn: boolean;
}

/** Reads events from a byte offset; a torn last line is ignored, a bad line in the middle is skipped and counted. */
export function readEvents(file: string, fromOffset = 0): ReadResult & { skipped: number } {
  let buf: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.max(0, size - fromOffset);
      buf = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, buf, got, len - got, fromOffset + got);
        if (n === 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], endOffset: fromOffset, torn: false, skipped: 0 };
    throw e;
  }
  const events: SessionEvent[] = [];
  let pos = 0;
  let good = 0;
  let skipped = 0;
  let torn = false;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) {
      torn = true; // no newline: a write that did not finish
      break;
    }
    const line = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as SessionEvent;
      if (typeof e.seq === 'number' && typeof e.type === 'string') {
        events.push(e);
        good = pos;
      } else skipped++;
    } catch {
      if (pos >= buf.length) torn = true;
      else skipped++;
    }
  }
  // endOffset: after the last good line, so a writer can cut a torn tail before appending.
  return { events, endOffset: fromOffset + (torn ? good : pos), torn, skipped };
}
