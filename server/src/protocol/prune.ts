/**
 * The Sessions view's *Prune Sessions…* (docs/protocol.md, docs/state-and-retention.md). Its own
 * file beside index.ts, which re-exports it; the descriptor is built without importing index.ts
 * (no import cycle).
 */
import type { PruneReport } from '../store/prune';
import type { RequestDescriptor } from './index';

export type { PrunedSession, PruneReport } from '../store/prune';

/**
 * What to prune by. Without `keep`, `olderThan`, `maxSize` and `status`, the configured retention
 * (`retention:` in config.yaml); `ids` limits the removal to a dry run's list the user confirmed.
 */
export interface PruneParams {
  dryRun: boolean;
  keep?: number;
  /** A duration: `7d`, `12h`. */
  olderThan?: string;
  /** A size: `500MB`, `2GB`. */
  maxSize?: string;
  /** Only sessions with this status (a status at rest); alone, every one of them. */
  status?: string;
  ids?: string[];
}

/** The report, and the rules it applied in words (`retention.keep 20 (config.yaml)`); `criteria: null` when nothing says what to prune. */
export type PruneAnswer = PruneReport & { criteria: string | null };

/** client → host: remove sessions at rest by age, count, size or status (`dryRun`: only say which). */
export const PruneSessionsRequest: RequestDescriptor<PruneParams, PruneAnswer> = { method: 'orchestrator/sessions/prune' };
