/**
 * state.json through lowdb with the durable adapter. The log is fsync'd before every snapshot,
 * so the snapshot never reflects an event the log might lose; the snapshot records the log offset
 * it reflects, so readers replay only the tail. Written at most every `everyMs` while running and
 * always at rest: O(1) work per step transition, not a rewrite per step. It is written in its log's
 * state format (a session keeps its format until `orchestrator migrate`: formatVersion.ts).
 */
import { Low } from 'lowdb';
import type { SessionState } from '../engine/types';
import { DurableJSONFile } from './durableFile';
import type { EventLog } from './eventLog';
import { formatOfLog, stampFor } from './formatVersion';
import type { Snapshot } from './sessionStore';

export class SnapshotWriter {
  private readonly db: Low<Snapshot | null>;
  private last = 0;
  /** The log's format, read from its first line at the first write (the log has its first event by then). */
  private stamp: { v?: number; by?: string } | undefined;

  constructor(file: string, private readonly log: EventLog, private readonly everyMs: number) {
    this.db = new Low<Snapshot | null>(new DurableJSONFile<Snapshot | null>(file), null);
  }

  maybeWrite(state: SessionState): void {
    if (Date.now() - this.last >= this.everyMs) this.write(state);
  }

  write(state: SessionState): void {
    this.log.sync();
    this.stamp ??= stampFor(formatOfLog(this.log.file)?.v ?? 1);
    this.db.data = { ...this.stamp, ...state, logOffset: this.log.offset };
    this.last = Date.now();
    // The adapter writes synchronously (temp file, fsync, rename, fsync dir) inside write().
    void this.db.write();
  }
}
