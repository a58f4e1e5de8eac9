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
import { STATE_FORMAT, stampFor } from './formatVersion';

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
    // The first event carries the log's state format in front (formatVersion.ts).
    const stamp = type === 'session.started' && this.lastSeq === 0 ? stampFor(STATE_FORMAT) : {};
    const event: SessionEvent = { ...stamp, seq: ++this.lastSeq, time: this.now().toISOString(), type, session: this.session, ...fields };
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

/** A line of the log that does not hold a readable event, and is not a torn last line. */
export interface DamagedLine {
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  /** seq of the readable event just before the line and just after it, when there is one. */
  prevSeq?: number;
  nextSeq?: number;
  /** What can still be read of the line (a flipped byte leaves most of it legible). */
  seq?: number;
  type?: string;
  step?: string;
}

export interface ReadResult {
  events: SessionEvent[];
  /** The offset after the last complete line read. */
  endOffset: number;
  /** Whether a torn (incomplete or unparseable) last line was ignored. */
  torn: boolean;
  /** Lines that are not events, other than a torn last line: the log is damaged there. */
  damaged: DamagedLine[];
  /** How many lines were damaged (damaged.length). */
  skipped: number;
}

/** Reads the file from a byte offset (empty when it does not exist). */
function readFrom(file: string, fromOffset: number): Buffer | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.max(0, size - fromOffset);
      const buf = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, buf, got, len - got, fromOffset + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Newlines in the file before an offset (so line numbers of a tail read are those of the file). */
function linesBefore(file: string, offset: number): number {
  if (offset <= 0) return 0;
  const buf = fs.readFileSync(file).subarray(0, offset);
  let n = 0;
  for (let at = buf.indexOf(10); at !== -1; at = buf.indexOf(10, at + 1)) n++;
  return n;
}

/** What is still legible in a damaged line. */
function legible(line: string): Pick<DamagedLine, 'seq' | 'type' | 'step'> {
  const seq = /"seq":(\d{1,15})[,}]/.exec(line);
  const type = /"type":"([a-z]+\.[a-z]+)"/.exec(line);
  const step = /"step":"((?:[^"\\]|\\.){1,300})"/.exec(line);
  let stepId: string | undefined;
  try {
    stepId = step ? (JSON.parse(`"${step[1]}"`) as string) : undefined;
  } catch {
    stepId = undefined;
  }
  return { ...(seq ? { seq: Number(seq[1]) } : {}), ...(type ? { type: type[1] } : {}), ...(stepId !== undefined ? { step: stepId } : {}) };
}

/**
 * Parses log bytes (which start at `fromOffset` of the file, on a line boundary). A torn last line
 * (no newline, or the last line does not parse) is ignored silently: a crash leaves one. Any
 * other line that does not hold an event is reported in `damaged`, with line numbers counted from
 * `firstLine` (1 for a read from the start).
 */
export function parseEvents(buf: Buffer, fromOffset = 0, firstLine = 1): ReadResult & { ends: number[] } {
  const events: SessionEvent[] = [];
  /** The offset after each event's line. */
  const ends: number[] = [];
  const damaged: DamagedLine[] = [];
  let pos = 0;
  let good = 0;
  let torn = false;
  let lineNo = firstLine - 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) {
      torn = true; // no newline: a write that did not finish
      break;
    }
    const start = pos;
    const line = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    lineNo++;
    if (!line.trim()) continue;
    let e: SessionEvent | undefined;
    try {
      const v = JSON.parse(line) as SessionEvent;
      if (v && typeof v === 'object' && typeof v.seq === 'number' && typeof v.type === 'string') e = v;
    } catch {
      e = undefined;
    }
    if (e) {
      for (let i = damaged.length - 1; i >= 0 && damaged[i].nextSeq === undefined; i--) damaged[i].nextSeq = e.seq;
      events.push(e);
      ends.push(fromOffset + pos);
      good = pos;
    } else if (pos >= buf.length) torn = true;
    else damaged.push({ line: lineNo, offset: fromOffset + start, ...(events.length ? { prevSeq: events[events.length - 1].seq } : {}), ...legible(line) });
  }
  // endOffset: after the last good line, so a writer can cut a torn tail before appending.
  return { events, ends, endOffset: fromOffset + (torn ? good : pos), torn, damaged, skipped: damaged.length };
}

/** Reads events from a byte offset; a torn last line is ignored, a bad line in the middle is reported in `damaged`. */
export function readEvents(file: string, fromOffset = 0): ReadResult {
  const buf = readFrom(file, fromOffset);
  if (!buf) return { events: [], endOffset: fromOffset, torn: false, damaged: [], skipped: 0 };
  const { ends: _ends, ...r } = parseEvents(buf, fromOffset);
  if (r.damaged.length && fromOffset > 0) {
    const before = linesBefore(file, fromOffset);
    for (const d of r.damaged) d.line += before;
  }
  return r;
}
