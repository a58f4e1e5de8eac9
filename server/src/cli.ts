/**
 * The `orchestrator` command line: the same engine as the host, no editor needed.
 * Exit codes: 0 success, 1 the workflow/session failed, 2 bad usage or invalid input.
 */
import * as os from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { registerConfigCommand } from './cli/configCommand';
import { UsageError, type Out } from './cli/output';
import { registerDoctorCommand } from './cli/doctorCommand';
import { logsCommand } from './cli/logsCommand';
import { guardPipes, keepRunningWhenOutputCloses } from './cli/pipes';
import { registerMigrateCommand } from './cli/migrateCommand';
import { registerPortableCommands } from './cli/portable';
import { registerProvidersCommand } from './cli/providersCommand';
import { registerPruneCommand } from './cli/pruneCommand';
import { registerReplayCommand } from './cli/replayCommand';
import { registerInitCommand } from './cli/initCommand';
import { registerSecretsCommand } from './cli/secretsCommand';
import { controlCommand, findingsCommand, listCommand, resumeCommand, runCommand, SessionNotFoundError, showCommand, stuckCommand } from './cli/sessionCommands';
import { planCommand, validateCommand } from './cli/workflowCommands';
import { InputError } from './engine/sessions';
import { LockHeldError } from './store/lock';
import { SnapshotError } from './store/sessionFolders';

/** Who answers an approval or cancels: the OS user name. */
function by(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'someone';
  }
}

