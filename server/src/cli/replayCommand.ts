/** `orchestrator replay ID|FOLDER [--live]`: a recorded session again, its agent calls answered from the recording. */
import type { Command } from 'commander';
import { loadRecording, startReplay } from '../engine/replay';
import type { Out } from './output';
import { keepRunningWhenOutputCloses } from './pipes';
import { attachReporter, follow, repoRoot, resolveId } from './sessionCommands';

export interface ReplayCommandOptions {
  live?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export async function replayCommand(source: string, opts: ReplayCommandOptions, out: Out): Promise<number> {
  const root = repoRoot();
  const given = source === 'latest' || source === 'last' ? resolveId(source, root) : source;
  const recording = loadRecording(root, given); // checked before anything is said or started
  if (!opts.json && !opts.quiet) {
    const how = opts.live ? 'calls the recording cannot answer go to the provider' : 'no provider is called';
    out.stderr.write(`orchestrator: replay of session ${recording.state.id}: agent answers come from its recording (${how}); shell steps run for real\n`);
  }
  const reporter = attachReporter(out, opts.json, opts.quiet);
  const started = await startReplay(given, { repoRoot: root, ...(opts.live ? { live: true } : {}), ...(reporter ? { onEvent: (e, s) => reporter.event(e, s) } : {}) });
  return follow(started, out, opts);
}

export function registerReplayCommand(program: Command, setCode: (c: number) => void, out: Out): void {
  program
    .command('replay')
    .description("run a recorded session's workflow again as a new session, agent calls answered from its recording")
    .argument('<id>', 'a session id (or latest), or the folder of a recorded session')
    .option('--live', 'send calls the recording cannot answer (a prompt that differs) to the provider')
    .option('--json', 'print the final session summary as JSON')
    .option('-q, --quiet', 'print nothing while running')
    .action(async (id: string, opts: ReplayCommandOptions) => {
      keepRunningWhenOutputCloses();
      setCode(await replayCommand(id, opts, out));
    });
}
