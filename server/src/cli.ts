/**
 * The `orchestrator` command line: the same engine as the host, no editor needed.
 * Exit codes: 0 success, 1 the workflow/session failed, 2 bad usage or invalid input.
 */
import { Command, CommanderError } from 'commander';
import { UsageError, type Out } from './cli/output';
import { planCommand, validateCommand } from './cli/workflowCommands';

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

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      out.stderr.write(`orchestrator: ${e.message}\n`);
      return e.exitCode;
    }
    out.stderr.write(`orchestrator: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
