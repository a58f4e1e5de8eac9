/**
 * The glue between a step and its evidence (verify.ts, changes.ts): started before the step's
 * work (the `changes: required` mark), asked after it (the verify rounds, then the changes).
 * Shell and agent steps use it the same way; only agents get more than one round. `git/merge`
 * runs its `verify:` once in the merged worktree (verifyOnce).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecuteInput, StepOutcome } from './executeStep';
import { parseDuration } from '../../workflow/durations';
import { stepCwd, type StepWorkspace } from '../workspace/stepWorkspace';
import { changedFiles, markTree, NotGitError, type TreeMark } from './changes';
import { stepEnv } from './stepEnv';
import { STEP_TOKEN_ENV } from './stepProcesses';
import { recordFile } from './stepProcesses';
import { runVerify, verifyPlan, type VerifyPlan, type VerifyRun } from './verify';

export interface EvidenceSetup {
  /** The folder the step ran in (its working directory, or its worktree). */
  readonly cwd: string;
  /** The environment the step had (no secrets). */
  readonly env: Record<string, string>;
  readonly logFile: string;
  /** The step's own signal (its timeout included). */
  readonly signal: AbortSignal;
  readonly deadline?: number;
  /** The step's process mark (STEP_TOKEN_ENV). */
  readonly token: string;
  /** Writes a line to the log; default: appended to logFile, masked. */
  readonly note?: (line: string) => void;
}

export interface Evidence {
  readonly plan: VerifyPlan | undefined;
  /** One verify round in the step's folder. */
  readonly check: (round: number, rounds: number) => Promise<VerifyRun>;
  /** After the work (and the rounds; a passed round counts as none): why the step cannot count as done, or undefined. */
  readonly verdict: (failed: VerifyRun | undefined, retryable: boolean) => Promise<Pick<StepOutcome, 'status' | 'reason' | 'retryable'> | undefined>;
}

/** Before the step's work; a string when it cannot start (changes: required outside git). */
export async function startEvidence(x: ExecuteInput, s: EvidenceSetup): Promise<Evidence | string> {
  const plan = verifyPlan(x.def.verify);
  let mark: TreeMark | undefined;
  if (x.def.changes === 'required') {
    try {
      mark = await markTree(s.cwd, s.env, path.dirname(x.paths.dir));
    } catch (e) {
      return e instanceof NotGitError ? e.message : `'changes: required': cannot read the repository's state: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const note =
    s.note ??
    ((line: string): void => {
      x.heard();
      fs.mkdirSync(path.dirname(s.logFile), { recursive: true });
      fs.appendFileSync(s.logFile, `${x.masker.mask(line)}\n`);
    });
  return {
    plan,
    check: (round, rounds) =>
      runVerify(
        {
          cwd: s.cwd,
          env: s.env,
          shell: x.def.shell ?? x.defaults.shell ?? 'bash',
          ctx: x.ctx,
          masker: x.masker,
          logFile: s.logFile,
          signal: s.signal,
          ...(s.deadline !== undefined ? { deadline: s.deadline } : {}),
          note,
          heard: x.heard,
          record: { file: recordFile(x.paths, x.step.id, x.attempt), token: s.token },
        },
        plan!,
        round,
        rounds,
      ),
    verdict: async (failed, retryable) => {
      if (failed && !failed.ok) {
        const outOfTime = `verification ran out of the step's time (timeout ${String(x.def.timeout ?? x.defaults.timeout)})`;
        // An agent's check is stopped through the agent's own signal: cancelled without a cancel means its timeout.
        if (failed.outcome === 'timed_out' || (failed.outcome === 'cancelled' && !x.signal.aborted)) return { status: 'timed_out', reason: outOfTime, retryable };
        if (failed.outcome === 'cancelled') return { status: 'cancelled', reason: 'verification was cancelled', retryable: false };
        return { status: 'failed', reason: failed.reason ?? 'verification failed', retryable };
      }
      if (!mark) return undefined;
      let files: string[];
      try {
        files = await changedFiles(s.cwd, mark, s.env, path.dirname(x.paths.dir));
      } catch (e) {
        return { status: 'failed', reason: `'changes: required': cannot read what the step changed: ${e instanceof Error ? e.message : String(e)}`, retryable: false };
      }
      note(`[changes] ${files.length ? `${files.length} file${files.length === 1 ? '' : 's'} changed: ${files.slice(0, 20).join(', ')}${files.length > 20 ? ', …' : ''}` : 'no file changed'}`);
      return files.length ? undefined : { status: 'failed', reason: 'claims done but changed nothing (changes: required)', retryable };
    },
  };
}

/**
 * `verify:` of a step that has no rounds and no shell of its own (`git/merge`), run once in the
 * tree it made, with the environment a run step would get, within its `timeout` from `started`.
 * Undefined when the check passed (or there is none); else why the step failed, `retry:` applying.
 */
export async function verifyOnce(x: ExecuteInput, workspace: StepWorkspace, started: number): Promise<Pick<StepOutcome, 'status' | 'reason' | 'retryable'> | undefined> {
  if (x.def.verify === undefined) return undefined;
  let env: Record<string, string>;
  try {
    env = stepEnv(x);
  } catch (e) {
    return { status: 'failed', reason: `an expression in 'env' could not be evaluated: ${e instanceof Error ? e.message : String(e)}`, retryable: false };
  }
  const timeoutMs = parseDuration(x.def.timeout ?? x.defaults.timeout);
  const cwd = stepCwd({ ...x, workspace });
  const ev = await startEvidence(x, { cwd, env, logFile: x.paths.stepLog(x.step.id, x.attempt), signal: x.signal, ...(timeoutMs !== undefined ? { deadline: started + timeoutMs } : {}), token: env[STEP_TOKEN_ENV] });
  if (typeof ev === 'string') return { status: 'failed', reason: x.masker.mask(ev), retryable: false };
  const verdict = await ev.verdict(ev.plan ? await ev.check(1, 1) : undefined, true);
  return verdict && { ...verdict, ...(verdict.reason !== undefined ? { reason: x.masker.mask(verdict.reason) } : {}) };
}
