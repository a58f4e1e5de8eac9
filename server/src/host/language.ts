/**
 * Editor features for workflow files as pure functions: (text, validation, position) → LSP
 * types. The server only routes requests here.
 */
import {
  CompletionItemKind,
  DiagnosticSeverity,
  DiagnosticTag,
  MarkupKind,
  SymbolKind,
  type CodeLens,
  type CompletionItem,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type Position,
  type Range,
} from 'vscode-languageserver';
import { RUN_WORKFLOW_COMMAND, SHOW_PLAN_COMMAND } from '../protocol';
import { FUNCTIONS, KNOWN_CONTEXTS } from '../workflow/expressions';
import { LineIndex, type Problem, type Span } from '../workflow/problems';
import { descriptionAt, isRecordAt, keysAt, schemaAt } from '../workflow/schemaNav';
import type { Validation } from '../workflow/validate';
import { get, pairOf, type PathSegment, type YNode } from '../workflow/yamlTree';
import { actionCompletion, actionHover } from './actions';
import { expressionContext, inAgentValue, inNeeds, keyAt, keyContext } from './context';

export function toRange(index: LineIndex, span: Span): Range {
  return { start: index.position(span.start), end: index.position(span.end) };
}

export function toDiagnostic(index: LineIndex, p: Problem): Diagnostic {
  return {
    range: toRange(index, p.span),
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: p.code,
    source: 'orchestrator',
    message: p.message,
    // A key the step ignores: the editor greys it out, as it does unused code.
    ...(p.code === 'ignored-key' ? { tags: [DiagnosticTag.Unnecessary] } : {}),
  };
}

/** Text path (with '#' for items and any name for record entries) → schema path. */
function schemaPath(path: readonly string[]): PathSegment[] {
  return path.map((seg) => (seg === '#' ? 0 : seg));
}

export function completion(v: Validation, index: LineIndex, pos: Position): CompletionItem[] {
  const offset = index.offset(pos);
  const text = v.text;
  const range = (start: number): Range => ({ start: index.position(start), end: pos });

  const expr = expressionContext(text, offset);
  if (expr) return expressionItems(v, expr.chain, offset).map((it) => ({ ...it, textEdit: { range: range(expr.partialStart), newText: it.label } }));

  const needs = inNeeds(text, offset);
  if (needs) {
    const current = stepAtOffset(v, offset)?.id;
    return v.graph.steps
      .filter((s) => s.id && s.id !== current)
      .map((s) => ({ label: s.id!, kind: CompletionItemKind.Reference, detail: stepDetail(s.node), textEdit: { range: range(needs.partialStart), newText: s.id! } }));
  }

  const action = actionCompletion(v, index, pos);
  if (action) return action;

  const agent = inAgentValue(text, offset);
  if (agent) {
    const agents = get(v.root, 'agents');
    if (!agents || agents.kind !== 'map') return [];
    return agents.pairs.map((p) => ({
      label: String(p.key.value),
      kind: CompletionItemKind.Class,
      detail: describeAgent(p.value),
      textEdit: { range: range(agent.partialStart), newText: String(p.key.value) },
    }));
  }

  const key = keyContext(text, offset);
  if (key) {
    const sp = schemaPath(key.path);
    if (isRecordAt(sp)) return [];
    const keys = keysAt(sp);
    const container = mapAtPath(v, key.path, offset);
    const present = new Set(container && container.kind === 'map' ? container.pairs.map((p) => String(p.key.value)) : []);
    return keys
      .filter((k) => !present.has(k) || k === key.partial)
      .map((k) => {
        const doc = descriptionAt([...sp, k]);
        return {
          label: k,
          kind: CompletionItemKind.Property,
          ...(doc ? { documentation: { kind: MarkupKind.Markdown, value: doc } } : {}),
          textEdit: { range: range(key.partialStart), newText: `${k}: ` },
        };
      });
  }
  return [];
}

