/**
 * Done needs evidence: a step's `verify:` commands, run after its work succeeded, and
 * `changes: required` (changes.ts says what a step changed).
 *
 * - `verify:` is a shell command, a list of them, or `{ run: <command or list>, attempts: N }`.
 *   The commands run in order, with the step's shell, in the folder the step ran in and with the
 *   environment it had; the first that fails ends the round. Their output goes into the step's
 *   log between `[verify] round N of M` lines.
 * - An agent step is asked again when a round fails: the follow-up prompt holds the original
 *   prompt, the agent's previous answer and the last 4 KB of the check's output (masked), up to
 *   `attempts` rounds in all (default 3, the first answer included). After the last round the step
 *   fails with `verification failed: <first line> (...)` and is not retried by `retry:`: the
 *   rounds were its retries.
 * - A `run` (or `uses`) step has no rounds: a failing check fails the step with the same reason,
 *   and `retry:` applies as for any failure (a flaky test may pass next time).
 */
import * as path from 'node:path';
import type { AgentResult } from '../../agents/provider';
import { interpolate, prepareScript, type EvalContext } from '../../workflow/expressions';
import type { VerifyDef } from '../../workflow/schema';
import type { Masker } from '../secrets';
import { runShellStep } from './shell';
import { forgetStepProcess, recordStepProcess } from './stepProcesses';

/** Rounds an agent gets when `verify:` does not say (the first answer included). */
export const DEFAULT_VERIFY_ATTEMPTS = 3;
/** How much of a failed check's output the agent is shown (the end of it). */
export const VERIFY_TAIL_BYTES = 4096;
/** The longest first line quoted in a step's reason. */
const REASON_LINE_MAX = 200;

export interface VerifyPlan {
  readonly commands: readonly string[];
  readonly attempts: number;
}

export function verifyPlan(def: VerifyDef | undefined): VerifyPlan | undefined {
  if (def === undefined) return undefined;
  const run = typeof def === 'string' || Array.isArray(def) ? def : def.run;
  const attempts = typeof def === 'object' && !Array.isArray(def) ? def.attempts : undefined;
  return { commands: typeof run === 'string' ? [run] : run, attempts: attempts ?? DEFAULT_VERIFY_ATTEMPTS };
}

/** Where and how the checks run: what the step itself had. */
export interface VerifyContext {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly shell: string;
  readonly ctx: EvalContext;
  readonly masker: Masker;
  readonly logFile: string;
  readonly signal: AbortSignal;
  /** Date.now() when the step's timeout ends. */
  readonly deadline?: number;
  /** Writes one line to the step's log (and counts as output for the stuck clock). */
  readonly note: (line: string) => void;
  readonly heard: () => void;
  /** The step's process record and mark, so that a dead runner's check can be stopped on resume. */
  readonly record?: { readonly file: string; readonly token: string };
}

export interface VerifyRun {
  readonly ok: boolean;
  readonly outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  /** The command that failed (masked, its first line). */
  readonly command?: string;
  /** `exited 1`, `was killed (SIGTERM)`, `could not run: …`. */
  readonly how?: string;
  /** The end of the round's output (masked), at most VERIFY_TAIL_BYTES. */
  readonly tail: string;
  /** The step's reason when this round was the last. */
  readonly reason?: string;
}

/** One round: every command in order until one fails. */
export async function runVerify(v: VerifyContext, plan: VerifyPlan, round: number, rounds: number): Promise<VerifyRun> {
  const label = `[verify] round ${round} of ${rounds}`;
  let output: string[] = [];
  let size = 0;
  for (const command of plan.commands) {
    const shown = v.masker.mask(firstLine(asRun(command, v.ctx)));
    v.note(`${label}: ${shown}`);
    let script: string;
    let env: Record<string, string>;
    try {
      const prepared = prepareScript(command, v.ctx);
      script = prepared.script;
      env = { ...v.env, ...prepared.env };
    } catch (e) {
      const how = `could not be evaluated: ${e instanceof Error ? e.message : String(e)}`;
      v.note(`${label}: ${shown} ${how}`);
      return failed(shown, how, '', round, rounds);
    }
    const left = v.deadline !== undefined ? Math.max(0, v.deadline - Date.now()) : undefined;
    let rec: string | undefined;
    const r = await runShellStep({
      script,
      shell: v.shell,
      cwd: v.cwd,
      env,
      ...(left !== undefined ? { timeoutMs: left } : {}),
      signal: v.signal,
      logFile: v.logFile,
      mask: (line) => v.masker.mask(line),
      maskPrefix: (text) => v.masker.maskPrefix(text),
      onSpawn: (pid) => (rec = v.record ? recordStepProcess(v.record.file, v.record.token, pid) : undefined),
      onLine: (line) => {
        v.heard();
        output.push(line);
        size += line.length + 1;
        while (size > VERIFY_TAIL_BYTES * 2 && output.length > 1) size -= output.shift()!.length + 1;
      },
    });
    forgetStepProcess(rec);
    if (r.outcome === 'timed_out' || r.outcome === 'cancelled') {
      v.note(`${label}: ${shown} ${r.outcome === 'timed_out' ? 'ran out of the step\'s time' : 'was cancelled'}`);
      return { ok: false, outcome: r.outcome, command: shown, tail: tail(output) };
    }
    if (r.outcome === 'failed') {
      const how = r.error ? `could not run: ${v.masker.mask(firstLine(r.error))}` : r.exitCode !== null ? `exited ${r.exitCode}` : `was killed (${r.signal ?? '?'})`;
      v.note(`${label}: ${shown} ${how}`);
      return failed(shown, how, tail(output), round, rounds);
    }
    v.note(`${label}: ${shown} passed`);
    output = [];
    size = 0;
  }
  return { ok: true, outcome: 'succeeded', tail: '' };
}

