/** `orchestrator migrate [--dry-run] [--json]`: the state folder upgraded to this release's state format (store/migrate.ts). */
import type { Command } from 'commander';
import { STATE_FORMAT } from '../store/formatVersion';
import { migrateState, MigrateRefused, type MigrateReport } from '../store/migrate';
import type { Out } from './output';
import { repoRoot, type CommonOptions } from './sessionCommands';

export interface MigrateCommandOptions extends CommonOptions {
  dryRun?: boolean;
}

export async function migrateCommand(opts: MigrateCommandOptions, out: Out): Promise<number> {
  let report: MigrateReport;
  try {
    report = await migrateState({ repoRoot: repoRoot(), ...(opts.dryRun ? { dryRun: true } : {}) });
  } catch (e) {
    if (!(e instanceof MigrateRefused)) throw e;
    if (opts.json) out.stdout.write(JSON.stringify({ refused: e.message }, null, 2) + '\n');
    out.stderr.write(`orchestrator: ${e.message}\n`);
    return 1;
  }
  if (opts.json) {
    out.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  }
  out.stdout.write(describe(report).join('\n') + '\n');
  return 0;
}

function describe(r: MigrateReport): string[] {
  const lines: string[] = [];
  if (r.recovered && r.recovered.outcome !== 'in progress') {
    lines.push(r.recovered.outcome === 'completed' ? `an interrupted migration was finished first${r.recovered.backup ? ` (backup: ${r.recovered.backup})` : ''}` : 'an interrupted migration was undone first (nothing of it had been applied)');
  }
  const n = r.migrated.length;
  if (!n) lines.push(`every session is in state format ${STATE_FORMAT} already (${r.current.length} session${r.current.length === 1 ? '' : 's'}): nothing to do`);
  else if (r.dryRun) {
    lines.push(`${n} session${n === 1 ? '' : 's'} would be upgraded to state format ${STATE_FORMAT} (this orchestrator's):`);
    for (const m of r.migrated) lines.push(`  ${m.id}  format ${m.from} → ${STATE_FORMAT}`);
    for (const c of r.changes) lines.push(`change ${c}`);
  } else {
    lines.push(`upgraded ${n} session${n === 1 ? '' : 's'} to state format ${STATE_FORMAT}; the old files are in ${r.backup ?? 'the backup'}`);
  }
  for (const l of r.left) lines.push(`left as it is (still read): ${l.id}: ${l.reason}`);
  for (const x of r.running) lines.push(`would refuse now: session ${x.id} is running (owned by ${x.owner}): wait for it to finish or cancel it first`);
  if (r.dryRun && n) lines.push('nothing was changed; run orchestrator migrate to upgrade (all or nothing, the old files are kept as a backup)');
  return lines;
}

export function registerMigrateCommand(program: Command, setCode: (c: number) => void, out: Out): void {
  program
    .command('migrate')
    .description("upgrade the sessions to this release's state format: all or nothing, the old files kept as a backup")
    .option('--dry-run', 'say what would be upgraded; change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: MigrateCommandOptions) => {
      setCode(await migrateCommand(opts, out));
    });
}
