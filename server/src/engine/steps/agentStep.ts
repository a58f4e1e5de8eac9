/**
 * Agent steps: the step's agent names a provider (agents/registry.ts); the prompt (with its
 * expressions), the agent's instructions (a file or inline text) and the model (the step's
 * `model:`, else the agent's, else the provider's default) go to it; the answer streams into the
 * step's log as it arrives (so a streaming agent is never flagged stuck) and becomes
 * `steps.ID.outputs.text`. Findings the agent reports in a fenced ```findings block (a JSON list
 * of {severity, message, file?, line?, rule?}) become findings. What was sent is saved with the
 * attempt (`steps/<id>/<attempt>.prompt.md`, secrets masked).
 *
 * A CLI agent runs as a shell step would: in the step's `working_directory` (else the repository
 * root), with the session's base environment (no secrets), the workflow's and the step's `env`,
 * and its provider's own key. The step's `timeout` bounds the call. A circuit breaker per provider
 * stops calls after repeated failures; a step meeting an open breaker waits for its half-open time
 * when that comes within the step's timeout, else fails once with the breaker's reason
 * (agentBreaker.ts). Notes of the tool (tool calls, stderr) go to the log, not into the answer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BreakerRegistry, type CircuitBreakerOptions } from '../../agents/breaker';
import { parseDuration } from '../../workflow/durations';
import { passBreaker } from './agentBreaker';
import { budgetFor } from './budget';
import { ProviderError, type AgentResult, type AgentUsage } from '../../agents/provider';
import { startEvidence } from './evidence';
import { askUntilVerified, roundPromptFile } from './verify';
import { loadProviderConfigs, type ProviderConfigs } from '../../agents/registry';
import { agentCaller } from './replaySource'; // [transcript/replay]
import { interpolate } from '../../workflow/expressions';
import { outsideRepo, outsideRepoRefusal } from '../../workflow/repoPaths';
import { looksLikePath } from '../../workflow/validate';
import type { ExecuteInput, StepOutcome } from './executeStep';
import { stepCwd } from '../workspace/stepWorkspace';
import { parseFindingsText } from '../findings/findingsFile';
import { forgetStepProcess, recordFile, recordStepProcess, STEP_TOKEN_ENV } from './stepProcesses';
import { stepEnv } from './stepEnv';

export interface AgentRecord {
  provider: string;
  model?: string;
  usage?: AgentUsage;
  /** Agentic CLIs: model turns and tool calls. */
  turns?: number;
  toolCalls?: number;
  durationMs: number;
  /** budget: the workflow's agent, the cost used (engine/types.ts StepState['agent']), usage counted as it streamed */
  agent?: string;
  cost?: { usd: number; from: 'prices' | 'tool' };
  estimated?: boolean;
}

