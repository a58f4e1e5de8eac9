/** `orchestrator snapshot export ID -o FILE`, `orchestrator snapshot import FILE`, `orchestrator delete ID`. */
import type { Command } from 'commander';
import { loadSession } from '../store/sessionStore';
import { deleteSession, exportSnapshot, importSnapshot, SnapshotError } from '../store/portable';
import { UsageError, type Out } from './output';
import { repoRoot, resolveId, type CommonOptions } from './sessionCommands';

/** A SnapshotError is the user's to fix: one line, exit 2. */
async function userErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SnapshotError) throw new UsageError(e.message);
    throw e;
  }
}

export async function snapshotExportCommand(given: string, opts: CommonOptions & { output: string }, out: Out): Promise<number> {
  const root = repoRoot();
  const id = resolveId(given, root);
  const r = await userErrors(() => exportSnapshot(root, id, opts.output));
  if (opts.json) out.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else out.stdout.write(`exported session ${r.id} to ${r.file} (${r.bytes} bytes)\n`);
  return 0;
}

export async function snapshotImportCommand(file: string, opts: CommonOptions, out: Out): Promise<number> {
  const root = repoRoot();
  const r = await userErrors(() => importSnapshot(root, file));
  for (const w of r.warnings) out.stderr.write(`orchestrator: warning: ${w}\n`);
  const status = loadSession(root, r.id).state.status;
  if (opts.json) out.stdout.write(JSON.stringify({ id: r.id, status, warnings: r.warnings }, null, 2) + '\n');
  else out.stdout.write(`imported session ${r.id} (${status}): orchestrator show ${r.id}\n`);
  return 0;
}

export async function deleteCommand(given: string, opts: CommonOptions, out: Out): Promise<number> {
  const root = repoRoot();
  const id = resolveId(given, root);
  await userErrors(() => deleteSession(root, id));
  if (opts.json) out.stdout.write(JSON.stringify({ id, deleted: true }, null, 2) + '\n');
  else out.stdout.write(`deleted session ${id}\n`);
  return 0;
}

/** Registers `snapshot export|import` and `delete`; `setCode` receives each command's exit code. */
export function registerPortableCommands(program: Command, setCode: (code: number) => void, out: Out): void {
  const snapshot = program.command('snapshot').description('export a session to one JSON file, or import one (secrets are masked: safe to share)');
  snapshot
    .command('export')
    .description('write a session (state, events, step logs) to one JSON file')
    .argument('<id>', 'a session id (or latest)')
    .requiredOption('-o, --output <file>', 'the file to write')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: CommonOptions & { output: string }) => {
      setCode(await snapshotExportCommand(id, opts, out));
    });
  snapshot
    .command('import')
    .description('add the session of a snapshot file to this repository (a running one arrives interrupted: resume it)')
    .argument('<file>', 'a file written by orchestrator snapshot export')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: CommonOptions) => {
      setCode(await snapshotImportCommand(file, opts, out));
    });
  program
    .command('delete')
    .description('delete a session and its logs (refused while a runner owns it)')
    .argument('<id>', 'a session id (or latest)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: CommonOptions) => {
      setCode(await deleteCommand(id, opts, out));
    });
}
