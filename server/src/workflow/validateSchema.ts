/**
 * Structural validation: the tree's value against the zod schema, each issue mapped back to the
 * smallest node that holds it (the key for unknown keys, the value for wrong values).
 */
import type { z } from 'zod';
import { DURATION_PATTERN } from './durations';
import { problem, type Problem, type Span } from './problems';
import { Workflow } from './schema';
import { keysAt } from './schemaNav';
import { didYouMean } from './suggest';
import { describe, nodeAt, pairOf, toValue, type PathSegment, type YNode } from './yamlTree';

type Issue = z.core.$ZodIssue;
const DURATION_REGEX = new RegExp(DURATION_PATTERN);

export function validateSchema(root: YNode | null): Problem[] {
  if (!root) return [problem('schema', { start: 0, end: 0 }, 'the workflow is empty: add `name:` and `steps:` (see workflow-format.md)')];
  const result = Workflow.safeParse(toValue(root));
  if (result.success) return [];
  const out: Problem[] = [];
  for (const issue of result.error.issues) mapIssue(root, issue, [], out);
  return out;
}

function where(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'at the top level';
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return `in ${s}`;
}

function mapIssue(root: YNode, issue: Issue, prefix: PathSegment[], out: Problem[]): void {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  const node = nodeAt(root, path);
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const map = node && node.kind === 'map' ? node : undefined;
      const allowed = keysAt(path);
      for (const key of issue.keys) {
        const pair = pairOf(map, key);
        const span = pair ? pair.key : anchor(root, path);
        const hint = didYouMean(key, allowed) || (allowed.length ? ` Allowed keys: ${allowed.join(', ')}.` : '');
        out.push(problem('schema', span, `unknown key '${key}' ${where(path)}.${hint}`));
      }
      return;
    }
    case 'invalid_union': {
      // Pick the branch that matched the value's type; otherwise say what was expected.
      const branches = issue.errors.filter((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (branches.length === 1) {
        for (const e of branches[0]) mapIssue(root, e, path, out);
        return;
      }
      const expected = [...new Set(issue.errors.flatMap((errs) => errs.filter((e) => e.code === 'invalid_type' && e.path.length === 0).map((e) => (e as { expected: string }).expected)))];
      out.push(problem('schema', node ? node : anchor(root, path), `${label(last)} must be ${expected.map(article).join(' or ')}, not ${describe(node)}`));
      return;
    }
    case 'invalid_type': {
      if (node === undefined || (node === null && !hasKey(root, path))) {
        out.push(problem('schema', anchor(root, path), `missing required key '${String(last)}' ${where(path.slice(0, -1))}: add it`));
        return;
      }
      out.push(problem('schema', node ?? keySpan(root, path), `${label(last)} must be ${article(issue.expected)}, not ${describe(node)}`));
      return;
    }
    case 'invalid_format': {
      const span = node ?? keySpan(root, path);
      const pattern = (issue as { pattern?: string }).pattern ?? '';
      if (pattern === DURATION_REGEX.toString()) {
        out.push(problem('bad-duration', span, `'${node && node.kind === 'scalar' ? String(node.value) : ''}' is not a duration: write e.g. 500ms, 30s, 10m, 1h30m, or a number of seconds`));
      } else if (typeof last === 'string') {
        const what = node && node.kind === 'scalar' ? `'${String(node.value)}'` : 'this name';
        out.push(problem('schema', span, `${what} is not a valid ${last === 'stage' ? 'stage name' : last === 'id' ? 'step id' : 'name'}: use letters, digits, '_' and '-', starting with a letter or '_'`));
      } else {
        out.push(problem('schema', span, issue.message));
      }
      return;
    }
    case 'invalid_key': {
      // A record key that fails its pattern (inputs/agents names).
      const map = node && node.kind === 'map' ? node : undefined;
      const pair = pairOf(map, String(last));
      const parent = nodeAt(root, path.slice(0, -1));
      const keyPair = pair ?? pairOf(parent, String(last));
      out.push(problem('schema', keyPair ? keyPair.key : anchor(root, path), `'${String(last)}' is not a valid name: use letters, digits, '_' and '-', starting with a letter or '_'`));
      return;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const got = node && node.kind === 'scalar' ? String(node.value) : '';
      const hint = got ? didYouMean(got, issue.values.map(String)) : '';
      const span = node ?? keySpan(root, path);
      if (last === 'version') out.push(problem('schema', span, `unsupported version ${got || describe(node)}: this orchestrator reads version 1 (or leave 'version' out)`));
      else out.push(problem('schema', span, `${label(last)} must be ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, not ${describe(node)}.${hint}`));
      return;
    }
    case 'too_small':
    case 'too_big': {
      const span = node ?? keySpan(root, path);
      const limit = issue.code === 'too_small' ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
      const origin = (issue as { origin?: string }).origin;
      const rel = issue.code === 'too_small' ? 'at least' : 'at most';
      const msg = origin === 'array' ? `${label(last)} must have ${rel} ${String(limit)} item${Number(limit) === 1 ? '' : 's'}` : `${label(last)} must be ${rel} ${String(limit)}, not ${describe(node)}`;
      out.push(problem('schema', span, msg));
      return;
    }
    default:
      out.push(problem('schema', node ?? anchor(root, path), `${issue.message} ${where(path)}`));
  }
}

function label(seg: PathSegment | undefined): string {
  if (seg === undefined) return 'the workflow';
  return typeof seg === 'number' ? `item ${seg + 1}` : `'${seg}'`;
}

function article(t: string): string {
  const name = t === 'object' ? 'mapping' : t === 'array' ? 'list' : t === 'string' ? 'text' : t;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function hasKey(root: YNode, path: readonly PathSegment[]): boolean {
  const parent = nodeAt(root, path.slice(0, -1));
  return !!pairOf(parent, String(path[path.length - 1]));
}

/** The key of the pair holding the value at path, or an anchor when there is none. */
function keySpan(root: YNode, path: readonly PathSegment[]): Span {
  const parent = nodeAt(root, path.slice(0, -1));
  const pair = pairOf(parent, String(path[path.length - 1]));
  return pair ? pair.key : anchor(root, path);
}

/**
 * Where to report something missing at path: the key that holds the parent object, else the
 * parent's first key, else the parent itself.
 */
export function anchor(root: YNode, path: readonly PathSegment[]): Span {
  for (let n = path.length - 1; n >= 0; n--) {
    const parentPath = path.slice(0, n);
    const parent = nodeAt(root, parentPath);
    if (!parent) continue;
    if (parent.kind === 'map') {
      const holder = n > 0 ? nodeAt(root, parentPath.slice(0, -1)) : undefined;
      const holderPair = holder && holder.kind === 'map' ? pairOf(holder, String(parentPath[parentPath.length - 1])) : undefined;
      if (holderPair) return holderPair.key;
      if (parent.pairs.length) return parent.pairs[0].key;
    }
    return { start: parent.start, end: Math.min(parent.end, parent.start + 1) };
  }
  return { start: 0, end: 0 };
}