function expressionItems(v: Validation, chain: string[], offset: number): CompletionItem[] {
  const item = (label: string, kind: CompletionItemKind, detail?: string): CompletionItem => ({ label, kind, ...(detail ? { detail } : {}) });
  if (chain.length === 0) {
    return [
      ...KNOWN_CONTEXTS.map((c) => item(c, CompletionItemKind.Module, 'context')),
      ...FUNCTIONS.map((f) => item(f.name, CompletionItemKind.Function, 'function')),
      ...['true', 'false', 'null'].map((k) => item(k, CompletionItemKind.Keyword)),
    ];
  }
  const [ctx, name, prop] = chain;
  if (chain.length === 1) {
    switch (ctx) {
      case 'inputs': {
        const inputs = get(v.root, 'inputs');
        if (!inputs || inputs.kind !== 'map') return [];
        return inputs.pairs.map((p) => {
          const d = get(p.value, 'description');
          return item(String(p.key.value), CompletionItemKind.Variable, d && d.kind === 'scalar' && typeof d.value === 'string' ? d.value : 'input');
        });
      }
      case 'steps': {
        const current = stepAtOffset(v, offset);
        return v.graph.steps.filter((s) => s.id && s !== current).map((s) => item(s.id!, CompletionItemKind.Reference, stepDetail(s.node)));
      }
      case 'matrix': {
        const m = get(stepAtOffset(v, offset)?.node, 'matrix');
        return m && m.kind === 'map' ? m.pairs.map((p) => item(String(p.key.value), CompletionItemKind.Variable)) : [];
      }
      case 'env': {
        const names = new Set<string>();
        for (const n of [get(v.root, 'env'), get(stepAtOffset(v, offset)?.node, 'env')]) if (n && n.kind === 'map') for (const p of n.pairs) names.add(String(p.key.value));
        return [...names].map((n) => item(n, CompletionItemKind.Variable));
      }
      case 'session':
        return [item('id', CompletionItemKind.Field, 'the session id')];
      case 'workflow':
        return [item('name', CompletionItemKind.Field, 'the workflow name')];
      default:
        return [];
    }
  }
  if (ctx === 'steps' && chain.length === 2) {
    return [item('outputs', CompletionItemKind.Field, 'outputs of the step'), item('status', CompletionItemKind.Field, 'succeeded, failed, skipped, ...'), item('findings', CompletionItemKind.Field, 'number of findings')];
  }
  if (ctx === 'steps' && chain.length === 3 && prop === 'outputs') {
    const step = v.graph.steps.find((s) => s.id === name);
    const outs = get(step?.node, 'outputs');
    const names = outs && outs.kind === 'map' ? outs.pairs.map((p) => String(p.key.value)) : [];
    if (get(step?.node, 'agent')) names.push('text');
    return names.map((n) => item(n, CompletionItemKind.Variable));
  }
  return [];
}

function stepDetail(node: YNode): string {
  const kind = ['run', 'agent', 'uses', 'approval'].find((k) => pairOf(node, k));
  const name = get(node, 'name');
  return [kind, name && name.kind === 'scalar' ? String(name.value) : undefined].filter(Boolean).join(': ');
}

function describeAgent(n: YNode | null): string {
  const provider = get(n, 'provider');
  const model = get(n, 'model');
  return [provider && provider.kind === 'scalar' ? String(provider.value) : '', model && model.kind === 'scalar' ? String(model.value) : ''].filter(Boolean).join(' · ');
}

function stepAtOffset(v: Validation, offset: number) {
  let best: (typeof v.graph.steps)[number] | undefined;
  for (const s of v.graph.steps) if (s.node.start <= offset && offset <= s.node.end && (!best || s.node.start >= best.node.start)) best = s;
  return best;
}

/** The map that the text path designates, found in the tree near the offset (best effort). */
function mapAtPath(v: Validation, path: readonly string[], offset: number): YNode | undefined {
  let cur: YNode | null | undefined = v.root;
  for (const seg of path) {
    if (!cur) return undefined;
    if (seg === '#') {
      if (cur.kind !== 'seq') return undefined;
      let found: YNode | undefined;
      for (const it of cur.items) if (it && it.start <= offset) found = it;
      cur = found;
    } else cur = get(cur, seg);
  }
  return cur ?? undefined;
}