/** `claude-code/claude-sonnet-4-5 1200→340 tokens $0.0123 (prices:), 3 turns, 2 tool calls` */
export function agentText(a: AgentRecord): string {
  const u = a.usage;
  const tokens = u && (u.inputTokens !== undefined || u.outputTokens !== undefined) ? ` ${u.inputTokens ?? '?'}→${u.outputTokens ?? '?'} tokens${a.estimated ? ' (counted as it streamed)' : ''}` : '';
  // budget: the cost used (prices: when the model has one, else the tool's)
  const cost = a.cost ? ` $${a.cost.usd.toFixed(4)} (${a.cost.from === 'prices' ? 'prices:' : 'the tool'})` : u?.costUsd !== undefined ? ` $${u.costUsd.toFixed(4)}` : '';
  const counts = [a.turns !== undefined ? `${a.turns} turn${a.turns === 1 ? '' : 's'}` : '', a.toolCalls ? `${a.toolCalls} tool call${a.toolCalls === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  return `${a.provider}${a.model ? `/${a.model}` : ''}${tokens}${cost}${counts ? `, ${counts}` : ''}`;
}

/** What the engine adds to every agent's instructions, so findings come back in a shape it reads. */
export const FINDINGS_INSTRUCTIONS = [
  'If you report findings (problems in the code you were asked about), end your answer with a fenced block',
  'labelled findings holding a JSON list, one object per finding:',
  '```findings',
  '[{"severity": "critical|high|medium|low|info", "message": "what and why", "file": "path/relative/to/repo", "line": 12, "rule": "short-id"}]',
  '```',
].join('\n');

let breakers = new BreakerRegistry();
/** Replaces the providers' circuit breakers (tests: a short cool-down). */
export function configureBreakers(opts: Omit<CircuitBreakerOptions, 'name'> = {}): void {
  breakers = new BreakerRegistry(opts);
}
/** The most of one context file sent (characters); more is cut with a note. */
const CONTEXT_LIMIT = 200_000;
const configCache = new Map<string, ProviderConfigs>();

export function configsFor(repoRoot: string): ProviderConfigs {
  let c = configCache.get(repoRoot);
  if (!c) configCache.set(repoRoot, (c = loadProviderConfigs(repoRoot)));
  return c;
}

/** The findings blocks of an answer, parsed and validated (invalid ones become warnings). */
export function findingsInAnswer(text: string, step: string): { findings: ReturnType<typeof parseFindingsText>['findings']; warnings: string[] } {
  const findings: ReturnType<typeof parseFindingsText>['findings'] = [];
  const warnings: string[] = [];
  for (const m of text.matchAll(/```findings[ \t]*\r?\n([\s\S]*?)```/g)) {
    const parsed = parseFindingsText(m[1], step);
    findings.push(...parsed.findings.map((f) => ({ ...f, source: 'agent' })));
    warnings.push(...parsed.warnings.map((w) => `findings in the agent's answer: ${w}`));
  }
  return { findings, warnings };
}

export async function agentStep(x: ExecuteInput): Promise<StepOutcome> {
  const wf = x.session.workflow.compiled.definition;
  const agentName = x.def.agent ?? '';
  const agent = wf.agents?.[agentName];
  if (!agent) return { status: 'failed', reason: `agent '${agentName}' is not declared under agents`, retryable: false, outputs: {} };
  const warnings: string[] = [];
  const configs = configsFor(x.repoRoot);
  warnings.push(...configs.warnings);

  let prompt: string;
  try {
    prompt = interpolate(x.def.prompt ?? '', x.ctx);
  } catch (e) {
    return { status: 'failed', reason: `the prompt could not be evaluated: ${e instanceof Error ? e.message : String(e)}`, retryable: false, outputs: {} };
  }
  const allow = wf.allow_outside_repo;
  let instructions = agent.instructions ?? '';
  if (instructions && looksLikePath(instructions)) {
    const file = path.resolve(x.repoRoot, path.dirname(x.session.workflow.file), instructions);
    const out = outsideRepo(x.repoRoot, file, allow);
    if (out) return { status: 'failed', reason: outsideRepoRefusal(`agents.${agentName}.instructions`, instructions, out, x.repoRoot), retryable: false, outputs: {} };
    try {
      instructions = fs.readFileSync(file, 'utf8');
    } catch {
      return { status: 'failed', reason: `agent '${agentName}': its instructions file ${file} cannot be read: create it or write the instructions inline`, retryable: false, outputs: {} };
    }
  }
  instructions = [instructions.trim(), FINDINGS_INSTRUCTIONS].filter(Boolean).join('\n\n');
  // Context files (the agent's, then the step's), relative to the repository root.
  const contexts = [...(agent.context ?? []).map((rel) => [`agents.${agentName}.context`, rel]), ...(x.def.context ?? []).map((rel) => ['context', rel])];
  for (const [key, rel] of contexts) {
    const file = path.resolve(x.repoRoot, rel);
    const out = outsideRepo(x.repoRoot, file, allow);
    if (out) return { status: 'failed', reason: outsideRepoRefusal(key, rel, out, x.repoRoot), retryable: false, outputs: {} };
    let body: string;
    try {
      body = fs.readFileSync(file, 'utf8');
    } catch {
      return { status: 'failed', reason: `context file ${rel} cannot be read (looked for ${file}): create it or fix the path`, retryable: false, outputs: {} };
    }
    if (body.length > CONTEXT_LIMIT) body = `${body.slice(0, CONTEXT_LIMIT)}\n[… ${body.length - CONTEXT_LIMIT} more characters left out]`;
    prompt += `\n\n## Context: ${rel}\n\n${body}`;
  }
  const model = x.def.model ?? agent.model;

  // What was sent, saved with the attempt (masked).
  const logFile = x.paths.stepLog(x.step.id, x.attempt);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const sent = `provider: ${agent.provider}\nmodel: ${model ?? '(the provider default)'}\n\n# Instructions\n\n${instructions}\n\n# Prompt\n\n${prompt}\n`;
  fs.writeFileSync(logFile.replace(/\.log$/, '.prompt.md'), x.masker.mask(sent));

  const timeoutMs = parseDuration(x.def.timeout ?? x.defaults.timeout);
  const deadline = timeoutMs !== undefined ? Date.now() + timeoutMs : undefined;
  // The step's own timeout (as for shell steps): its end aborts the call.
  const abort = new AbortController();
  let timedOut = false;
  const onOuter = (): void => abort.abort();
  x.signal.addEventListener('abort', onOuter, { once: true });
  if (x.signal.aborted) abort.abort();
  // budget: spend limits; over one, the call is aborted and the step fails, not retried (budget.ts)
  const budget = budgetFor(x, agentName, model, () => abort.abort());
  warnings.push(...budget.priceWarnings);
  const refused = budget.start();
  if (refused) {
    x.signal.removeEventListener('abort', onOuter);
    return { status: 'failed', reason: refused, retryable: false, outputs: {}, ...(warnings.length ? { warnings } : {}) };
  }
  const timer =
    timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, timeoutMs)
      : undefined;

  const t0 = Date.now();
  let procRecord: string | undefined;
  let fd: number | undefined;
  let pending = '';
  const writeLines = (text: string, end = false): void => {
    pending += text;
    const cut = end ? pending.length : pending.lastIndexOf('\n') + 1;
    if (cut <= 0) return;
    const chunk = pending.slice(0, cut);
    pending = pending.slice(cut);
    const masked = chunk
      .split('\n')
      .map((l) => x.masker.mask(l))
      .join('\n');
    fd ??= fs.openSync(logFile, 'a');
    fs.writeSync(fd, masked + (end && !masked.endsWith('\n') ? '\n' : ''));
  };
  const note = (line: string): void => {
    x.heard();
    writeLines(`${pending && !pending.endsWith('\n') ? '\n' : ''}${line}\n`);
  };
  const took = (): number => Date.now() - t0;
  const record = (r: Partial<AgentRecord> = {}): AgentRecord => ({ provider: agent.provider, ...(model ? { model } : {}), ...r, durationMs: took() });
  const timedOutReason = (): string => `the agent did not answer within the step's timeout (${String(x.def.timeout ?? x.defaults.timeout)})`;

  const breaker = breakers.get(agent.provider);
  try {
    const pass = await passBreaker(breaker, abort.signal, deadline, note);
    if (!pass.ok) {
      writeLines('', true);
      if (timedOut) return { status: 'timed_out', reason: timedOutReason(), retryable: false, agent: record(), outputs: {}, ...(warnings.length ? { warnings } : {}) };
      return { status: pass.cancelled ? 'cancelled' : 'failed', reason: x.masker.mask(pass.reason), retryable: false, agent: record(), outputs: {}, ...(warnings.length ? { warnings } : {}) };
    }
    // [transcript/replay] Who answers: the provider, or a replay's recording; either way the call is recorded (replaySource.ts).
    const caller = agentCaller({ ...x, target: { step: x.step.id, attempt: x.attempt } }, agent.provider, configs);
    // Marked and recorded as a shell step is, so that a resume after this runner died can stop it (stepProcesses.ts).
    const env = stepEnv(x);
    const token = env[STEP_TOKEN_ENV];
    const cwd = stepCwd(x);
    const spawned = { env, cwd, onSpawn: (pid: number) => (procRecord = recordStepProcess(recordFile(x.paths, x.step.id, x.attempt), token, pid)) };
    // ── evidence (evidence.ts, verify.ts): verify rounds and `changes: required` ──
    const ev = await startEvidence(x, { cwd, env, logFile, signal: abort.signal, ...(deadline !== undefined ? { deadline } : {}), token, note });
    if (typeof ev === 'string') return { status: 'failed', reason: x.masker.mask(ev), retryable: false, agent: record(), outputs: {}, ...(warnings.length ? { warnings } : {}) };
    let round = 1; // [transcript/replay]: each verify round is recorded and replayed as its own call
    const ask = async (p: string): Promise<AgentResult> => {
      const r = await caller.run(
        { prompt: p, ...(model ? { model } : {}), instructions, signal: abort.signal, ...spawned, onUsage: (u) => budget.usage(u) },
        (c) => {
          x.heard();
          if (c.note) note(c.text.replace(/\n$/, ''));
          else {
            writeLines(c.text);
            budget.text(c.text); // budget
          }
        },
        round,
      );
      if (budget.reason) throw new ProviderError(budget.reason, false); // budget: tripped as the answer ended
      return r;
    };
    const again = (p: string, r: number): void => {
      round = r;
      note(`[verify] asking the agent again with the check's output (round ${r} of ${ev.plan?.attempts ?? 1})`);
      fs.writeFileSync(roundPromptFile(logFile.replace(/\.log$/, '.prompt.md'), r), x.masker.mask(`# Prompt (round ${r})\n\n${p}\n`));
    };
    const rounds = await askUntilVerified(ev.plan, prompt, ask, ev.check, again, x.masker);
    const result = rounds.result;
    // ── end evidence ──
    writeLines('', true);
    breaker.success();
    const found = findingsInAnswer(result.text, x.step.id);
    for (const f of found.findings) x.finding({ ...f, message: x.masker.mask(f.message) });
    warnings.push(...found.warnings);
    // budget: the call's cost, and whether its final figures went over
    const settled = budget.settle(record({
      ...(result.model ?? model ? { model: result.model ?? model } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
      ...(result.turns !== undefined ? { turns: result.turns } : {}),
      ...(result.toolCalls !== undefined ? { toolCalls: result.toolCalls } : {}),
    }), false);
    const rec = settled.rec;
    if (settled.warning) warnings.push(settled.warning);
    note(`[agent] ${agentText(rec)}${settled.warning ? `\n[budget] ${settled.warning}` : ''}`);
    writeLines('', true);
    if (settled.over) return { status: 'failed', reason: settled.over, retryable: false, agent: rec, outputs: {}, ...(warnings.length ? { warnings } : {}) };
    const unproven = await ev.verdict(rounds.failed, false); // evidence: the rounds were the retries
    if (unproven) return { ...unproven, reason: x.masker.mask(unproven.reason ?? ''), outputs: { text: x.masker.mask(result.text) }, agent: rec, ...(warnings.length ? { warnings } : {}) };
    return { status: 'succeeded', outputs: { text: x.masker.mask(result.text) }, agent: rec, ...(warnings.length ? { warnings } : {}) };
  } catch (e) {
    writeLines('', true);
    // budget: a call stopped over a budget fails, not retried, with what it spent so far
    const cut = budget.settle(record(), true);
    if (cut.warning && budget.reason) warnings.push(cut.warning);
    if (budget.reason && !x.signal.aborted) {
      note(`[agent] ${agentText(cut.rec)}: ${budget.reason}`);
      writeLines('', true);
      return { status: 'failed', reason: budget.reason, retryable: false, agent: cut.rec, outputs: {}, ...(warnings.length ? { warnings } : {}) };
    }
    const cancelled = x.signal.aborted;
    if (timedOut) {
      breaker.failure(new Error(timedOutReason()));
      return { status: 'timed_out', reason: timedOutReason(), retryable: true, agent: cut.rec, outputs: {}, ...(warnings.length ? { warnings } : {}) };
    }
    if (!cancelled) breaker.failure(e);
    else breaker.failure(new ProviderError('run cancelled', false));
    const retryable = e instanceof ProviderError ? e.retryable : true;
    const message = e instanceof Error ? e.message : String(e);
    return {
      status: cancelled ? 'cancelled' : 'failed',
      reason: x.masker.mask(message),
      retryable,
      agent: cut.rec,
      outputs: {},
      ...(warnings.length ? { warnings } : {}),
    };
  } finally {
    if (timer) clearTimeout(timer);
    x.signal.removeEventListener('abort', onOuter);
    budget.stop(); // budget
    if (fd !== undefined) fs.closeSync(fd);
    forgetStepProcess(procRecord);
  }
}

