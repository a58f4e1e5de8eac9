/**
 * Workflow files as the engine takes them: the repository they belong to, validated and compiled,
 * their inputs checked and typed, and the step instances a session runs (matrix expanded).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileWorkflow, matrixInstances, type CompiledWorkflow } from '../workflow/plan';
import { LineIndex } from '../workflow/problems';
import { fileExists, isGitRepo, validateWorkflow } from '../workflow/validate';
import { InputError } from './errors';

/**
 * The repository root: the nearest folder upward with `.git` or `.orchestrator`; in a folder tree
 * that has neither, the nearest with a `workflow.yaml` (or `workflow.yml`); else `start` itself.
 * A `.git`/`.orchestrator` anywhere upward wins over a nearer `workflow.yaml`, so a workflow kept
 * in a subfolder of a repository does not make that subfolder a repository of its own. The home
 * folder's `.orchestrator` is the user's configuration (~/.orchestrator/config.yaml, secrets), not
 * a repository marker.
 */
export function findRepoRoot(start: string, homeDir = os.homedir()): string {
  const from = path.resolve(start);
  const home = path.resolve(homeDir);
  let workflowDir: string | undefined;
  for (let dir = from; ; ) {
    if ((dir !== home && fs.existsSync(path.join(dir, '.orchestrator'))) || fs.existsSync(path.join(dir, '.git'))) return dir;
    if (workflowDir === undefined && (isFile(path.join(dir, 'workflow.yaml')) || isFile(path.join(dir, 'workflow.yml')))) workflowDir = dir;
    const up = path.dirname(dir);
    if (up === dir) return workflowDir ?? from;
    dir = up;
  }
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Validates and compiles a workflow file; any error is an InputError listing the problems. */
export function loadWorkflowFile(file: string): CompiledWorkflow {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`cannot read workflow '${file}': no such file`);
  }
  const v = validateWorkflow(text, { file: path.resolve(file), repoRoot: findRepoRoot(path.dirname(path.resolve(file))), fileExists, isGitRepo });
  const errors = v.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    const idx = new LineIndex(text);
    const lines = errors.slice(0, 20).map((p) => {
      const pos = idx.position(p.span.start);
      return `${file}:${pos.line + 1}:${pos.character + 1} error ${p.code} ${p.message}`;
    });
    throw new InputError(`${lines.join('\n')}\nthe workflow has ${errors.length} error(s): fix them (orchestrator validate ${file})`);
  }
  return compileWorkflow(v);
}

/** Inputs given as text (`--input k=v`) checked and typed against the workflow's declarations. */
export function resolveInputs(w: CompiledWorkflow, given: Record<string, string>): Record<string, string | number | boolean> {
  const decl = w.definition.inputs ?? {};
  const out: Record<string, string | number | boolean> = {};
  for (const k of Object.keys(given)) {
    if (!(k in decl)) throw new InputError(`unknown input '${k}': this workflow declares ${Object.keys(decl).length ? Object.keys(decl).join(', ') : 'no inputs'}`);
  }
  for (const [name, d] of Object.entries(decl)) {
    const raw = given[name];
    if (raw === undefined) {
      if (d.default !== undefined && d.default !== null) out[name] = d.default;
      else if (d.required) throw new InputError(`input '${name}' is required${d.description ? ` (${d.description})` : ''}: pass --input ${name}=...`);
      continue;
    }
    let value: string | number | boolean = raw;
    if (d.type === 'number') {
      value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new InputError(`input '${name}' must be a number, not '${raw}'`);
    } else if (d.type === 'boolean') {
      if (!/^(true|false)$/i.test(raw)) throw new InputError(`input '${name}' must be true or false, not '${raw}'`);
      value = raw.toLowerCase() === 'true';
    }
    if (d.enum && !d.enum.some((e) => String(e) === String(value))) throw new InputError(`input '${name}' must be one of ${d.enum.map(String).join(', ')}, not '${raw}'`);
    out[name] = value;
  }
  return out;
}

export function instancesOf(w: CompiledWorkflow): { id: string; stepId: string }[] {
  return w.steps.flatMap((s) => {
    const inst = matrixInstances(s);
    return inst.length ? inst.map((id) => ({ id, stepId: s.id })) : [{ id: s.id, stepId: s.id }];
  });
}
