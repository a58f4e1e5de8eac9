/**
 * Runs one attempt of one step (shell, built-in action, agent) and collects what it produced:
 * outputs ($ORCHESTRATOR_OUTPUT and `outputs:` expressions) and findings (`::finding` lines,
 * $ORCHESTRATOR_FINDINGS, the `findings:` file). Every value that reaches the disk is masked.
 */
import * as fs from 'node:fs';
import { interpolate, prepareScript, type EvalContext } from '../../workflow/expressions';
import { parseDuration } from '../../workflow/durations';
import type { CompiledStep } from '../../workflow/plan';
import type { WorkflowFile } from '../../workflow/schema';
import type { SessionPaths } from '../../store/sessionStore';
import { parseAnnotation } from '../findings/annotations';
import { parseFindingsJsonl, readFindingsFile } from '../findings/findingsFile';
import { parseOutputs } from './outputs';
import type { Masker } from '../secrets';
import { scratchPrefix } from './scratch';
import { runShellStep } from './shell';
import { forgetStepProcess, recordFile, recordStepProcess, STEP_TOKEN_ENV } from './stepProcesses';
import { stepEnv } from './stepEnv';
import { agentStep, type AgentRecord } from './agentStep';
import { usesStep } from './actions';
import { startEvidence } from './evidence';
import { inWorkspace, stepCwd, type StepWorkspace } from '../workspace/stepWorkspace';
import type { RawFinding, SessionState, StepState, StepStatus } from '../types';

export interface StepOutcome {
  status: Extract<StepStatus, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
  reason?: string;
  /** false: retrying cannot help (a bad key, a missing binary); the retry policy is skipped. */
  retryable?: boolean;
  /** Agent steps: who answered, with which model, at what cost. */
  agent?: AgentRecord;
  exitCode?: number | null;
  outputs: Record<string, string>;
  warnings?: string[];
}

export interface ExecuteInput {
  readonly repoRoot: string;
  readonly paths: SessionPaths;
  readonly session: SessionState;
  readonly step: StepState;
  readonly def: CompiledStep;
  readonly defaults: NonNullable<WorkflowFile['defaults']>;
  readonly workflowEnv: Record<string, string | number | boolean>;
  readonly attempt: number;
  readonly ctx: EvalContext;
  /** The context for `outputs:` expressions, where steps.<self>.outputs holds what the step wrote. */
  readonly selfContext: (outputs: Record<string, string>) => EvalContext;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly masker: Masker;
  /** The session's secrets (provider keys come from them). */
  readonly secrets: ReadonlyMap<string, string>;
  readonly signal: AbortSignal;
  /** The step printed something or sent a heartbeat. */
  readonly heard: () => void;
  readonly finding: (f: RawFinding) => void;
  /** Set while the step runs in a worktree of its own (workspace/stepWorkspace.ts). */
  readonly workspace?: StepWorkspace;
}

export async function executeStep(x: ExecuteInput): Promise<StepOutcome> {
  switch (x.def.kind) {
    case 'run':
      return inWorkspace(x, runStep);
    case 'uses':
      return usesStep(x);
    case 'agent':
      return inWorkspace(x, agentStep);
    default:
      return { status: 'failed', reason: `a ${x.def.kind} step cannot be executed here`, outputs: {} };
  }
}

async function runStep(x: ExecuteInput): Promise<StepOutcome> {
  let prefix: string;
  try {
    prefix = scratchPrefix(x.paths.dir);
  } catch (e) {
    return { status: 'failed', reason: `cannot create a temporary folder for the step's outputs: ${e instanceof Error ? e.message : String(e)}`, outputs: {} };
  }
  const written = new Set<string>();
  try {
    return await runStepIn(x, prefix, written);
  } finally {
    for (const f of written) fs.rmSync(f, { force: true });
  }
}

