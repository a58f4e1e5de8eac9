/**
 * Session snapshots (one JSON file holding a whole session, to move it to another repository or
 * machine, or to attach it to a bug report) and deleting sessions. docs/sessions.md, "Snapshots and
 * deleting sessions", describes the file format:
 *
 *   { format: 'orchestrator-session-snapshot', version: 1, exportedAt, live,
 *     session: { id, state, log, control?, steps: { '<step folder>/<attempt>.log': text, ... } } }
 *
 * where `state` is state.json as parsed (or null when it was missing or damaged: the importer then
 * rebuilds it from the log), and each text is the file's content as a string, or `{ base64 }` when
 * the bytes are not valid UTF-8. Secrets are masked on disk, so a snapshot holds none.
 *
 * Nothing here leaves a half-made session where readers look for sessions:
 *   - export writes its file atomically (temp file, fsync, rename);
 *   - import writes the session into `.orchestrator/sessions/.import-<id>-<pid>-<rand>` (a name
 *     listSessionIds ignores: it does not start with a date), checks it with loadSession, then
 *     renames it to `<id>`;
 *   - delete (sessionFolders.ts) takes the session's lock (refused while a live runner owns it, and no resume can
 *     start meanwhile), renames the folder to `.deleting-<id>-<pid>-<rand>`, then removes that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { rebuild } from '../engine/state';
import { SESSION_STATUSES, type LogDamage, type SessionEvent } from '../engine/types';
import { CorruptFileError, fsyncDir, readJsonFile, writeFileDurably } from './durableFile';
import { parseEvents } from './eventLog';
import { formatOf, formatOfLogBytes, newestOf, STATE_FORMAT, stampFor, TOOL_VERSION, WRITTEN_BY } from './formatVersion';
import { damageText, describeDamage } from './logDamage';
import { checkId, collectLeftovers, SESSION_ID, SnapshotError, tempName } from './sessionFolders';
import { createSessionDir, loadSession, loadSessionFolder, SessionNotFoundError, sessionPaths, sessionsDir, stepFolder, type Snapshot } from './sessionStore';

export { deleteSession, SnapshotError } from './sessionFolders';

export const SNAPSHOT_FORMAT = 'orchestrator-session-snapshot';
export const SNAPSHOT_VERSION = 1;


/** A file's content: text when its bytes are valid UTF-8, else base64. */
export type FileText = string | { base64: string };

export interface SessionSnapshotFile {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  /** ISO time of the export. */
  exportedAt: string;
  /** The release that wrote the file (`orchestrator 0.1.0`); files of the first releases have none. */
  by?: string;
  /** Whether a live runner owned the session at the time (it imports as `interrupted`). */
  live: boolean;
  session: {
    id: string;
    /** state.json as parsed (a Snapshot: SessionState + logOffset), or null: rebuild it from the log. */
    state: Snapshot | null;
    /** log.jsonl. */
    log: FileText;
    /** control.jsonl, when the session has one. */
    control?: FileText;
    /** Files under steps/, by path relative to steps/ ('<step folder>/<attempt>.log' or '.prompt.md'). */
    steps: Record<string, FileText>;
  };
}

/** Longer session ids are refused (ours are 20 characters; the folder names built from them must fit the file system). */
export const MAX_SESSION_ID_LENGTH = 64;
/** A file or folder name's limit on common file systems (bytes). */
const MAX_NAME_BYTES = 255;
/** A step instance id: a workflow step id, then `[k=v,...]` for a matrix instance. */
const STEP_INSTANCE = /^[A-Za-z_][A-Za-z0-9_-]*(?:\[.*\])?$/s;

/** Why a step instance id cannot be a session's (its folder name must be one path component the file system takes), or undefined. */
function badStepId(id: unknown): string | undefined {
  const shown = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof id !== 'string') return `step id ${JSON.stringify(id)} is not a string`;
  if (!STEP_INSTANCE.test(id)) return `step id ${shown(id)} is not a step id (letters, digits, _ and -, then [k=v,...] for a matrix instance)`;
  const bytes = Buffer.byteLength(stepFolder(id));
  if (bytes > MAX_NAME_BYTES) return `step id ${shown(id)} is too long (${id.length} characters; its folder name would be ${bytes} bytes, at most ${MAX_NAME_BYTES})`;
  return undefined;
}

/** The step ids a session uses for folders (its order, its steps and their ids), checked; the first problem, or undefined. */
function badStepIds(state: Pick<Snapshot, 'order' | 'steps'>): string | undefined {
  for (const id of new Set([...state.order, ...Object.keys(state.steps), ...Object.values(state.steps).flatMap((s) => [s.id, s.stepId])])) {
    const bad = badStepId(id);
    if (bad) return bad;
  }
  return undefined;
}

