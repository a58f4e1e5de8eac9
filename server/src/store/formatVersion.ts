/**
 * State format versions (docs/state-and-retention.md, "Format versions").
 *
 * A session folder's format is carried by its two files of record:
 *   - log.jsonl: the first line (the session.started event) starts with `{"v":N,"by":"orchestrator X.Y.Z",`
 *   - state.json: the object starts with `"v":N,"by":"orchestrator X.Y.Z"`
 * Format 1 is the files written before the version existed: no `v` anywhere. Format 2 is format 1
 * plus these two fields, nothing else, so a release that knows only format 1 still reads format 2
 * (it ignores the fields). Every later format keeps `v` as a top-level integer of state.json and of
 * the first line of log.jsonl, so that every release can tell a format newer than its own.
 *
 * A reader that meets a newer format refuses with StateFormatError (which release wrote it, and to
 * upgrade) before it reads or writes anything; an older format is read as it is (dual read), and a
 * session keeps its format when it is resumed: only `orchestrator migrate` upgrades (migrate.ts).
 */
import * as fs from 'node:fs';
import { version } from '../../../package.json';
import { InputError } from '../engine/errors';
import { readFirstLine, readOpenFile } from './durableFile';

/** The state format this release writes. */
export const STATE_FORMAT = 2;
/** This release (as `by` names it). */
export const TOOL_VERSION: string = version;
export const WRITTEN_BY = `orchestrator ${TOOL_VERSION}`;

/** A file's format: its `v` (1 when it has none) and the release that wrote it, when it says. */
export interface FileFormat {
  readonly v: number;
  readonly by?: string;
}

/** The fields that start state.json and the first event of log.jsonl in `version` (none in format 1). */
export function stampFor(version: number): { v?: number; by?: string } {
  return version >= 2 ? { v: version, by: WRITTEN_BY } : {};
}

/** The format of a parsed state.json (or of a parsed first line of a log); undefined when it is not an object. */
export function formatOf(value: unknown): FileFormat | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as { v?: unknown; by?: unknown };
  const v = Number.isSafeInteger(o.v) && (o.v as number) >= 1 ? (o.v as number) : 1;
  return { v, ...(typeof o.by === 'string' ? { by: o.by } : {}) };
}

/** `{"v":2,"by":"orchestrator 0.1.0",...`: the start of a first line of format ≥ 2. */
const STAMPED = /^\{"v":(\d{1,9})(?:,"by":"((?:[^"\\]|\\.){0,200})")?[,}]/;

/**
 * The format of a log from its first line; undefined when the file is missing, empty or its first
 * line does not parse (damaged: the log's format cannot be told from it). Reads only the first
 * bytes when the line starts with its version (format ≥ 2) or with `{"seq":` (format 1).
 */
export function formatOfLog(file: string): FileFormat | undefined {
  return readOpenFile(file, (fd) => {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const start = head.toString('utf8', 0, n);
    const m = STAMPED.exec(start);
    if (m) return { v: Number(m[1]), ...(m[2] !== undefined ? { by: JSON.parse(`"${m[2]}"`) as string } : {}) };
    if (start.startsWith('{"seq":')) return { v: 1 };
    return formatOfFirstLine(fd, head.subarray(0, n));
  });
}

/** The slow way: the whole first line, parsed (a log written by hand, or by a format that puts `v` elsewhere). */
function formatOfFirstLine(fd: number, head: Buffer): FileFormat | undefined {
  if (!head.length) return undefined; // empty: no event yet
  const line = readFirstLine(fd, head);
  if (line === undefined) return undefined; // no complete line: no event yet
  try {
    return formatOf(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** The format of a log held in memory (a snapshot file's), from its first line; undefined as for formatOfLog. */
export function formatOfLogBytes(log: Buffer): FileFormat | undefined {
  const nl = log.indexOf(10);
  if (nl === -1) return undefined;
  try {
    return formatOf(JSON.parse(log.toString('utf8', 0, nl)));
  } catch {
    return undefined;
  }
}

/** The newest of some formats (undefined ones left out). */
export function newestOf(...formats: (FileFormat | undefined)[]): FileFormat | undefined {
  return formats.reduce<FileFormat | undefined>((a, f) => (f && (!a || f.v > a.v) ? f : a), undefined);
}

/** A folder or file written in a newer state format than this release reads. Nothing was changed. */
export class StateFormatError extends InputError {
  override readonly name = 'StateFormatError';
  constructor(
    readonly what: string,
    readonly found: FileFormat,
  ) {
    super(
      `${what} is in state format ${found.v}, written by ${found.by ?? 'a newer orchestrator'}; this orchestrator (${TOOL_VERSION}) reads formats up to ${STATE_FORMAT}: upgrade orchestrator to use it (nothing was changed)`,
    );
  }
}

/** Throws StateFormatError when `found` is newer than this release reads. */
export function assertReadable(what: string, found: FileFormat | undefined): void {
  if (found && found.v > STATE_FORMAT) throw new StateFormatError(what, found);
}