/** The command as it runs (`verify: ${{ inputs.check }}` shows the check), for the log and the reason. */
function asRun(command: string, ctx: EvalContext): string {
  try {
    return interpolate(command, ctx);
  } catch {
    return command; // the round says it could not be evaluated
  }
}

function failed(command: string, how: string, out: string, round: number, rounds: number): VerifyRun {
  const first = out.split('\n').find((l) => l.trim() !== '')?.trim() ?? `${command} ${how}`;
  const line = first.length > REASON_LINE_MAX ? `${first.slice(0, REASON_LINE_MAX)}…` : first;
  const where = rounds > 1 ? `, round ${round} of ${rounds}` : '';
  return { ok: false, outcome: 'failed', command, how, tail: out, reason: `verification failed: ${line} (\`${command}\` ${how}${where})` };
}

/** The last VERIFY_TAIL_BYTES of the lines, cut at a line start where possible. */
function tail(lines: readonly string[]): string {
  const text = lines.join('\n');
  if (Buffer.byteLength(text) <= VERIFY_TAIL_BYTES) return text;
  const cut = Buffer.from(text).subarray(-VERIFY_TAIL_BYTES).toString('utf8').replace(/^\uFFFD+/, '');
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} …` : lines[0];
}

/** What the agent is asked after a failed round: the task, its answer, the check's output. */
export function followUpPrompt(prompt: string, answer: string, run: VerifyRun, round: number, rounds: number, masker: Masker): string {
  return [
    prompt,
    '',
    `# Your previous answer (round ${round - 1} of ${rounds})`,
    '',
    masker.mask(answer.trim()),
    '',
    '# The check of your work failed',
    '',
    `\`${run.command ?? '?'}\` ${run.how ?? 'failed'}. The end of its output:`,
    '',
    '```',
    masker.mask(run.tail),
    '```',
    '',
    `Fix what makes the check fail, then answer again. This is round ${round} of ${rounds}.`,
  ].join('\n');
}

/** What one round's prompt is saved as, beside the attempt's `<attempt>.prompt.md`. */
export function roundPromptFile(promptFile: string, round: number): string {
  return round === 1 ? promptFile : path.join(path.dirname(promptFile), path.basename(promptFile).replace(/\.prompt\.md$/, `.round${round}.prompt.md`));
}

export interface Rounds {
  /** The last answer, with the usage, turns and tool calls of every round added up. */
  readonly result: AgentResult;
  /** Set when the last round's check failed (or timed out, or was cancelled). */
  readonly failed?: VerifyRun;
}

/**
 * Asks, checks, and asks again with the check's output until the check passes or the rounds are
 * spent. Without a plan: one ask, no check. A provider error ends it (thrown, as without verify).
 */
export async function askUntilVerified(
  plan: VerifyPlan | undefined,
  prompt: string,
  ask: (prompt: string, round: number) => Promise<AgentResult>,
  check: (round: number, rounds: number) => Promise<VerifyRun>,
  followUp: (prompt: string, round: number) => void,
  masker: Masker,
): Promise<Rounds> {
  const results: AgentResult[] = [];
  let current = prompt;
  const rounds = plan?.attempts ?? 1;
  for (let round = 1; ; round++) {
    results.push(await ask(current, round));
    const last = results[results.length - 1];
    if (!plan) return { result: last };
    const run = await check(round, rounds);
    if (run.ok) return { result: sum(results) };
    if (round >= rounds || run.outcome !== 'failed') return { result: sum(results), failed: run };
    current = followUpPrompt(prompt, last.text, run, round + 1, rounds, masker);
    followUp(current, round + 1);
  }
}

function sum(results: readonly AgentResult[]): AgentResult {
  const last = results[results.length - 1];
  if (results.length === 1) return last;
  const add = (pick: (r: AgentResult) => number | undefined): number | undefined =>
    results.some((r) => pick(r) !== undefined) ? results.reduce((n, r) => n + (pick(r) ?? 0), 0) : undefined;
  const usage = {
    inputTokens: add((r) => r.usage?.inputTokens),
    outputTokens: add((r) => r.usage?.outputTokens),
    cacheReadTokens: add((r) => r.usage?.cacheReadTokens),
    costUsd: add((r) => r.usage?.costUsd),
  };
  const defined = Object.fromEntries(Object.entries(usage).filter(([, n]) => n !== undefined));
  const turns = add((r) => r.turns);
  const toolCalls = add((r) => r.toolCalls);
  return {
    ...last,
    ...(Object.keys(defined).length ? { usage: defined } : {}),
    ...(turns !== undefined ? { turns } : {}),
    ...(toolCalls !== undefined ? { toolCalls } : {}),
  };
}
