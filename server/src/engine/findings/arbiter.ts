/**
 * The arbiter (negotiate: { agent }): an agent that settles a disputed finding.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { outsideRepo, outsideRepoRefusal } from '../../workflow/repoPaths';
import { looksLikePath } from '../../workflow/validate';
import { configsFor } from '../steps/agentStep';
import { agentCaller } from '../steps/replaySource';
import { sessionPaths } from '../../store/sessionStore';
import type { Masker } from '../secrets';
import { SEVERITIES, type Decision, type Finding, type SessionState } from '../types';

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
    // [transcript/replay] the call is recorded, or answered from a replay's recording
    const caller = agentCaller({ ...x, paths: sessionPaths(x.repoRoot, x.session.id), target: { arbiter: f.id } }, agent.provider, configsFor(x.repoRoot));
    let instructions = agent.instructions ?? '';
    if (instructions && looksLikePath(instructions)) {
      const file = path.resolve(x.repoRoot, path.dirname(x.session.workflow.file), instructions);
      const out = outsideRepo(x.repoRoot, file, x.session.workflow.compiled.definition.allow_outside_repo);
      if (out) return fallback(outsideRepoRefusal(`agents.${agentName}.instructions`, instructions, out, x.repoRoot));
      instructions = fs.readFileSync(file, 'utf8');
    }
    const result = await caller.run({ prompt: x.masker.mask(prompt), ...(agent.model ? { model: agent.model } : {}), ...(instructions ? { instructions } : {}), signal: x.signal, cwd: x.repoRoot }, () => undefined);
    const block = /```decision[ \t]*\r?\n([\s\S]*?)```/.exec(result.text)?.[1] ?? result.text;
    const parsed = DecisionAnswer.safeParse(JSON.parse(block.trim()));
    if (!parsed.success) return fallback(`its answer is not a decision: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return { policy: 'agent', by: agentName, severity: parsed.data.severity, status: parsed.data.status, reason: x.masker.mask(parsed.data.reason) };
  } catch (e) {
    return fallback(x.masker.mask(e instanceof Error ? e.message : String(e)));
  }
}

/**
 * The session's wait for the arbiter: asked once, when every step is done and some findings are
 * disputed; the session finishes when it has settled them all (or was cancelled meanwhile).
 */
export class Arbitration {
  private phase: 'none' | 'running' | 'done' = 'none';
  readonly decisions: Record<string, Decision> = {};

  get running(): boolean {
    return this.phase === 'running';
  }

  /**
   * Whether the session must wait for the arbiter before it finishes; starts it when it is due.
   * `settled` is called once it is done.
   */
  awaited(input: Omit<ArbiterInput, 'signal'>, disputed: () => Finding[], stopped: () => boolean, settled: () => void): boolean {
    const policy = input.session.workflow.compiled.definition.negotiate;
    if (typeof policy !== 'object' || this.phase === 'done') return false;
    if (this.phase === 'running') return true;
    const todo = disputed();
    if (!todo.length) return false;
    this.phase = 'running';
    const signal = new AbortController().signal;
    void (async () => {
      for (const f of todo) {
        if (stopped()) break;
        this.decisions[f.id] = await arbitrate({ ...input, signal }, policy.agent, f);
      }
      this.phase = 'done';
      settled();
    })();
    return true;
  }
}