export async function main(argv: readonly string[], out: Out = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('orchestrator')
    .description('Validate, plan and run Synapse Orchestrator workflows.')
    .version('0.1.0')
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError('(run orchestrator --help for usage)');

  program
    .command('validate')
    .description('check workflow files; prints file:line:col severity code message')
    .argument('<files...>', 'workflow files, or folders to search for them')
    .option('--json', 'print the problems as JSON')
    .action((files: string[], opts: { json?: boolean }) => {
      code = validateCommand(files, opts, out);
    });

  program
    .command('plan')
    .description('show the compiled steps in levels: what runs in what order and what runs in parallel')
    .argument('<file>', 'a workflow file')
    .option('--json', 'print the plan as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      code = planCommand(file, opts, out);
    });

  const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
  program
    .command('run')
    .description('run a workflow to the end: live progress on a TTY; exit 0 when it succeeds, 1 when not')
    .argument('<file>', 'a workflow file')
    .option('-i, --input <name=value>', 'an input value (repeatable)', collect)
    .option('--detach', 'start a runner in the background and print the session id')
    .option('--json', 'print the final session summary as JSON')
    .option('-q, --quiet', 'print nothing while running')
    .option('--concurrency <n>', 'steps at once when the workflow sets no concurrency (over config.yaml and ORCHESTRATOR_CONCURRENCY)')
    .option('--stuck-after <duration>', "stuck_after for steps that set none (over config.yaml and ORCHESTRATOR_STUCK_AFTER)")
    .addOption(new Option('--session-id <id>').hideHelp())
    .action(async (file: string, opts: { input?: string[]; detach?: boolean; json?: boolean; quiet?: boolean; sessionId?: string; concurrency?: string; stuckAfter?: string }) => {
      if (!opts.detach) keepRunningWhenOutputCloses();
      code = await runCommand(file, opts, out);
    });
  program
    .command('resume')
    .description('continue a session at rest: succeeded and skipped steps keep their results')
    .argument('<id>', 'a session id')
    .option('--from <step>', 'run this step and everything downstream of it again')
    .option('--reload', 'the workflow file changed: resume with the file as it is now (its step ids must match)')
    .option('--stored', 'the workflow file changed: resume with the definition stored in the session')
    .option('--detach', 'resume in a background runner and print the session id')
    .option('--json', 'print the final session summary as JSON')
    .option('-q, --quiet', 'print nothing while running')
    .option('--concurrency <n>', 'steps at once when the workflow sets no concurrency (over config.yaml and ORCHESTRATOR_CONCURRENCY)')
    .option('--stuck-after <duration>', "stuck_after for steps that set none (over config.yaml and ORCHESTRATOR_STUCK_AFTER)")
    .action(async (id: string, opts: { from?: string; reload?: boolean; stored?: boolean; detach?: boolean; json?: boolean; quiet?: boolean; concurrency?: string; stuckAfter?: string }) => {
      if (!opts.detach) keepRunningWhenOutputCloses();
      code = await resumeCommand(id, opts, out);
    });
  program
    .command('list')
    .description('sessions of this repository, newest first')
    .option('--status <status>', 'only sessions with this status')
    .option('--json', 'print JSON')
    .action((opts: { status?: string; json?: boolean }) => {
      code = listCommand(opts, out);
    });
  program
    .command('show')
    .description('one session: steps, statuses, outputs, findings')
    .argument('<id>', 'a session id')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }) => {
      code = showCommand(id, opts, out);
    });
  program
    .command('logs')
    .description("a step's output (or, without STEP, the session's events)")
    .argument('<id>', 'a session id')
    .argument('[step]', 'a step id')
    .option('-f, --follow', 'keep printing as the output comes')
    .option('--attempt <n>', 'which attempt (default: the last)')
    .option('--json', 'events as JSON lines')
    .action(async (id: string, step: string | undefined, opts: { follow?: boolean; attempt?: string; json?: boolean }) => {
      code = await logsCommand(id, step, opts, out);
    });
  for (const type of ['pause', 'cancel'] as const) {
    program
      .command(type)
      .description(type === 'pause' ? 'let running steps finish and start nothing new' : 'terminate running steps and stop the session')
      .argument('<id>', 'a session id')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        code = await controlCommand(id, { type, by: by() }, opts, out);
      });
  }
  for (const type of ['approve', 'reject'] as const) {
    program
      .command(type)
      .description(`${type} a step that waits for approval`)
      .argument('<id>', 'a session id')
      .argument('<step>', 'the approval step')
      .option('--reason <text>', 'why (shown in the session)')
      .option('--json', 'print JSON')
      .action(async (id: string, step: string, opts: { reason?: string; json?: boolean }) => {
        code = await controlCommand(id, { type, step, by: by(), ...(opts.reason ? { reason: opts.reason } : {}) }, opts, out);
      });
  }
  program
    .command('stuck')
    .description('stuck steps and stale approvals across sessions')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      code = stuckCommand(opts, out);
    });
  program
    .command('findings')
    .description("a session's findings")
    .argument('<id>', 'a session id')
    .option('--format <format>', 'table, json or sarif', 'table')
    .option('--json', 'the same as --format json')
    .option('--compare', 'mark what is new and what was fixed since the previous session of the same workflow')
    .action((id: string, opts: { format?: string; json?: boolean; compare?: boolean }) => {
      code = findingsCommand(id, opts, out);
    });
  registerPortableCommands(program, (c) => (code = c), out);
  registerProvidersCommand(program, (c) => (code = c), out);
  registerReplayCommand(program, (c) => (code = c), out);
  registerDoctorCommand(program, (c) => (code = c), out);
  registerInitCommand(program, (c) => (code = c), out);
  registerSecretsCommand(program, (c) => (code = c), out);
  registerConfigCommand(program, (c) => (code = c), out);
  registerMigrateCommand(program, (c) => (code = c), out);
  registerPruneCommand(program, (c) => (code = c), out);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      out.stderr.write(`orchestrator: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof InputError || e instanceof SessionNotFoundError || e instanceof LockHeldError || e instanceof SnapshotError) {
      out.stderr.write(`orchestrator: ${e.message}\n`);
      return 2;
    }
    out.stderr.write(`orchestrator: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}

if (require.main === module) {
  guardPipes();
  void main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
