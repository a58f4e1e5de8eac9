/**
 * Running built-in actions (`uses:`). What exists, and the arguments each takes, is the table in
 * workflow/actions.ts (which `validate` and the editor read too); this file holds one
 * implementation per name, and the compiler checks that none is missing.
 */
import * as path from 'node:path';
import { actionList, findAction, findArg, type ActionName } from '../../workflow/actions';
import { interpolate, type EvalContext } from '../../workflow/expressions';
import type { ExecuteInput, StepOutcome } from './executeStep';
import { readFindingsFile } from '../findings/findingsFile';
import { gitApply } from '../workspace/apply';
import { gitMerge } from '../workspace/merge';
import { failingGitAsStep } from '../workspace/git';

const gitFailed = (reason: string): StepOutcome => ({ status: 'failed', reason, retryable: false, outputs: {} });

/** The `with:` arguments by their table name (an alias counts as its argument), expressions evaluated; a list as JSON. */
type Args = Record<string, string>;

/** A `with:` value with the `${{ }}` of every string in it evaluated, list items included. */
function evaluated(v: unknown, ctx: EvalContext): unknown {
  if (typeof v === 'string') return interpolate(v, ctx);
  if (Array.isArray(v)) return v.map((item) => evaluated(item, ctx));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, evaluated(item, ctx)]));
  return v;
}

const IMPLEMENTATIONS: Record<ActionName, (x: ExecuteInput, args: Args) => Promise<StepOutcome>> = {
  'findings/sarif': findingsSarif,
  'findings/merge': () => Promise.resolve({ status: 'succeeded', outputs: {} }),
  'git/merge': failingGitAsStep('git/merge', gitMerge, gitFailed),
  'git/apply': failingGitAsStep('git/apply', gitApply, gitFailed),
};

export async function usesStep(x: ExecuteInput): Promise<StepOutcome> {
  const name = x.def.uses ?? '';
  const action = findAction(name);
  if (!action) return { status: 'failed', reason: `unknown action '${name}': the built-in actions are ${actionList()}`, retryable: false, outputs: {} };
  const args: Args = {};
  try {
    for (const [k, v] of Object.entries(x.def.with ?? {})) {
      const arg = findArg(action, k);
      const value = evaluated(v, x.ctx);
      args[arg?.name ?? k] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  } catch (e) {
    return { status: 'failed', reason: x.masker.mask(`an expression in 'with' could not be evaluated: ${e instanceof Error ? e.message : String(e)}`), outputs: {} };
  }
  const missing = action.with.filter((a) => a.required && (args[a.name] === undefined || args[a.name] === ''));
  if (missing.length) {
    return { status: 'failed', reason: `${action.name} needs with: { ${missing.map((a) => `${a.name}: …`).join(', ')} } (${missing.map((a) => `${a.name}: ${a.description}`).join('; ')})`, retryable: false, outputs: {} };
  }
  x.heard();
  return IMPLEMENTATIONS[action.name as ActionName](x, args);
}

async function findingsSarif(x: ExecuteInput, args: Args): Promise<StepOutcome> {
  const file = args.file;
  const cwd = path.resolve(x.repoRoot, x.def.working_directory ?? x.defaults.working_directory ?? '.');
  const parsed = await readFindingsFile(file, x.step.id, { root: x.repoRoot, cwd, allowOutside: x.session.workflow.compiled.definition.allow_outside_repo, key: 'with.file' });
  if (parsed.refused) return { status: 'failed', reason: x.masker.mask(parsed.refused), retryable: false, outputs: {} };
  for (const f of parsed.findings) x.finding({ ...f, message: x.masker.mask(f.message), ...(f.file ? { file: x.masker.mask(f.file) } : {}) });
  const warnings = parsed.warnings.map((w) => x.masker.mask(w));
  if (parsed.missing || (parsed.findings.length === 0 && parsed.warnings.some((w) => /cannot read|could not read/i.test(w)))) {
    return { status: 'failed', reason: warnings.join('; '), outputs: {} };
  }
  return { status: 'succeeded', outputs: { count: String(parsed.findings.length) }, ...(warnings.length ? { warnings } : {}) };
}
