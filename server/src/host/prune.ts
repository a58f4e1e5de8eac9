/**
 * The host's `orchestrator/sessions/prune` (protocol/prune.ts): the Sessions view's *Prune
 * Sessions…*. The engine prunes (store/prune.ts); the host routes and forgets what went.
 */
import type { PruneAnswer, PruneParams } from '../protocol';
import { prune } from '../store/prune';
import { chooseCriteria } from '../store/retention';
import { listSessionIds } from '../store/sessionStore';

/** The request's handler: `forget` drops a removed session from the host's watcher (and tells the client). */
export function pruneHandler(repoRoot: string, forget: (id: string) => void): (p: PruneParams) => Promise<PruneAnswer> {
  return async (p) => {
    const chosen = chooseCriteria(
      {
        ...(p.keep !== undefined ? { keep: p.keep } : {}),
        ...(p.olderThan !== undefined ? { olderThan: p.olderThan } : {}),
        ...(p.maxSize !== undefined ? { maxSize: p.maxSize } : {}),
        ...(p.status !== undefined ? { status: p.status } : {}),
      },
      { repoRoot },
    );
    if (!chosen) return { dryRun: p.dryRun, removed: [], skipped: [], failed: [], freedBytes: 0, kept: listSessionIds(repoRoot).length, criteria: null };
    const report = await prune({ repoRoot, criteria: chosen.criteria, dryRun: p.dryRun, ...(p.ids ? { only: p.ids } : {}) });
    if (!p.dryRun) for (const s of report.removed) forget(s.id);
    return { ...report, criteria: chosen.said };
  };
}
