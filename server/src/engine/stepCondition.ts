/**
 * Whether a ready step starts: its `if`, implicitly `success() && (if)` unless it uses a status
 * function (always(), failure()), as GitHub Actions does (workflow-format.md, docs/sessions.md).
 */
import { evaluateCondition, type EvalContext } from '../workflow/expressions';
import type { CompiledStep } from '../workflow/plan';
import type { StepState } from './types';

const STATUS_FNS = /\b(always|failure)\s*\(/;

/** The step's `if` uses always() or failure(): it may run after a failure. */
export function usesStatusFunction(def: CompiledStep): boolean {
  return def.if !== undefined && STATUS_FNS.test(String(def.if));
}

export type StartDecision = { readonly run: true } | { readonly run: false; readonly status: 'failed' | 'skipped'; readonly reason: string };

/** Evaluates the step's condition: run it, skip it (saying why), or fail it (the `if` could not be evaluated). */
export function decideStart(def: CompiledStep, ctx: EvalContext, needs: readonly StepState[]): StartDecision {
  let run: boolean;
  try {
    const cond = def.if === undefined ? 'success()' : typeof def.if === 'string' ? def.if : String(def.if);
    run = evaluateCondition(cond, ctx);
  } catch (e) {
    return { run: false, status: 'failed', reason: `its 'if' could not be evaluated: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (run) return { run: true };
  const unsettled = needs.filter((n) => n.status !== 'succeeded');
  const reason =
    def.if === undefined || !ctx.status?.success
      ? `a step it needs did not succeed (${unsettled.slice(0, 3).map((n) => `${n.id} ${n.status}`).join(', ') || 'none'})`
      : `its condition is false: ${String(def.if)}`;
  return { run: false, status: 'skipped', reason };
}
