/** Splitting a child's output stream into lines, with bounded memory. */
import { StringDecoder } from 'node:string_decoder';

/** Default longest line, in UTF-16 code units (JS string length), before a line is split. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/**
 * Turns a stream of byte chunks into lines:
 * - UTF-8 is decoded across chunk boundaries (a character split between two reads is kept whole);
 * - a line ends at `\n`; a `\r` just before it is dropped (CRLF); a lone `\r` is kept;
 * - a line longer than `maxLineLength` is emitted in pieces of `maxLineLength` (never splitting a
 *   surrogate pair), so at most about `maxLineLength` plus one chunk is held, whatever the input;
 * - `end()` emits a last line that had no newline.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly max: number;

  constructor(
    maxLineLength: number,
    private readonly emit: (line: string, continued: boolean) => void,
  ) {
    this.max = Number.isFinite(maxLineLength) && maxLineLength >= 2 ? Math.floor(maxLineLength) : 2;
  }

  /** Characters held back waiting for the end of their line (never much more than maxLineLength). */
  get pendingLength(): number {
    return this.pending.length;
  }

  write(chunk: Buffer): void {
    this.push(this.decoder.write(chunk));
  }

  /** Flushes what is held (an incomplete UTF-8 sequence becomes U+FFFD). Call once, at end of stream. */
  end(): void {
    this.push(this.decoder.end());
    const rest = this.pending;
    this.pending = '';
    if (rest.length > 0) this.emitLong(rest, 0, rest.endsWith('\r') ? rest.length - 1 : rest.length);
  }

  private push(text: string): void {
    if (text.length === 0) return;
    // `pending` never holds a '\n', so the search can start after it.
    let searchFrom = this.pending.length;
    const data = searchFrom > 0 ? this.pending + text : text;
    this.pending = '';
    let start = 0;
    let nl: number;
    while ((nl = data.indexOf('\n', searchFrom)) !== -1) {
      const end = nl > start && data.charCodeAt(nl - 1) === 13 /* \r */ ? nl - 1 : nl;
      this.emitLong(data, start, end);
      start = nl + 1;
      searchFrom = start;
    }
    // The unterminated rest: emit full pieces now, keep at most `max` (+1 for a trailing '\r').
    const limit = this.max + (data.charCodeAt(data.length - 1) === 13 ? 1 : 0);
    while (data.length - start > limit) start = this.emitPiece(data, start);
    this.pending = start === 0 ? data : data.slice(start);
  }

  /** Emits data[start, end) as one line, or as several pieces when longer than `max`. */
  private emitLong(data: string, start: number, end: number): void {
    while (end - start > this.max) start = this.emitPiece(data, start);
    this.emit(start === 0 && end === data.length ? data : data.slice(start, end), false);
  }

  /** Emits `max` characters from `start` (one less rather than split a surrogate pair); returns the next start. */
  private emitPiece(data: string, start: number): number {
    let cut = start + this.max;
    const before = data.charCodeAt(cut - 1);
    if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
    this.emit(data.slice(start, cut), true);
    return cut;
  }
}