/** A step folder (see stepFolder in sessionStore.ts) and a file of it. */
const STEP_FOLDER = /^[A-Za-z0-9_.=,[\]%-]+$/;
/** Attempt files (log, prompt, agent transcript), and the arbiter's transcripts (`%arbiter/<finding id>.transcript.jsonl`). */
const STEP_FILE = /^(?:\d{1,9}\.(?:log|prompt\.md|transcript\.jsonl)|[0-9a-f]{16}\.transcript\.jsonl)$/;


/** `<step folder>/<attempt>.log` (or `.prompt.md`) relative to steps/; nothing else, so nothing can land outside it. */
function isStepFile(rel: string): boolean {
  const parts = rel.split('/');
  return parts.length === 2 && STEP_FOLDER.test(parts[0]) && parts[0] !== '.' && parts[0] !== '..' && Buffer.byteLength(parts[0]) <= MAX_NAME_BYTES && STEP_FILE.test(parts[1]);
}

function encode(buf: Buffer): FileText {
  const s = buf.toString('utf8');
  return Buffer.byteLength(s) === buf.length && Buffer.from(s, 'utf8').equals(buf) ? s : { base64: buf.toString('base64') };
}

function decode(t: FileText): Buffer {
  return typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t.base64, 'base64');
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Up to and including the last newline: a live writer may be in the middle of a line. */
function completeLines(buf: Buffer): Buffer {
  return buf.subarray(0, buf.lastIndexOf(10) + 1);
}


// ---------------------------------------------------------------------------------------------
// The file's shape.

const fileText = z.union([z.string(), z.strictObject({ base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64') })], {
  error: 'must be a string, or { base64 } for bytes that are not UTF-8',
});

const count = z.number().int().nonnegative();

/** What loadSession and resume rely on in state.json (see isSnapshot in sessionStore.ts), plus the statuses. */
const stateSchema = z
  .looseObject({
    id: z.string(),
    status: z.enum(SESSION_STATUSES),
    startedAt: z.string(),
    updatedAt: z.string(),
    seq: count,
    logOffset: count,
    controlApplied: count,
    workflow: z.looseObject({ name: z.string(), file: z.string(), hash: z.string(), compiled: z.looseObject({ steps: z.array(z.looseObject({ id: z.string() })) }) }),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    steps: z.record(z.string(), z.looseObject({ id: z.string(), stepId: z.string(), status: z.string(), attempt: count })),
    order: z.array(z.string()),
    rawFindings: z.array(z.unknown()),
    findings: z.array(z.unknown()),
  })
  .refine((s) => s.order.every((i) => Object.hasOwn(s.steps, i)), { message: 'order names a step that is not in steps', path: ['order'] });

const fileSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(SNAPSHOT_VERSION),
  exportedAt: z.string(),
  by: z.string().optional(),
  live: z.boolean().optional(),
  session: z.object({
    id: z
      .string()
      .max(MAX_SESSION_ID_LENGTH, `is too long (at most ${MAX_SESSION_ID_LENGTH} characters; ids look like 20261121-104512-k3f9)`)
      .regex(SESSION_ID, 'is not a session id (ids look like 20261121-104512-k3f9)'),
    state: stateSchema.nullable(),
    log: fileText,
    control: fileText.optional(),
    steps: z.record(z.string(), fileText),
  }),
});

function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

// ---------------------------------------------------------------------------------------------
// Export

/**
 * Writes one session as one JSON file (atomically). A live session can be exported: the copy is a
 * point in time, read state first and log second, so the snapshot never reflects events the log
 * copy lacks; a line the runner was writing at that moment is left out.
 */
export function exportSnapshot(repoRoot: string, id: string, outFile: string): Promise<{ file: string; bytes: number; id: string }> {
  // Every failure is a rejection, never a synchronous throw.
  return new Promise((resolve) => resolve(exportNow(repoRoot, id, outFile)));
}

