/** `orchestrator prune`: sessions at rest removed by age, count or size (store/prune.ts, store/retention.ts). */
import * as os from 'node:os';
import type { Command } from 'commander';
import { InputError } from '../engine/errors';
import { prune, type PruneCriteria, type PruneReport } from '../store/prune';
import { chooseCriteria, formatSize } from '../store/retention';
import { UsageError, type Out } from './output';
import { formatTable, repoRoot, type CommonOptions } from './sessionCommands';

export interface PruneCommandOptions extends CommonOptions {
  dryRun?: boolean;
  olderThan?: string;
  keep?: string;
  maxSize?: string;
  status?: string;
}

/** What to prune by: the flags, or else the configured retention; a UsageError when neither says anything. */
export function pruneCriteria(root: string, opts: PruneCommandOptions): PruneCriteria {
  let keep: number | undefined;
  if (opts.keep !== undefined) {
    if (!/^\d+$/.test(opts.keep.trim())) throw new UsageError(`--keep takes a whole number of sessions, not '${opts.keep}'`);
    keep = Number(opts.keep);
  }
  try {
    const chosen = chooseCriteria(
      { ...(keep !== undefined ? { keep } : {}), ...(opts.olderThan !== undefined ? { olderThan: opts.olderThan } : {}), ...(opts.maxSize !== undefined ? { maxSize: opts.maxSize } : {}), ...(opts.status !== undefined ? { status: opts.status } : {}) },
      { repoRoot: root, homeDir: os.homedir() },
      { keep: '--keep', max_age: '--older-than', max_size: '--max-size' },
    );
    if (chosen) return chosen.criteria;
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(e.message);
    throw e;
  }
  throw new UsageError('nothing says what to prune: give --older-than D, --keep N or --max-size SIZE (or --status S), or set retention: { keep, max_age, max_size } in .orchestrator/config.yaml');
}

export async function pruneCommand(opts: PruneCommandOptions, out: Out): Promise<number> {
  const root = repoRoot();
  const criteria = pruneCriteria(root, opts);
  const report = await prune({ repoRoot: root, criteria, ...(opts.dryRun ? { dryRun: true } : {}) });
  for (const f of report.failed) out.stderr.write(`orchestrator: cannot remove session ${f.id}: ${f.error}\n`);
  if (opts.json) out.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else out.stdout.write(describe(report));
  return report.failed.length ? 1 : 0;
}

function describe(r: PruneReport): string {
  const lines: string[] = [];
  const verb = r.dryRun ? 'would remove' : 'removed';
  if (r.removed.length) {
    const table = [['', 'SESSION', 'STATUS', 'WORKFLOW', 'LAST ACTIVITY', 'SIZE', 'WHY']];
    for (const s of r.removed) table.push([verb, s.id, s.status, s.workflow, s.lastActivity.replace(/\.\d+Z$/, 'Z'), formatSize(s.bytes), s.why.join(', ')]);
    lines.push(formatTable(table).trimEnd());
  }
  for (const s of r.skipped) lines.push(`kept ${s.id}: ${s.reason}`);
  const n = r.removed.length;
  const worktrees = r.removed.reduce((k, s) => k + s.worktrees.length, 0);
  const branches = r.removed.reduce((k, s) => k + s.branches.length, 0);
  const extra = worktrees || branches ? ` with ${worktrees} worktree${worktrees === 1 ? '' : 's'} and ${branches} branch${branches === 1 ? '' : 'es'}` : '';
  if (!n) lines.push(`nothing to prune (${r.kept} session${r.kept === 1 ? '' : 's'} kept)`);
  else lines.push(`${verb} ${n} session${n === 1 ? '' : 's'}${extra}, ${r.dryRun ? 'which would free' : 'freed'} ${formatSize(r.freedBytes)}; ${r.kept} kept${r.dryRun ? ' (nothing was removed: run without --dry-run to remove them)' : ''}`);
  return lines.join('\n') + '\n';
}

export function registerPruneCommand(program: Command, setCode: (c: number) => void, out: Out): void {
  program
    .command('prune')
    .description('remove sessions at rest, oldest first, with their logs, worktrees and branches (never a running one or one waiting for approval)')
    .option('--dry-run', 'say what would be removed; remove nothing')
    .option('--older-than <duration>', 'sessions whose last activity is older than this (e.g. 7d, 12h)')
    .option('--keep <n>', 'keep the newest N sessions at rest, remove the others')
    .option('--max-size <size>', 'remove the oldest until all sessions take at most this (e.g. 500MB, 2GB)')
    .option('--status <status>', 'only sessions with this status (alone: all of them)')
    .option('--json', 'print JSON')
    .action(async (opts: PruneCommandOptions) => {
      setCode(await pruneCommand(opts, out));
    });
}
