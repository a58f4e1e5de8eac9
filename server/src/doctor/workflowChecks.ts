/**
 * The repository's workflows: found where the editor and `validate FOLDER` look (every `.yaml` /
 * `.yml` under `.orchestrator/workflows/`, `workflow.yaml` and `*.workflow.yaml` anywhere but in
 * dependencies, hidden folders and the orchestrator's own state), each validated as `orchestrator
 * validate` does, and the agent providers they name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileExists, isGitRepo, validateWorkflow, type Validation } from '../workflow/validate';
import { LineIndex } from '../workflow/problems';
import { toValue } from '../workflow/yamlTree';
import { plural, result, type CheckResult } from './types';

/** A hang guard for huge trees: the walk stops after this many folder entries. */
const MAX_ENTRIES = 200_000;
/** The orchestrator's own state under .orchestrator/: never workflows of the repository (worktrees are whole checkouts). */
const STATE = new Set(['sessions', 'worktrees', 'secrets', 'recordings']);

function isWorkflowName(rel: string): boolean {
  const n = rel.split(path.sep).join('/');
  return /(^|\/)workflow\.ya?ml$/.test(n) || /\.workflow\.ya?ml$/.test(n) || /^\.orchestrator\/workflows\/.+\.ya?ml$/.test(n);
}

/** Workflow files of the repository, sorted, as paths relative to its root. */
export function findWorkflowFiles(repoRoot: string): string[] {
  const out: string[] = [];
  let seen = 0;
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(repoRoot, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return;
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || (rel === '.orchestrator' && STATE.has(e.name)) || (e.name.startsWith('.') && e.name !== '.orchestrator')) continue;
        walk(r);
      } else if (e.isFile() && isWorkflowName(r)) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

export interface ValidatedWorkflow {
  /** Relative to the repository root. */
  readonly file: string;
  readonly validation?: Validation;
  /** Why it cannot be read. */
  readonly error?: string;
}

export function validateWorkflows(repoRoot: string): ValidatedWorkflow[] {
  return findWorkflowFiles(repoRoot).map((file) => {
    const abs = path.join(repoRoot, file);
    try {
      const text = fs.readFileSync(abs, 'utf8');
      return { file, validation: validateWorkflow(text, { file: abs, repoRoot, fileExists, isGitRepo }) };
    } catch (e) {
      return { file, error: (e as Error).message };
    }
  });
}

/** The providers the workflow's agents name (`agents: { x: { provider: P } }`), read from its tree even when it has errors. */
export function providersOf(v: Validation): string[] {
  const root = v.root ? toValue(v.root) : undefined;
  const agents = root && typeof root === 'object' ? (root as { agents?: unknown }).agents : undefined;
  if (!agents || typeof agents !== 'object' || Array.isArray(agents)) return [];
  const out: string[] = [];
  for (const a of Object.values(agents as Record<string, unknown>)) {
    const p = a && typeof a === 'object' ? (a as { provider?: unknown }).provider : undefined;
    if (typeof p === 'string' && p.trim()) out.push(p.trim());
  }
  return [...new Set(out)];
}

export function workflowChecks(workflows: readonly ValidatedWorkflow[]): CheckResult[] {
  if (!workflows.length) return [result('workflows', 'Workflows', 'pass', 'no workflow files yet (orchestrator init makes a starter in .orchestrator/workflows/)')];
  return workflows.map((w) => {
    const id = `workflow:${w.file}`;
    const title = `Workflow ${w.file}`;
    if (!w.validation) return result(id, title, 'fail', `cannot be read: ${w.error ?? 'unknown error'}`, { description: 'make the file readable, or remove it' });
    const v = w.validation;
    const errors = v.problems.filter((p) => p.severity === 'error');
    const warnings = v.problems.length - errors.length;
    if (!errors.length) return result(id, title, 'pass', warnings ? `valid (${plural(warnings, 'warning')}: orchestrator validate ${w.file})` : 'valid');
    const index = new LineIndex(v.text);
    const first = errors[0];
    const at = index.position(first.span.start);
    const more = errors.length > 1 ? ` (and ${plural(errors.length - 1, 'more error')})` : '';
    return result(id, title, 'fail', `${w.file}:${at.line + 1}:${at.character + 1} ${first.code} ${first.message}${more}`, { description: `fix the errors: orchestrator validate ${w.file} lists them all` });
  });
}
