/**
 * The steps that upgrade a session folder from one state format to the next, as pure functions of
 * the bytes of the files they change (migrate.ts writes, swaps and recovers; nothing here touches
 * the disk). A new format adds one step here; `migrate` chains the steps from each session's
 * format to STATE_FORMAT.
 */
import { formatOf, STATE_FORMAT, WRITTEN_BY } from './formatVersion';

/** The files of a session that a step may change: log.jsonl and state.json (null: none, or unreadable). */
export interface SessionFiles {
  readonly log: Buffer;
  readonly state: Buffer | null;
}

export interface MigrationStep {
  readonly from: number;
  readonly to: number;
  /** What it changes, for `migrate --dry-run`. */
  readonly change: string;
  /** The files in format `to`; throws CannotMigrate when this session cannot be upgraded. */
  apply(files: SessionFiles): SessionFiles;
}

/** A session this step cannot upgrade (it stays as it is, and is still read). */
export class CannotMigrate extends Error {}

/**
 * 1 → 2: the version and the writing release go in front of the first line of log.jsonl and of
 * state.json. Every byte after the first line's `{` stays as it was; the snapshot's logOffset
 * moves by the bytes added in front of it.
 */
const v1to2: MigrationStep = {
  from: 1,
  to: 2,
  change: 'add "v":2 and "by" to state.json and to the first line of log.jsonl',
  apply({ log, state }) {
    const nl = log.indexOf(10);
    if (nl === -1) throw new CannotMigrate('its log.jsonl has no complete line');
    let first: unknown;
    try {
      first = JSON.parse(log.toString('utf8', 0, nl));
    } catch {
      throw new CannotMigrate('the first line of its log.jsonl is damaged');
    }
    const f = first as { type?: unknown; v?: unknown };
    if (log[0] !== 0x7b || !formatOf(first) || f.type !== 'session.started') throw new CannotMigrate('the first line of its log.jsonl is not a session.started event');
    if (f.v !== undefined) throw new CannotMigrate('the first line of its log.jsonl already has a version');
    const insert = Buffer.from(`"v":2,"by":${JSON.stringify(WRITTEN_BY)},`);
    const newLog = Buffer.concat([log.subarray(0, 1), insert, log.subarray(1)]);
    return { log: newLog, state: state && migrateState(state, nl + 1, insert.length) };
  },
};

/** state.json in format 2, or null when it does not parse (readers rebuild it from the log, as for any damaged state.json). */
function migrateState(state: Buffer, firstLineEnd: number, shift: number): Buffer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(state.toString('utf8'));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const { v: _v, by: _by, ...rest } = parsed as Record<string, unknown>;
  const offset = rest.logOffset;
  if (typeof offset === 'number' && offset >= firstLineEnd) rest.logOffset = offset + shift;
  return Buffer.from(JSON.stringify({ v: 2, by: WRITTEN_BY, ...rest }));
}

export const MIGRATION_STEPS: readonly MigrationStep[] = [v1to2];

/** The steps from `from` to STATE_FORMAT, in order. */
export function stepsFrom(from: number): MigrationStep[] {
  const out: MigrationStep[] = [];
  for (let v = from; v < STATE_FORMAT; ) {
    const step = MIGRATION_STEPS.find((s) => s.from === v);
    if (!step) throw new Error(`no migration step from state format ${v} (please report it)`);
    out.push(step);
    v = step.to;
  }
  return out;
}

/** Applies the steps from `from` to STATE_FORMAT. */
export function upgrade(files: SessionFiles, from: number): SessionFiles {
  return stepsFrom(from).reduce((f, s) => s.apply(f), files);
}
