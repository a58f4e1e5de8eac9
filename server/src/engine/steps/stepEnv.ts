/**
 * The environment a step's processes get (a shell step's script, a CLI agent, the `verify:`
 * checks of any step): the session's base environment (no secrets), the workflow's and then the
 * step's `env` with their expressions evaluated, and the ORCHESTRATOR_* variables that say which
 * session, step and attempt this is (and mark its processes, stepProcesses.ts).
 */
import { interpolate, type EvalContext } from '../../workflow/expressions';
import type { ExecuteInput } from './executeStep';
import { STEP_TOKEN_ENV, stepToken } from './stepProcesses';

/** `env:` values as text: strings with their `${{ }}` evaluated (throws when one cannot be), the rest as written. */
export function envText(vars: Record<string, string | number | boolean>, ctx: EvalContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = typeof v === 'string' ? interpolate(v, ctx) : String(v);
  return out;
}

/** The step's environment; throws when an expression of an `env:` cannot be evaluated. */
export function stepEnv(x: Pick<ExecuteInput, 'baseEnv' | 'workflowEnv' | 'def' | 'ctx' | 'session' | 'step' | 'attempt'>): Record<string, string> {
  return {
    ...(x.baseEnv as Record<string, string>),
    ...envText(x.workflowEnv, x.ctx),
    ...envText(x.def.env ?? {}, x.ctx),
    ORCHESTRATOR_SESSION_ID: x.session.id,
    ORCHESTRATOR_STEP_ID: x.step.id,
    ORCHESTRATOR_ATTEMPT: String(x.attempt),
    [STEP_TOKEN_ENV]: stepToken(x.session.id, x.step.id, x.attempt),
  };
}