function exportNow(repoRoot: string, id: string, outFile: string): { file: string; bytes: number; id: string } {
  checkId(id);
  let live: boolean;
  try {
    // Also tells a folder with no events (nothing to export) from a session.
    live = !!loadSession(repoRoot, id).owner;
  } catch (e) {
    if (e instanceof SessionNotFoundError) throw new SnapshotError(e.message);
    throw e;
  }
  const paths = sessionPaths(repoRoot, id);
  const file = path.resolve(outFile);
  const outDir = path.dirname(file);
  if (!fs.existsSync(outDir)) throw new SnapshotError(`cannot write ${outFile}: the folder ${outDir} does not exist; create it or choose another file`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new SnapshotError(`${outFile} is a folder: give a file name (e.g. ${path.join(outFile, `${id}.snapshot.json`)})`);

  // The state first: it never reflects more of the log than the log holds when it is read later.
  let state: Snapshot | null = null;
  try {
    const parsed = readJsonFile<unknown>(paths.state);
    if (parsed !== null && stateSchema.safeParse(parsed).success) state = parsed as Snapshot;
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e; // damaged: the importer rebuilds it from the log
  }
  let log = readIfExists(paths.log) ?? Buffer.alloc(0);
  let control = readIfExists(paths.control);
  if (live) {
    log = completeLines(log);
    if (control) control = completeLines(control);
  }

  const steps: Record<string, FileText> = {};
  const stepsDir = path.join(paths.dir, 'steps');
  let folders: fs.Dirent[] = [];
  try {
    folders = fs.readdirSync(stepsDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const folder of folders.filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const f of fs.readdirSync(path.join(stepsDir, folder), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort()) {
      const rel = `${folder}/${f}`;
      if (!isStepFile(rel)) continue; // temp files and anything else that is not a step's log or prompt
      const buf = readIfExists(path.join(stepsDir, folder, f));
      if (buf) steps[rel] = encode(buf);
    }
  }

  const doc: SessionSnapshotFile = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    exportedAt: new Date().toISOString(),
    by: WRITTEN_BY,
    live,
    session: { id, state, log: encode(log), ...(control ? { control: encode(control) } : {}), steps },
  };
  const text = JSON.stringify(doc) + '\n';
  try {
    writeFileDurably(file, text);
  } catch (e) {
    throw new SnapshotError(`cannot write ${outFile}: ${(e as Error).message}`);
  }
  return { file, bytes: Buffer.byteLength(text), id };
}

// ---------------------------------------------------------------------------------------------
// Import

/** Events of a log with the byte offset after each one's line (a torn last line left out; damaged lines reported). */
function parseLog(buf: Buffer): { events: { event: SessionEvent; end: number }[]; end: number; damaged: LogDamage[] } {
  const r = parseEvents(buf);
  return { events: r.events.map((event, i) => ({ event, end: r.ends[i] })), end: r.ends.at(-1) ?? 0, damaged: r.damaged.map((d) => describeDamage(d)) };
}

/** Whether state.json reflects exactly a prefix of the log (else it is rebuilt from the log). */
function stateMatchesLog(state: Snapshot, log: Buffer, parsed: ReturnType<typeof parseLog>): boolean {
  if (state.logOffset > log.length) return false;
  if (state.logOffset > 0 && log[state.logOffset - 1] !== 10) return false;
  const before = parsed.events.filter((e) => e.end <= state.logOffset);
  return before.length > 0 && before[before.length - 1].event.seq === state.seq;
}

/**
 * Adds the session of a snapshot file to this repository. Refuses a file that is not a valid
 * snapshot, step files outside `steps/<folder>/`, and an id that exists here. A session that was
 * running or waiting when exported has no runner here: it shows as `interrupted` and can be resumed.
 */
export async function importSnapshot(repoRoot: string, file: string): Promise<{ id: string; warnings: string[] }> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotError(code === 'ENOENT' ? `cannot read ${file}: no such file` : code === 'EISDIR' ? `${file} is a folder, not a snapshot file` : `cannot read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError(`${file} is not an orchestrator snapshot (it is not JSON: ${(e as Error).message}); make one with orchestrator snapshot export ID -o FILE`);
  }
  const head = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  if (head?.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(`${file} is not an orchestrator snapshot (its "format" is ${head && 'format' in head ? JSON.stringify(head.format) : 'missing'}, not "${SNAPSHOT_FORMAT}"); make one with orchestrator snapshot export ID -o FILE`);
  }
  if (head.version !== SNAPSHOT_VERSION) {
    const newer = typeof head.version === 'number' && head.version > SNAPSHOT_VERSION;
    const by = typeof head.by === 'string' ? `, written by ${head.by}` : '';
    throw new SnapshotError(`${file} is a snapshot of version ${JSON.stringify(head.version)}${by}; this orchestrator (${TOOL_VERSION}) reads version ${SNAPSHOT_VERSION}${newer ? ': upgrade orchestrator to import it' : ''}`);
  }
  const checked = fileSchema.safeParse(raw);
  if (!checked.success) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: ${describeIssues(checked.error)}`);
  // The data as written (zod's output may reorder keys; state.json is copied as it was).
  const doc = raw as SessionSnapshotFile;
  const { id } = doc.session;
  for (const rel of Object.keys(doc.session.steps)) {
    const folder = rel.split('/')[0];
    if (Buffer.byteLength(folder) > MAX_NAME_BYTES) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: step file ${JSON.stringify(`${folder.slice(0, 40)}…`)} is in a folder whose name is too long (${Buffer.byteLength(folder)} bytes, at most ${MAX_NAME_BYTES})`);
    if (!isStepFile(rel)) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: step file ${JSON.stringify(rel)} is not allowed (only <step>/<attempt>.log, .prompt.md and .transcript.jsonl under steps/)`);
  }
  if (doc.session.state && doc.session.state.id !== id) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: its state is of session ${doc.session.state.id}, not ${id}`);

  const log = decode(doc.session.log);
  // The session inside may be in a newer state format than this release reads; an older one is imported as it is.
  const ofLog = formatOfLogBytes(log);
  const logFormat = ofLog?.v ?? 1;
  const newest = newestOf(ofLog, formatOf(doc.session.state));
  if (newest && newest.v > STATE_FORMAT) {
    throw new SnapshotError(`${file} holds a session in state format ${newest.v}, written by ${newest.by ?? 'a newer orchestrator'}; this orchestrator (${TOOL_VERSION}) reads formats up to ${STATE_FORMAT}: upgrade orchestrator to import it`);
  }
  const parsed = parseLog(log);
  const bad = parsed.events.find((e) => e.event.session !== id);
  if (bad) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: its log holds an event of session ${JSON.stringify(bad.event.session)}, not ${id}`);
  const rebuilt = rebuild(parsed.events.map((e) => e.event));
  if (!rebuilt) {
    const lost = parsed.damaged.length ? ` (line ${parsed.damaged[0].line} of the log is damaged: ${parsed.damaged[0].lost})` : '';
    throw new SnapshotError(`${file} is not a valid orchestrator snapshot: its log has no session.started event${lost}, so there is no session to import`);
  }

  const badIds = (doc.session.state && badStepIds(doc.session.state)) ?? badStepIds(rebuilt);
  if (badIds) throw new SnapshotError(`${file} is not a valid orchestrator snapshot: ${badIds}`);

  const target = sessionPaths(repoRoot, id);
  const exists = (): SnapshotError => new SnapshotError(`a session with id ${id} already exists here: delete it first (orchestrator delete ${id}) or keep the one you have`);
  if (fs.existsSync(target.dir)) throw exists();

  const warnings: string[] = [];
  if (parsed.damaged.length) warnings.push(`the log in ${file} is damaged: ${damageText(parsed.damaged)}`);
  /** null: no state.json, so that every reader rebuilds the state from the damaged log and reports the damage. */
  let state: Snapshot | null;
  if (doc.session.state && (formatOf(doc.session.state)?.v ?? 1) === logFormat && stateMatchesLog(doc.session.state, log, parsed)) state = doc.session.state;
  else {
    state = parsed.damaged.length ? null : { ...stampFor(logFormat), ...rebuilt, logOffset: parsed.end };
    warnings.push(`the state in ${file} ${doc.session.state ? 'does not match its log' : 'is missing'}; rebuilt it from the log`);
  }

  collectLeftovers(repoRoot);
  const tmpName = tempName('import', id);
  const fsError = (e: unknown): unknown =>
    e instanceof SnapshotError || !(e as NodeJS.ErrnoException).code ? e : new SnapshotError(`cannot import ${file} into ${sessionsDir(repoRoot)}: ${(e as Error).message}`);
  let tmp: ReturnType<typeof createSessionDir>;
  try {
    tmp = createSessionDir(repoRoot, tmpName);
  } catch (e) {
    throw fsError(e);
  }
  try {
    writeFileDurably(tmp.log, log);
    if (doc.session.control !== undefined) writeFileDurably(tmp.control, decode(doc.session.control));
    for (const [rel, content] of Object.entries(doc.session.steps)) {
      const dest = path.join(tmp.dir, 'steps', ...rel.split('/'));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      writeFileDurably(dest, decode(content));
    }
    if (fs.existsSync(path.join(tmp.dir, 'steps'))) fsyncDir(path.join(tmp.dir, 'steps'));
    if (state) writeFileDurably(tmp.state, JSON.stringify(state));
    // Read it back the way every reader will, before anyone can see it.
    try {
      loadSessionFolder(repoRoot, tmpName);
    } catch (e) {
      throw new SnapshotError(`${file} does not import to a readable session: ${(e as Error).message}`);
    }
    try {
      fs.renameSync(tmp.dir, target.dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw exists();
      throw e;
    }
  } catch (e) {
    fs.rmSync(tmp.dir, { recursive: true, force: true });
    throw fsError(e);
  }
  fsyncDir(sessionsDir(repoRoot));
  return { id, warnings };
}
