/**
 * `orchestrator resume ID` when the workflow file changed since the session started: the user
 * chooses between the file as it is now (`--reload`) and the definition stored in the session
 * (`--stored`). On a terminal it asks; otherwise (or with --json) it says how to choose and exits 2.
 * The comparison itself is the engine's (engine/definition.ts), the same the editor asks about.
 */
import * as readline from 'node:readline';
import { describeChoice, idChanges, needsChoice, type DefinitionCheck } from '../engine/definition';
import { checkDefinition } from '../engine/sessions';
import { loadSession } from '../store/sessionStore';
import { UsageError, type Out } from './output';

export type DefinitionChoice = { kind: 'resume'; reload?: true; stored?: true } | { kind: 'fresh'; file: string; inputs: string[] } | { kind: 'refused'; code: number };

export interface ChoiceOptions {
  reload?: boolean;
  stored?: boolean;
  json?: boolean;
}

function ask(question: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input, output, terminal: false });
    let answered = false;
    rl.question(question, (a) => {
      answered = true;
      rl.close();
      resolve(a.trim().toLowerCase());
    });
    rl.on('close', () => {
      if (!answered) resolve('q');
    });
  });
}

/** The prompt's lines and the answers it accepts. */
export function promptFor(check: DefinitionCheck, id: string): { text: string; answers: Record<string, string> } {
  const lines = [`The workflow file ${check.file} changed since session ${id} started.`];
  const answers: Record<string, string> = {};
  if (check.status === 'invalid') {
    lines.push(`It has ${check.errors?.length ?? 1} error(s) now:`, ...(check.errors ?? []).slice(0, 5).map((e) => `  ${e}`), '  s  resume with the definition stored in the session (--stored)', '  q  do nothing (fix the file, then: orchestrator resume ' + id + ' --reload)');
    answers.s = 'stored';
  } else if (!check.reloadable) {
    lines.push(`Its steps differ (it ${idChanges(check)}), so the session cannot take it.`, '  s  resume with the definition stored in the session (--stored)', `  n  start a new session of the file, with the same inputs (orchestrator run ${check.file})`, '  q  do nothing');
    answers.s = 'stored';
    answers.n = 'fresh';
  } else {
    lines.push('  r  resume with the file as it is now (--reload)', '  s  resume with the definition stored in the session (--stored)', '  q  do nothing');
    answers.r = 'reload';
    answers.s = 'stored';
  }
  lines.push(`Resume how? [${[...Object.keys(answers), 'q'].join('/')}] `);
  return { text: lines.join('\n'), answers };
}

/**
 * Decides how to resume: the flags given, nothing to choose (the file is as it was), the user's
 * answer on a terminal, or a refusal that says how to choose.
 */
export async function chooseDefinition(root: string, id: string, opts: ChoiceOptions, out: Out, input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<DefinitionChoice> {
  if (opts.reload && opts.stored) throw new UsageError('--reload and --stored exclude each other: choose one');
  if (opts.reload) return { kind: 'resume', reload: true };
  if (opts.stored) return { kind: 'resume', stored: true };
  const { state, owner } = loadSession(root, id);
  if (owner) return { kind: 'resume' }; // a live session: resume refuses it, with the reason; nothing to ask
  const check = checkDefinition(root, state);
  if (!needsChoice(check)) return { kind: 'resume' };
  if (opts.json || !input.isTTY || !out.stderr.isTTY) {
    out.stderr.write(`orchestrator: ${describeChoice(check, id)}\n`);
    if (opts.json) out.stdout.write(JSON.stringify({ id, resumed: false, definition: check }, null, 2) + '\n');
    return { kind: 'refused', code: 2 };
  }
  const { text, answers } = promptFor(check, id);
  const answer = answers[await ask(text, input, out.stderr)];
  if (answer === 'reload') return { kind: 'resume', reload: true };
  if (answer === 'stored') return { kind: 'resume', stored: true };
  if (answer === 'fresh') return { kind: 'fresh', file: check.file, inputs: Object.entries(state.inputs).map(([k, v]) => `${k}=${String(v)}`) };
  out.stderr.write(`orchestrator: nothing resumed\n`);
  return { kind: 'refused', code: 2 };
}
