/**
 * The YAML text as a small tree of plain nodes with absolute offsets. Built from the `yaml`
 * package's Document; every later check works on this tree, so positions are exact and the
 * checks do not depend on the YAML library's classes.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { problem, type Problem, type Span } from './problems';

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';
export type ScalarValue = string | number | boolean | null;

export interface YScalar {
  readonly kind: 'scalar';
  readonly start: number;
  readonly end: number;
  readonly value: ScalarValue;
  readonly style: ScalarStyle;
}
export interface YPair {
  readonly key: YScalar;
  readonly value: YNode | null;
  /** From the key's start to the value's end (or the key's end when there is no value). */
  readonly start: number;
  readonly end: number;
}
export interface YMap {
  readonly kind: 'map';
  readonly start: number;
  readonly end: number;
  readonly pairs: readonly YPair[];
}
export interface YSeq {
  readonly kind: 'seq';
  readonly start: number;
  readonly end: number;
  readonly items: readonly (YNode | null)[];
}
export type YNode = YScalar | YMap | YSeq;

export interface ParsedYaml {
  readonly root: YNode | null;
  readonly problems: Problem[];
  /** Whether the text uses anchors or aliases (which chunked parsing cannot resolve across chunks). */
  readonly aliases?: boolean;
}

const STYLE: Record<string, ScalarStyle> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
};

const HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'YAML keeps one value per key: rename or remove one of them',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: 'a workflow file holds one YAML document: remove the extra "---" or split the file',
  BAD_INDENT: 'align this line with its siblings',
  MISSING_CHAR: 'add the missing character',
};

