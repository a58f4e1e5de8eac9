/**
 * Agent steps: the step's agent names a provider (agents/registry.ts); the prompt (with its
 * expressions), the agent's instructions (a file or inline text) and the model (the step's
 * `model:`, else the agent's, else the provider's default) go to it; the answer streams into the
 * step's log as it arrives (so a streaming agent is never flagged stuck) and becomes
 * `steps.ID.outputs.text`. Findings the agent reports in a fenced ```findings block (a JSON list
 * of {severity, message, file?, line?, rule?}) become findings. What was sent is saved with the
 * attempt (`steps/<id>/<attempt>.prompt.md`, secrets masked). A circuit breaker per provider fails
 * fast after repeated failures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BreakerRegistry } from '../agents/breaker';
import { ProviderError } from '../agents/provider';
import { loadProviderConfigs, resolveProvider, type ProviderConfigs } from '../agents/registry';
import { interpolate } from '../workflow/expressions';
import { outsideRepo, outsideRepoRefusal } from '../workflow/repoPaths';
import { looksLikePath } from '../workflow/validate';
import type { ExecuteInput, StepOutcome } from './executeStep';
import { z } from 'zod';
import { parseFindingsText } from './findingsFile';
import type { Masker } from './secrets';
import { forgetStepProcess, recordFile, recordStepProcess, STEP_TOKEN_ENV, stepToken } from './stepProcesses';
import { SEVERITIES, type Decision, type Finding, type SessionState } from './types';

export interface AgentRecord {
  provider: string;
  model?: string;
  usage?: { inputTokens?: number; outputTokens?: number };
  durationMs: number;
}

/** What the engine adds to every agent's instructions, so findings come back in a shape it reads. */
export const FINDINGS_INSTRUCTIONS = [
  'If you report findings (problems in the code you were asked about), end your answer with a fenced block',
  'labelled findings holding a JSON list, one object per finding:',
  '```findings',
  '[{"severity": "critical|high|medium|low|info", "message": "what and why", "file": "path/relative/to/repo", "line": 12, "rule": "short-id"}]',
  '```',
].join('\n');

const breakers = new BreakerRegistry();
/** The most of one context file sent (characters); more is cut with a note. */
const CONTEXT_LIMIT = 200_000;
const configCache = new Map<string, ProviderConfigs>();

function configsFor(repoRoot: string): ProviderConfigs {
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

  const breaker = breakers.get(agent.provider);
  const open = breaker.check();
  if (open.open) return { status: 'failed', reason: open.message, retryable: true, outputs: {} };

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
  try {
    const provider = resolveProvider(agent.provider, configs, x.secrets);
    // Marked and recorded as a shell step is, so that a resume after this runner died can stop it (stepProcesses.ts).
    const token = stepToken(x.session.id, x.step.id, x.attempt);
    const spawned = { env: { [STEP_TOKEN_ENV]: token }, onSpawn: (pid: number) => (procRecord = recordStepProcess(recordFile(x.paths, x.step.id, x.attempt), token, pid)) };
    const result = await provider.run({ prompt, ...(model ? { model } : {}), instructions, signal: x.signal, ...spawned }, (c) => {
      x.heard();
      writeLines(c.text);
    });
    writeLines('', true);
    breaker.success();
    const found = findingsInAnswer(result.text, x.step.id);
    for (const f of found.findings) x.finding({ ...f, message: x.masker.mask(f.message) });
    warnings.push(...found.warnings);
    const record: AgentRecord = { provider: agent.provider, ...(result.model ?? model ? { model: result.model ?? model } : {}), ...(result.usage ? { usage: result.usage } : {}), durationMs: Date.now() - t0 };
    return { status: 'succeeded', outputs: { text: x.masker.mask(result.text) }, agent: record, ...(warnings.length ? { warnings } : {}) };
  } catch (e) {
    writeLines('', true);
    const cancelled = x.signal.aborted;
    if (!cancelled) breaker.failure(e);
    const retryable = e instanceof ProviderError ? e.retryable : true;
    const message = e instanceof Error ? e.message : String(e);
    return {
      status: cancelled ? 'cancelled' : 'failed',
      reason: x.masker.mask(message),
      retryable,
      agent: { provider: agent.provider, ...(model ? { model } : {}), durationMs: Date.now() - t0 },
      outputs: {},
      ...(warnings.length ? { warnings } : {}),
    };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    forgetStepProcess(procRecord);
  }
}

const DecisionAnswer = z.strictObject({
  severity: z.enum(SEVERITIES),
  status: z.enum(['open', 'dismissed']),
  reason: z.string().min(1),
});

export interface ArbiterInput {
  readonly repoRoot: string;
  readonly session: SessionState;
  readonly secrets: ReadonlyMap<string, string>;
  readonly masker: Masker;
  readonly signal: AbortSignal;
}

/**
 * Asks the arbiter agent (negotiate: { agent }) to settle one disputed finding: every opinion
 * goes in; a fenced ```decision block {severity, status: open|dismissed, reason} comes back.
 * A failure leaves the provisional decision (highest severity), saying why.
 */
export async function arbitrate(x: ArbiterInput, agentName: string, f: Finding): Promise<Decision> {
  const fallback = (why: string): Decision => ({ policy: 'agent', by: agentName, severity: f.severity, status: f.status ?? 'open', reason: `the arbiter could not decide (${why}); highest severity wins` });
  const agent = x.session.workflow.compiled.definition.agents?.[agentName];
  if (!agent) return fallback(`agent '${agentName}' is not declared`);
  const where = [f.file, f.line].filter((v) => v !== undefined).join(':');
  const opinions = f.sources.map((s, i) => `${i + 1}. step ${s.step} (${s.source}): ${s.verdict ? `says it is ${s.verdict}` : `severity ${s.severity}`}: ${s.message}`).join('\n');
  const prompt = [
    `Several reviewers reported the same place differently. Decide what is right.`,
    `Place: ${where || '(no location)'}${f.rule ? `, rule ${f.rule}` : ''}`,
    `Opinions:\n${opinions}`,
    `Answer with a fenced block labelled decision holding JSON: {"severity": "critical|high|medium|low|info", "status": "open|dismissed", "reason": "why, in one sentence"}`,
  ].join('\n\n');
  try {
    const provider = resolveProvider(agent.provider, configsFor(x.repoRoot), x.secrets);
    let instructions = agent.instructions ?? '';
    if (instructions && looksLikePath(instructions)) {
      const file = path.resolve(x.repoRoot, path.dirname(x.session.workflow.file), instructions);
      const out = outsideRepo(x.repoRoot, file, x.session.workflow.compiled.definition.allow_outside_repo);
      if (out) return fallback(outsideRepoRefusal(`agents.${agentName}.instructions`, instructions, out, x.repoRoot));
      instructions = fs.readFileSync(file, 'utf8');
    }
    const result = await provider.run({ prompt: x.masker.mask(prompt), ...(agent.model ? { model: agent.model } : {}), ...(instructions ? { instructions } : {}), signal: x.signal }, () => undefined);
    const block = /```decision[ \t]*\r?\n([\s\S]*?)```/.exec(result.text)?.[1] ?? result.text;
    const parsed = DecisionAnswer.safeParse(JSON.parse(block.trim()));
    if (!parsed.success) return fallback(`its answer is not a decision: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return { policy: 'agent', by: agentName, severity: parsed.data.severity, status: parsed.data.status, reason: x.masker.mask(parsed.data.reason) };
  } catch (e) {
    return fallback(x.masker.mask(e instanceof Error ? e.message : String(e)));
  }
}
