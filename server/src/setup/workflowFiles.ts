/**
 * A repository's workflow files, and the secrets they use. Files are found by the names the
 * editor and `validate FOLDER` use (`workflow.yaml`, `*.workflow.yaml`, any `.yaml` under
 * `.orchestrator/workflows/`), through git when the repository is one (tracked and untracked files
 * git does not ignore, so node_modules and build output are not walked), else by walking the
 * folder. Sessions' and worktrees' copies are never counted.
 *
 * `secrets.X` references come from the workflow parser (validateWorkflow's YAML tree) and the
 * expression parser: every `${{ }}` in any string value, and every `if:` condition (written with
 * or without `${{ }}`). `secrets[expr]` or `secrets` as a whole cannot be told statically: those
 * are reported as dynamic.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { git } from '../engine/workspace/git';
import { collectReferences, findExpressions, parseExpression } from '../workflow/expressions';
import { LineIndex } from '../workflow/problems';
import { validateWorkflow } from '../workflow/validate';
import type { YNode, YScalar } from '../workflow/yamlTree';

const WORKFLOW_NAME = /(^|\/)workflow\.ya?ml$|\.workflow\.ya?ml$|(^|\/)\.orchestrator\/workflows\/.+\.ya?ml$/;
/** Copies of workflows the orchestrator itself keeps: never the repository's workflows. */
const OWN_COPIES = /(^|\/)\.orchestrator\/(sessions|worktrees)\//;
const SKIP_DIRS = new Set(['node_modules', '.git']);
/** A folder tree that is not a git repository is walked this deep at most. */
const MAX_DEPTH = 12;

export function isWorkflowPath(rel: string): boolean {
  return WORKFLOW_NAME.test(rel) && !OWN_COPIES.test(rel);
}

function walk(root: string, rel: string, depth: number, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !OWN_COPIES.test(`${r}/`) && depth < MAX_DEPTH) walk(root, r, depth + 1, out);
    } else if (e.isFile() && isWorkflowPath(r)) out.push(r);
  }
}

/** The repository's workflow files, relative to `repoRoot` (with `/`), sorted. */
export async function findRepoWorkflows(repoRoot: string): Promise<string[]> {
  let files: string[] | undefined;
  try {
    const r = await git(repoRoot, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
    files = r.stdout.split('\0').filter((f) => f && isWorkflowPath(f) && fs.existsSync(path.join(repoRoot, f)));
  } catch {
    // not a git repository, or no git: walk
  }
  if (!files) {
    files = [];
    walk(repoRoot, '', 0, files);
  }
  return [...new Set(files)].sort();
}

export interface SecretRef {
  /** undefined: `secrets[...]` or `secrets` as a whole (which secret cannot be told). */
  readonly name?: string;
  /** 1-based. */
  readonly line: number;
}

/** The text of a scalar to scan, and where it starts in the document (as exprChecks.ts does). */
function sourceOf(text: string, node: YScalar): { text: string; base: number } {
  const raw = text.slice(node.start, node.end);
  if (node.style === 'plain' || node.style === 'literal' || node.style === 'folded') return { text: raw, base: node.start };
  const inner = raw.slice(1, -1);
  return inner === node.value ? { text: inner, base: node.start + 1 } : { text: String(node.value), base: node.start };
}

/** Every `secrets.X` a workflow's text reads. A text that does not parse as YAML gives none. */
export function secretReferences(text: string): SecretRef[] {
  const v = validateWorkflow(text);
  const index = new LineIndex(text);
  const out: SecretRef[] = [];
  const scan = (expr: string, base: number): void => {
    const parsed = parseExpression(expr, 0);
    if (!parsed.ast) return;
    for (const ref of collectReferences(parsed.ast)) {
      if (ref.path[0] !== 'secrets') continue;
      const line = index.position(base + ref.start).line + 1;
      out.push(ref.path.length >= 2 ? { name: ref.path[1], line } : { line });
    }
  };
  const visit = (node: YNode | null | undefined, key?: string): void => {
    if (!node) return;
    if (node.kind === 'scalar') {
      if (typeof node.value !== 'string') return;
      const src = sourceOf(text, node);
      if (src.text.includes('${{')) for (const e of findExpressions(src.text, src.base).expressions) scan(e.inner, e.innerStart);
      else if (key === 'if') scan(src.text, src.base);
      return;
    }
    if (node.kind === 'seq') for (const it of node.items) visit(it);
    else for (const p of node.pairs) visit(p.value, typeof p.key.value === 'string' ? p.key.value : undefined);
  };
  visit(v.root);
  return out;
}

export interface SecretUse {
  /** The workflow file, relative to the repository root. */
  readonly file: string;
  readonly line: number;
}

export interface SecretUsage {
  /** Secret name → where workflows read it, in file then line order. */
  readonly uses: Map<string, SecretUse[]>;
  /** Reads of `secrets[...]` whose name cannot be told. */
  readonly dynamic: SecretUse[];
  readonly workflows: string[];
}

/** The secrets every workflow of the repository reads. */
export async function secretUsage(repoRoot: string): Promise<SecretUsage> {
  const workflows = await findRepoWorkflows(repoRoot);
  const uses = new Map<string, SecretUse[]>();
  const dynamic: SecretUse[] = [];
  for (const file of workflows) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
    } catch {
      continue; // unreadable: validation reports it
    }
    for (const r of secretReferences(text)) {
      if (r.name === undefined) dynamic.push({ file, line: r.line });
      else {
        const list = uses.get(r.name) ?? [];
        list.push({ file, line: r.line });
        uses.set(r.name, list);
      }
    }
  }
  return { uses, dynamic, workflows };
}