/** Parses YAML into the plain tree. Never throws. */
export function parseYaml(text: string, base = 0): ParsedYaml {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, keepSourceTokens: false });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const [s, eEnd] = errorSpan(e.code, e.message, text, e.pos[0], e.pos[1]);
    problems.push(problem('yaml-syntax', { start: base + s, end: base + eEnd }, syntaxMessage(e.code, e.message, text, s, eEnd)));
  }
  // Aliases are expanded; a budget stops documents that expand exponentially ("billion laughs").
  const state: ConvertState = { text, aliases: false, budget: Math.max(20_000, text.length), exceeded: false };
  const root = doc.contents ? convert(doc, doc.contents, base, 0, state) : null;
  if (state.exceeded) {
    problems.push(problem('yaml-syntax', { start: base, end: base + Math.min(text.length, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')) }, 'aliases expand to too many nodes: a workflow file should not need this many aliases; write the values out or use fewer aliases'));
  }
  return { root, problems, ...(state.aliases ? { aliases: true } : {}) };
}

const KEY_AT = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^:\n#]+?)(?=[ \t]*:)/;

/** Where a syntax error really is: the whole duplicate key; the opening quote of an unterminated string. */
function errorSpan(code: string, message: string, text: string, s: number, e: number): [number, number] {
  if (code === 'DUPLICATE_KEY') {
    let k = s;
    while (k < text.length && /[\s-]/.test(text[k])) k++;
    const m = KEY_AT.exec(text.slice(k, k + 1024));
    if (m) return [k, k + m[1].length];
  }
  const quote = /Missing closing (["'])quote/.exec(message);
  if (quote) {
    const open = text.lastIndexOf(quote[1], Math.min(s, text.length) - 1);
    if (open !== -1) {
      const eol = text.indexOf('\n', open);
      return [open, eol === -1 ? text.length : eol];
    }
  }
  return [s, Math.max(e, s + 1)];
}

function syntaxMessage(code: string, raw: string, text: string, s: number, e: number): string {
  let msg = raw.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim();
  if (code === 'DUPLICATE_KEY') msg = `duplicate key '${text.slice(s, e).trim()}'`;
  if (/Missing closing (["'])quote/.test(raw)) return `unterminated string: add the closing ${raw.includes('"quote') ? '"' : "'"}`;
  const hint = HINTS[code];
  return hint ? `${msg}: ${hint}` : msg;
}

/** Text of any scalar the YAML library may produce (bigint, Date, ...). */
function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v) ?? '';
}

interface ConvertState {
  readonly text: string;
  aliases: boolean;
  budget: number;
  exceeded: boolean;
}

function convert(doc: Document, node: YamlNode, base: number, depth: number, state: ConvertState): YNode | null {
  if (--state.budget < 0) {
    state.exceeded = true;
    return null;
  }
  if (depth > 200) return null;
  if (isAlias(node) || (node as { anchor?: string }).anchor) state.aliases = true;
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) return null;
    const converted = convert(doc, target, base, depth + 1, state);
    return converted;
  }
  const [s, e] = node.range ?? [0, 0];
  if (isScalar(node)) {
    const v = node.value;
    const value: ScalarValue =
      v === null || v === undefined ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : scalarText(v);
    return { kind: 'scalar', start: base + s, end: base + e, value, style: STYLE[node.type ?? 'PLAIN'] ?? 'plain' };
  }
  if (isMap(node)) {
    const pairs: YPair[] = [];
    for (const p of node.items) {
      if (!isPair(p)) continue;
      const k = p.key as YamlNode | null;
      let key: YScalar;
      if (k && isScalar(k)) {
        const [ks, ke] = k.range ?? [s, s];
        key = { kind: 'scalar', start: base + ks, end: base + ke, value: scalarText(k.value), style: STYLE[k.type ?? 'PLAIN'] ?? 'plain' };
      } else if (k && k.range) {
        const src = state.text.slice(k.range[0], Math.min(k.range[1], k.range[0] + 200));
        key = { kind: 'scalar', start: base + k.range[0], end: base + k.range[1], value: src, style: 'plain' };
      } else {
        key = { kind: 'scalar', start: base + s, end: base + s, value: '', style: 'plain' };
      }
      const value = p.value ? convert(doc, p.value as YamlNode, base, depth + 1, state) : null;
      pairs.push({ key, value, start: key.start, end: value ? Math.max(value.end, key.end) : key.end });
    }
    return { kind: 'map', start: base + s, end: base + e, pairs };
  }
  if (isSeq(node)) {
    const items = node.items.map((it) => (it ? convert(doc, it as YamlNode, base, depth + 1, state) : null));
    return { kind: 'seq', start: base + s, end: base + e, items };
  }
  return null;
}

// ---- navigation helpers ------------------------------------------------------------------

export type PathSegment = string | number;

/** The pair with this key in a map (the last one when the key repeats, like YAML loaders do). */
export function pairOf(map: YNode | null | undefined, key: string): YPair | undefined {
  if (!map || map.kind !== 'map') return undefined;
  for (let i = map.pairs.length - 1; i >= 0; i--) if (map.pairs[i].key.value === key) return map.pairs[i];
  return undefined;
}

export function get(node: YNode | null | undefined, key: string): YNode | null | undefined {
  return pairOf(node, key)?.value;
}

/** The node at a path of keys and indexes, or undefined when the path leaves the tree. */
export function nodeAt(root: YNode | null, path: readonly PathSegment[]): YNode | null | undefined {
  let cur: YNode | null | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    if (typeof seg === 'number' && cur.kind === 'seq') cur = cur.items[seg];
    else if (cur.kind === 'map') cur = get(cur, String(seg));
    else return undefined;
  }
  return cur;
}

export function spanOf(n: { start: number; end: number }): Span {
  return { start: n.start, end: n.end };
}

/** The plain JavaScript value of the tree (what a YAML loader would return). */
export function toValue(node: YNode | null | undefined): unknown {
  if (!node) return null;
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toValue);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const p of node.pairs) {
        // defineProperty: a key named __proto__ must stay a plain key.
        Object.defineProperty(o, String(p.key.value), { value: toValue(p.value), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

export function isStringScalar(n: YNode | null | undefined): n is YScalar & { value: string } {
  return !!n && n.kind === 'scalar' && typeof n.value === 'string';
}

export function describe(n: YNode | null | undefined): string {
  if (!n) return 'nothing';
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return 'a list';
  const v = n.value;
  if (v === null) return 'null';
  if (typeof v === 'string') return `the text '${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'number' && !Number.isFinite(v)) return `${String(v)} (too large)`;
  return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
}
