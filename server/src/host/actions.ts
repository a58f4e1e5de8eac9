/**
 * Completion and hover for built-in actions, from the table in workflow/actions.ts: the action
 * names after `uses:`, the `with:` arguments of the step's action, and their descriptions.
 */
import { CompletionItemKind, MarkupKind, type CompletionItem, type Hover, type Position, type Range } from 'vscode-languageserver';
import { BUILT_IN_ACTIONS, describeAction, describeArg, findAction, findArg, type ActionDef } from '../workflow/actions';
import type { LineIndex } from '../workflow/problems';
import type { Validation } from '../workflow/validate';
import { get, type YNode } from '../workflow/yamlTree';
import { keyContext } from './context';

/** When the cursor is in the value of a `uses:` key (block or flow map): the partial name. */
function inUsesValue(text: string, offset: number): { partial: string; partialStart: number } | undefined {
  const lineStart = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
  const m = /(?:^\s*(?:-\s+)?|[{,]\s*)uses\s*:\s*["']?([\w./-]*)$/.exec(text.slice(lineStart, offset));
  return m ? { partial: m[1], partialStart: offset - m[1].length } : undefined;
}

/**
 * The map of the step being edited: the last one starting before the offset (a step's node ends
 * at its last value, so an empty line being typed under its `with:` lies past its end).
 */
function stepMapAt(v: Validation, offset: number): YNode | undefined {
  let best: (typeof v.graph.steps)[number] | undefined;
  for (const s of v.graph.steps) if (s.node.start <= offset && (!best || s.node.start >= best.node.start)) best = s;
  return best?.node;
}

/** The built-in action of the step that holds the offset. */
function actionAt(v: Validation, offset: number): ActionDef | undefined {
  const uses = get(stepMapAt(v, offset), 'uses');
  return uses && uses.kind === 'scalar' && typeof uses.value === 'string' ? findAction(uses.value) : undefined;
}

/** Completion items for actions, or undefined when the cursor is not where an action or its argument goes. */
export function actionCompletion(v: Validation, index: LineIndex, pos: Position): CompletionItem[] | undefined {
  const offset = index.offset(pos);
  const range = (start: number): Range => ({ start: index.position(start), end: pos });
  const uses = inUsesValue(v.text, offset);
  if (uses) {
    return BUILT_IN_ACTIONS.map((a) => ({
      label: a.name,
      kind: CompletionItemKind.Module,
      detail: 'built-in action',
      documentation: { kind: MarkupKind.Markdown, value: describeAction(a) },
      textEdit: { range: range(uses.partialStart), newText: a.name },
    }));
  }
  const key = keyContext(v.text, offset);
  if (!key || key.path[key.path.length - 1] !== 'with') return undefined;
  const action = actionAt(v, offset);
  if (!action) return undefined;
  const given = presentArgs(v, offset, action);
  return action.with
    .filter((w) => !given.has(w.name) || w.name === key.partial)
    .map((w) => ({
      label: w.name,
      kind: CompletionItemKind.Property,
      detail: `${w.type}${w.required ? ', required' : ''}`,
      documentation: { kind: MarkupKind.Markdown, value: describeArg(action, w) },
      textEdit: { range: range(key.partialStart), newText: `${w.name}: ` },
    }));
}

/** The argument names already under the step's `with:` (aliases count as their argument). */
function presentArgs(v: Validation, offset: number, action: ActionDef): Set<string> {
  const w = get(stepMapAt(v, offset), 'with');
  const out = new Set<string>();
  if (w && w.kind === 'map') for (const p of w.pairs) out.add(findArg(action, String(p.key.value))?.name ?? String(p.key.value));
  return out;
}

/** Hover on a `uses:` value (the action) or on a key under `with:` (the argument). */
export function actionHover(v: Validation, index: LineIndex, pos: Position): Hover | undefined {
  const offset = index.offset(pos);
  for (const s of v.graph.steps) {
    if (offset < s.node.start || offset > s.node.end) continue;
    const uses = get(s.node, 'uses');
    if (!uses || uses.kind !== 'scalar' || typeof uses.value !== 'string') continue;
    const action = findAction(uses.value);
    if (!action) continue;
    const span = (a: { start: number; end: number }): Range => ({ start: index.position(a.start), end: index.position(a.end) });
    if (uses.start <= offset && offset <= uses.end) return { contents: { kind: MarkupKind.Markdown, value: describeAction(action) }, range: span(uses) };
    const w = get(s.node, 'with');
    if (!w || w.kind !== 'map') continue;
    for (const p of w.pairs) {
      if (offset < p.key.start || offset > p.key.end) continue;
      const arg = findArg(action, String(p.key.value));
      if (arg) return { contents: { kind: MarkupKind.Markdown, value: describeArg(action, arg) }, range: span(p.key) };
    }
  }
  return undefined;
}
