/** `orchestrator validate` and `orchestrator plan`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileWorkflow, formatPlan, planWorkflow } from '../workflow/plan';
import { LineIndex, type Problem } from '../workflow/problems';
import { fileExists, isGitRepo, validateWorkflow, type Validation } from '../workflow/validate';
import { findRepoRoot } from '../engine/sessions';
import { painter, UsageError, type Out } from './output';

export interface FileProblem {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Problem['severity'];
  code: Problem['code'];
  message: string;
}

function isWorkflowName(p: string): boolean {
  const n = p.split(path.sep).join('/');
  return /(^|\/)workflow\.ya?ml$/.test(n) || /\.workflow\.ya?ml$/.test(n) || /(^|\/)\.orchestrator\/workflows\/.+\.ya?ml$/.test(n);
}

/** Files named on the command line; a folder stands for the workflow files inside it. */
export function expandFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let st: fs.Stats;
    try {
      st = fs.statSync(a);
    } catch {
      throw new UsageError(`cannot read '${a}': no such file or folder`);
    }
    if (st.isDirectory()) {
      const found = walk(a).filter(isWorkflowName);
      if (!found.length) throw new UsageError(`no workflow files in '${a}' (workflow.yaml, *.workflow.yaml, or .yaml files under .orchestrator/workflows/)`);
      out.push(...found);
    } else out.push(a);
  }
  return out;
}

function walk(dir: string): string[] {
  const res: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === '.git' || e.name === 'sessions') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) res.push(...walk(p));
    else if (e.isFile()) res.push(p);
  }
  return res.sort();
}

export function readWorkflow(file: string): Validation {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read '${file}': ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`);
  }
  const v = validateWorkflow(text, { file: path.resolve(file), repoRoot: findRepoRoot(path.dirname(path.resolve(file))), fileExists, isGitRepo });
  for (const e of v.internalErrors) process.stderr.write(`orchestrator: internal error in the '${e.check}' check (please report it): ${e.error instanceof Error ? e.error.message : String(e.error)}\n`);
  return v;
}

export function toFileProblems(file: string, v: Validation): FileProblem[] {
  const index = new LineIndex(v.text);
  return v.problems.map((p) => {
    const s = index.position(p.span.start);
    const e = index.position(p.span.end);
    return { file, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1, severity: p.severity, code: p.code, message: p.message };
  });
}

export function validateCommand(files: string[], opts: { json?: boolean }, out: Out): number {
  const all: FileProblem[] = [];
  const expanded = expandFiles(files);
  for (const f of expanded) all.push(...toFileProblems(f, readWorkflow(f)));
  const errors = all.filter((p) => p.severity === 'error').length;
  const warnings = all.length - errors;
  if (opts.json) {
    out.stdout.write(JSON.stringify({ files: expanded, errors, warnings, problems: all }, null, 2) + '\n');
  } else {
    const paint = painter(out.stdout);
    for (const p of all) {
      const sev = p.severity === 'error' ? paint('red', 'error') : paint('yellow', 'warning');
      out.stdout.write(`${p.file}:${p.line}:${p.column} ${sev} ${paint('dim', p.code)} ${p.message}\n`);
    }
    const summary = `${expanded.length} file${expanded.length === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    (all.length ? out.stderr : out.stdout).write((errors ? paint('red', summary) : paint('green', summary)) + '\n');
  }
  return errors ? 2 : 0;
}

export function planCommand(file: string, opts: { json?: boolean }, out: Out): number {
  const v = readWorkflow(file);
  const problems = toFileProblems(file, v);
  if (problems.some((p) => p.severity === 'error')) {
    if (opts.json) out.stdout.write(JSON.stringify({ ok: false, problems }, null, 2) + '\n');
    else {
      for (const p of problems) out.stderr.write(`${p.file}:${p.line}:${p.column} ${p.severity} ${p.code} ${p.message}\n`);
      out.stderr.write(`cannot plan '${file}': fix the errors above (orchestrator validate ${file})\n`);
    }
    return 2;
  }
  const plan = planWorkflow(compileWorkflow(v));
  if (opts.json) out.stdout.write(JSON.stringify({ ok: true, ...plan }, null, 2) + '\n');
  else out.stdout.write(formatPlan(plan) + '\n');
  return 0;
}