export function hover(v: Validation, index: LineIndex, pos: Position): Hover | null {
  const action = actionHover(v, index, pos);
  if (action) return action;
  const offset = index.offset(pos);
  const k = keyAt(v.text, offset);
  if (k) {
    const sp = schemaPath(k.path);
    const parent = sp.slice(0, -1);
    if (isRecordAt(parent)) {
      const what = parent[parent.length - 1];
      const d = descriptionAt(sp);
      return d ? { contents: { kind: MarkupKind.Markdown, value: `**${k.path[k.path.length - 1]}** (${String(what)})\n\n${d}` }, range: toRange(index, k) } : null;
    }
    if (!schemaAt(sp)) return null;
    const doc = descriptionAt(sp);
    if (!doc) return null;
    return { contents: { kind: MarkupKind.Markdown, value: `**${k.path[k.path.length - 1]}**\n\n${doc}` }, range: toRange(index, k) };
  }
  // A step id inside needs: show that step.
  for (const s of v.graph.steps) {
    for (const n of s.needs) {
      if (!n.implicit && n.node.start <= offset && offset <= n.node.end) {
        const target = v.graph.steps.find((t) => t.id === n.id);
        if (!target) return null;
        return { contents: { kind: MarkupKind.Markdown, value: `**${n.id}** — ${stepDetail(target.node) || 'step'} (line ${index.position(target.node.start).line + 1})` }, range: toRange(index, n.node) };
      }
    }
  }
  return null;
}

export function documentSymbols(v: Validation, index: LineIndex): DocumentSymbol[] {
  const root = v.root;
  if (!root || root.kind !== 'map') return [];
  const sym = (name: string, kind: SymbolKind, span: Span, sel: Span, children?: DocumentSymbol[], detail?: string): DocumentSymbol => ({
    name: name || '(unnamed)',
    kind,
    range: toRange(index, span),
    selectionRange: toRange(index, sel),
    ...(detail ? { detail } : {}),
    ...(children ? { children } : {}),
  });
  const out: DocumentSymbol[] = [];
  for (const p of root.pairs) {
    const key = String(p.key.value);
    const children: DocumentSymbol[] = [];
    if ((key === 'inputs' || key === 'agents') && p.value && p.value.kind === 'map') {
      for (const e of p.value.pairs) children.push(sym(String(e.key.value), key === 'inputs' ? SymbolKind.Variable : SymbolKind.Class, e, e.key));
    } else if (key === 'steps') {
      for (const s of v.graph.steps) children.push(sym(s.id ?? '(no id)', SymbolKind.Function, s.node, s.idNode ?? s.node, undefined, stepDetail(s.node)));
    } else if (key === 'pipeline') {
      for (const st of v.graph.stages) {
        const items = st.parallel ? st.steps.map((s) => sym(s.id ?? '(no id)', SymbolKind.Function, s.node, s.idNode ?? s.node, undefined, stepDetail(s.node))) : undefined;
        children.push(sym(st.name ?? '(no stage name)', st.parallel ? SymbolKind.Namespace : SymbolKind.Function, st.node, st.nameNode ?? st.node, items, st.parallel ? 'parallel' : stepDetail(st.node)));
      }
    }
    const detail = p.value && p.value.kind === 'scalar' ? String(p.value.value) : undefined;
    out.push(sym(key, key === 'steps' || key === 'pipeline' ? SymbolKind.Array : SymbolKind.Property, p, p.key, children.length ? children : undefined, detail));
  }
  return out;
}

export function codeLenses(v: Validation, index: LineIndex, uri: string, trusted: boolean): CodeLens[] {
  const root = v.root;
  if (!root || root.kind !== 'map') return [];
  const at = pairOf(root, 'name')?.key ?? root.pairs[0]?.key;
  if (!at) return [];
  const range = toRange(index, { start: at.start, end: at.start });
  const lenses: CodeLens[] = [];
  if (trusted) lenses.push({ range, command: { title: '$(play) Run workflow', command: RUN_WORKFLOW_COMMAND, arguments: [uri] } });
  lenses.push({ range, command: { title: 'Show plan', command: SHOW_PLAN_COMMAND, arguments: [uri] } });
  return lenses;
}
