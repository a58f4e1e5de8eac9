/**
 * `orchestrator init [--portable | --no-portable] [--json]`: sets up `.orchestrator/` in the
 * repository (setup/init.ts). Exit 0 when set up (also when nothing had to change), 1 when a file
 * cannot be written, 2 for bad usage (e.g. run in the home folder).
 */
import type { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { InitError, initRepository, type InitReport } from '../setup/init';
import { painter, UsageError, type Out } from './output';
import { repoRoot } from './sessionCommands';

const MODE_WORDS: Record<InitReport['mode'], string> = {
  normal: 'normal mode: sessions, secrets and worktrees stay out of git',
  portable: 'portable mode: sessions are committed; secrets and worktrees never are',
  custom: '.orchestrator/.gitignore was written by hand: its rules decide what git sees',
};

export function formatInitReport(r: InitReport, paint: ReturnType<typeof painter>): string {
  const where = r.repoRoot;
  let text = r.changed
    ? `Set up .orchestrator/ in ${where} (${MODE_WORDS[r.mode]}).\n`
    : `Nothing changed: .orchestrator/ in ${where} is already set up (${MODE_WORDS[r.mode]}).\n`;
  const width = Math.max(...r.items.map((i) => i.action.length));
  for (const i of r.items) {
    const word = i.action.padEnd(width);
    text += `  ${i.action === 'kept' ? paint('dim', word) : paint('green', word)}  ${i.path}${i.note ? paint('dim', ` (${i.note})`) : ''}\n`;
  }
  if (r.notes.length) text += `\n${paint('yellow', 'To do:')}\n${r.notes.map((n) => `  - ${n.replace(/\n/g, '\n      ')}`).join('\n')}\n`;
  const created = r.items.find((i) => i.action === 'created' && i.path.startsWith('.orchestrator/workflows/'));
  if (created) text += `\nNext: orchestrator run ${path.relative(process.cwd(), path.join(r.repoRoot, created.path)) || created.path}, and commit .orchestrator/ (git add .orchestrator).\n`;
  return text;
}

export async function initCommand(opts: { portable?: boolean; json?: boolean }, out: Out): Promise<number> {
  let report: InitReport;
  try {
    report = await initRepository({ repoRoot: repoRoot(), ...(opts.portable !== undefined ? { portable: opts.portable } : {}), homeDir: os.homedir() });
  } catch (e) {
    if (e instanceof InitError) throw new UsageError(e.message, e.usage ? 2 : 1);
    throw e;
  }
  if (opts.json) out.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else out.stdout.write(formatInitReport(report, painter(out.stdout)));
  return 0;
}

export function registerInitCommand(program: Command, setCode: (code: number) => void, out: Out): void {
  program
    .command('init')
    .description('set up .orchestrator/ here: a commented config.yaml, a starter workflow, meta.json and a .gitignore; never overwrites a file, and a second run changes nothing')
    .option('--portable', 'commit sessions with the repository (secrets and worktrees never are)')
    .option('--no-portable', 'normal mode: sessions, secrets and worktrees stay out of git (switches a portable folder back)')
    .option('--json', 'print what was done as JSON')
    .action(async (opts: { portable?: boolean; json?: boolean }) => {
      setCode(await initCommand(opts, out));
    });
}