async function runStepIn(x: ExecuteInput, scratch: string, written: Set<string>): Promise<StepOutcome> {
  const warnings: string[] = [];
  const outputFile = scratch + 'outputs';
  const findingsFile = scratch + 'findings.jsonl';
  let script: string;
  let exprEnv: Record<string, string>;
  let env: Record<string, string>;
  try {
    const prepared = prepareScript(x.def.run ?? '', x.ctx);
    script = prepared.script;
    exprEnv = prepared.env;
    env = { ...stepEnv(x), ...exprEnv, ORCHESTRATOR_OUTPUT: outputFile, ORCHESTRATOR_FINDINGS: findingsFile };
  } catch (e) {
    return { status: 'failed', reason: `an expression could not be evaluated: ${e instanceof Error ? e.message : String(e)}`, outputs: {} };
  }
  const cwd = stepCwd(x);
  const timeoutMs = parseDuration(x.def.timeout ?? x.defaults.timeout);
  // ── evidence (evidence.ts): verify and `changes: required`, after the script succeeded ──
  const started = Date.now();
  const ev = await startEvidence(x, { cwd, env, logFile: x.paths.stepLog(x.step.id, x.attempt), signal: x.signal, ...(timeoutMs !== undefined ? { deadline: started + timeoutMs } : {}), token: env[STEP_TOKEN_ENV] });
  if (typeof ev === 'string') return { status: 'failed', reason: x.masker.mask(ev), retryable: false, outputs: {} };
  let record: string | undefined;
  const result = await runShellStep({
    script,
    shell: x.def.shell ?? x.defaults.shell ?? 'bash',
    cwd,
    env,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    signal: x.signal,
    logFile: x.paths.stepLog(x.step.id, x.attempt),
    mask: (line) => x.masker.mask(line),
    maskPrefix: (text) => x.masker.maskPrefix(text),
    // Recorded so that, if this runner dies, the next one can stop what it leaves running (stepProcesses.ts).
    onSpawn: (pid) => (record = recordStepProcess(recordFile(x.paths, x.step.id, x.attempt), env[STEP_TOKEN_ENV], pid)),
    onLine: (line, stream) => {
      x.heard();
      if (stream !== 'stdout' || !line.startsWith('::')) return;
      const a = parseAnnotation(line, x.step.id);
      if (!a) return;
      if (a.kind === 'finding') {
        x.finding(a.finding);
        if (a.warnings) warnings.push(...a.warnings);
      } else if (a.kind === 'warning') warnings.push(a.message);
    },
  });
  // The shell exited and its group was killed with it: nothing of this attempt is left to stop.
  forgetStepProcess(record);

  const outputs: Record<string, string> = {};
  // Which of the two files the step wrote (most write neither): a stat each, no exception when missing.
  for (const f of [outputFile, findingsFile]) if (fs.statSync(f, { throwIfNoEntry: false }) !== undefined) written.add(f);
  const fileText = written.has(outputFile) ? readIfExists(outputFile) : undefined;
  if (fileText !== undefined) {
    const parsed = parseOutputs(fileText);
    Object.assign(outputs, parsed.outputs);
    warnings.push(...parsed.warnings.map((w) => `$ORCHESTRATOR_OUTPUT: ${w}`));
  }
  const findingsText = written.has(findingsFile) ? readIfExists(findingsFile) : undefined;
  if (findingsText !== undefined) {
    const parsed = parseFindingsJsonl(x.masker.mask(findingsText), x.step.id);
    for (const f of parsed.findings) x.finding(f);
    warnings.push(...parsed.warnings.map((w) => `$ORCHESTRATOR_FINDINGS: ${w}`));
  }
  let refused: string | undefined; // the findings: file lies outside the repository (repoPaths.ts)
  if (x.def.findings) {
    const parsed = await readFindingsFile(x.def.findings, x.step.id, { root: x.repoRoot, cwd, allowOutside: x.session.workflow.compiled.definition.allow_outside_repo });
    for (const f of parsed.findings) x.finding(maskFinding(f, x.masker));
    warnings.push(...parsed.warnings);
    refused = parsed.refused;
  }
  if (x.def.outputs) {
    const ctx = x.selfContext(outputs);
    for (const [k, v] of Object.entries(x.def.outputs)) {
      try {
        outputs[k] = typeof v === 'string' ? interpolate(v, ctx) : String(v);
      } catch (e) {
        warnings.push(`output '${k}' could not be evaluated: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  for (const k of Object.keys(outputs)) outputs[k] = x.masker.mask(outputs[k]);
  if (refused && result.outcome !== 'succeeded') warnings.push(refused);
  const status = refused && result.outcome === 'succeeded' ? 'failed' : result.outcome;
  const reason =
    (status !== result.outcome ? refused : undefined) ??
    result.error ??
    (status === 'failed' ? `exit code ${result.exitCode ?? `signal ${result.signal ?? '?'}`}` : status === 'timed_out' ? `timed out after ${String(x.def.timeout ?? x.defaults.timeout)}` : undefined);
  const proof = status === 'succeeded' ? await ev.verdict(ev.plan ? await ev.check(1, 1) : undefined, true) : undefined; // evidence
  if (proof) return { ...proof, reason: x.masker.mask(proof.reason ?? ''), exitCode: result.exitCode, outputs, ...(warnings.length ? { warnings: warnings.map((w) => x.masker.mask(w)) } : {}) };
  return { status, ...(reason ? { reason: x.masker.mask(reason) } : {}), ...(status !== result.outcome ? { retryable: false } : {}), exitCode: result.exitCode, outputs, ...(warnings.length ? { warnings: warnings.map((w) => x.masker.mask(w)) } : {}) };
}

function maskFinding(f: RawFinding, masker: Masker): RawFinding {
  return { ...f, message: masker.mask(f.message), ...(f.file ? { file: masker.mask(f.file) } : {}) };
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
