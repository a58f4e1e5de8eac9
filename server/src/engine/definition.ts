/**
 * Has a session's workflow file changed since the session started? One comparison, used by
 * `resumeSession`, by `orchestrator resume` (which asks the user to choose) and by the host (the
 * editor's question before *Resume*). Plain data in, plain data out; no vscode imports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompiledWorkflow } from '../workflow/plan';
import type { SessionState } from './types';

/** What the workflow file says now, compared with the definition stored in the session. */
export interface DefinitionCheck {
  /** The session's workflow file, as stored (relative to the repository root). */
  file: string;
  /**
   * `unchanged`: the same text, or a text that compiles to the same definition (comments,
   * layout). `changed`: a different definition. `invalid`: the file changed and has errors now.
   * `missing`: the file is gone.
   */
  status: 'unchanged' | 'changed' | 'invalid' | 'missing';
  /** The file's text differs but compiles to the same definition (only comments or layout changed). */
  cosmetic?: boolean;
  /** Step ids the file has now and the stored definition has not. */
  added: string[];
  /** Step ids of the stored definition the file no longer has. */
  removed: string[];
  /** `changed` with the same step ids: resuming with the new definition (`--reload`) is possible. */
  reloadable: boolean;
  /** `invalid`: the file's errors, `file:line:col error code message`, at most 20. */
  errors?: string[];
}

export interface Inspected {
  readonly check: DefinitionCheck;
  /** The file compiled as it is now (`changed`, and `unchanged` when the file exists). */
  readonly current?: CompiledWorkflow;
  /** `invalid`: the error loading it raised (thrown again by `--reload`). */
  readonly error?: Error;
}

/** JSON with sorted keys: the stored definition went through JSON, so compare both that way. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const o = val as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    }
    return val;
  });
}

function sameDefinition(a: CompiledWorkflow, b: CompiledWorkflow): boolean {
  const strip = (w: CompiledWorkflow): unknown => ({ name: w.name, definition: w.definition, steps: w.steps });
  return canonical(JSON.parse(JSON.stringify(strip(a)))) === canonical(JSON.parse(JSON.stringify(strip(b))));
}

/**
 * Compares the session's workflow file now with the definition stored in the session: first the
 * hash of the text (cheap), then, when it differs, the compiled definitions.
 * `load` compiles a file or throws an error listing its problems (engine/sessions.ts loadWorkflowFile).
 */
export function inspectDefinition(repoRoot: string, state: SessionState, load: (file: string) => CompiledWorkflow): Inspected {
  const stored = state.workflow;
  const file = path.resolve(repoRoot, stored.file);
  const base = { file: stored.file, added: [] as string[], removed: [] as string[], reloadable: false };
  if (!fs.existsSync(file)) return { check: { ...base, status: 'missing' } };
  let current: CompiledWorkflow;
  try {
    current = load(file);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const lines = error.message.split('\n');
    return { check: { ...base, status: 'invalid', errors: lines.length > 1 ? lines.slice(0, -1) : lines }, error };
  }
  if (current.hash === stored.hash) return { check: { ...base, status: 'unchanged' }, current };
  if (sameDefinition(current, stored.compiled)) return { check: { ...base, status: 'unchanged', cosmetic: true }, current };
  const oldIds = new Set(stored.compiled.steps.map((s) => s.id));
  const newIds = new Set(current.steps.map((s) => s.id));
  const added = [...newIds].filter((x) => !oldIds.has(x));
  const removed = [...oldIds].filter((x) => !newIds.has(x));
  return { check: { ...base, status: 'changed', added, removed, reloadable: !added.length && !removed.length }, current };
}

/** `adds f, g and removes e` (empty when the ids match). */
export function idChanges(check: Pick<DefinitionCheck, 'added' | 'removed'>): string {
  const a = check.added.length ? `adds ${check.added.join(', ')}` : '';
  const r = check.removed.length ? `removes ${check.removed.join(', ')}` : '';
  return [a, r].filter(Boolean).join(' and ');
}

/** Whether resuming needs the user to choose between the file as it is now and the stored definition. */
export function needsChoice(check: DefinitionCheck): boolean {
  return check.status === 'changed' || check.status === 'invalid';
}

/**
 * The choice, in one line, for the CLI's refusal and the host's error: what changed and the
 * commands that choose. `command` is how the session is resumed (`orchestrator resume ID`).
 */
export function describeChoice(check: DefinitionCheck, id: string): string {
  const resume = `orchestrator resume ${id}`;
  const head = `the workflow file ${check.file} changed since session ${id} started`;
  if (check.status === 'invalid') {
    return `${head} and has ${check.errors?.length ?? 1} error(s) now (orchestrator validate ${check.file}): fix them and resume with the file as it is (${resume} --reload), or resume with the definition stored in the session (${resume} --stored)`;
  }
  if (check.status === 'changed' && !check.reloadable) {
    return `${head} and its steps differ (it ${idChanges(check)}), so the session cannot take it: resume with the definition stored in the session (${resume} --stored), or start a new session (orchestrator run ${check.file})`;
  }
  return `${head}: resume with the file as it is now (${resume} --reload) or with the definition stored in the session (${resume} --stored)`;
}
