/**
 * The YAML text as a small tree of plain nodes with absolute offsets. Built from the `yaml`
 * package's Document; every later check works on this tree, so positions are exact and the
 * checks do not depend on the YAML library's classes.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, Lexer, parseDocument, type Alias, type Node as YamlNode } from 'yaml';
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
  /** Set when a limit stopped the parse: the problems say why, and nothing else is to be checked. */
  readonly notParsed?: boolean;
  /**
   * Set when a problem came from the YAML parser itself or from the alias budget; unset when the
   * only problems are duplicate keys (found by convert(), the same in any part of the text).
   */
  readonly parserErrors?: boolean;
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

/** Expanded nodes allowed per document: this many, or one per character when the text is longer. */
const MIN_NODE_BUDGET = 20_000;
/** Nesting deeper than this (aliases expanded) is cut: later checks walk the tree recursively. */
const MAX_DEPTH = 200;

/**
 * Flow collections ([ ] and { }) nested deeper than this are not parsed: the YAML library takes
 * seconds on them (and overflows its stack), and no workflow needs a tenth of it.
 */
export const MAX_FLOW_DEPTH = 1_000;

/** Parses YAML into the plain tree. Never throws. Linear in the text (aliases included). */
export function parseYaml(text: string, base = 0): ParsedYaml {
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const message = `flow collections ([ ] or { }) nested more than ${MAX_FLOW_DEPTH} levels deep: the file was not parsed, so nothing in it was checked; write the value with fewer levels`;
    return { root: null, problems: [problem('yaml-syntax', { start: base + deep, end: base + deep + 1 }, message)], notParsed: true, parserErrors: true };
  }
  // uniqueKeys: false: the YAML library compares each key with every earlier key of its map,
  // which is quadratic (10,000 keys take seconds); convert() finds duplicates with a set instead.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, strict: true, keepSourceTokens: false });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const [s, eEnd] = errorSpan(e.code, e.message, text, e.pos[0], e.pos[1]);
    problems.push(problem('yaml-syntax', { start: base + s, end: base + eEnd }, syntaxMessage(e.code, e.message, text, s, eEnd)));
  }
  // Aliases are expanded; a budget stops documents that expand exponentially ("billion laughs").
  const state: ConvertState = { text, base, problems, aliases: false, budget: Math.max(MIN_NODE_BUDGET, text.length), used: 0, exceeded: false, anchors: new Map(), anchored: new Map() };
  const root = doc.contents ? (convert(doc.contents, 0, state)?.node ?? null) : null;
  if (state.exceeded) {
    problems.push(problem('yaml-syntax', { start: base, end: base + Math.min(text.length, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')) }, 'aliases expand to too many nodes: a workflow file should not need this many aliases; write the values out or use fewer aliases'));
  }
  return { root, problems, ...(state.aliases ? { aliases: true } : {}), ...(doc.errors.length || state.exceeded ? { parserErrors: true } : {}) };
}

/** The offset of the bracket that opens level MAX_FLOW_DEPTH + 1, if any (by the YAML lexer's tokens). */
function tooDeep(text: string): number | undefined {
  let brackets = 0;
  for (let i = text.indexOf('['); i !== -1 && brackets <= MAX_FLOW_DEPTH; i = text.indexOf('[', i + 1)) brackets++;
  for (let i = text.indexOf('{'); i !== -1 && brackets <= MAX_FLOW_DEPTH; i = text.indexOf('{', i + 1)) brackets++;
  if (brackets <= MAX_FLOW_DEPTH) return undefined; // cannot be that deep: skip the scan
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_FLOW_DEPTH) return offset;
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    // The lexer's control tokens (document start, flow end, scalar) are not text.
    if (token !== '\x02' && token !== '\x18' && token !== '\x1f') offset += token.length;
  }
  return undefined;
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

interface Converted {
  readonly node: YNode | null;
  /** Levels of nesting, aliases expanded (a scalar is 1). */
  readonly height: number;
}

/** An anchored node: its conversion (undefined while it is being converted) and expanded size. */
interface Anchored {
  result?: Converted;
  size: number;
}

interface ConvertState {
  readonly text: string;
  readonly base: number;
  readonly problems: Problem[];
  aliases: boolean;
  /** Expanded nodes allowed, and used so far (an alias counts as the size of what it names). */
  readonly budget: number;
  used: number;
  exceeded: boolean;
  /** The latest node with each anchor, in document order (an alias names the last one before it). */
  readonly anchors: Map<string, YamlNode>;
  readonly anchored: Map<YamlNode, Anchored>;
}

/**
 * Converts a node once: an alias reuses the converted node it names (the tree may share subtrees,
 * never cycles), and costs its expanded size from the budget, so the work is linear in the text
 * and the later checks, which walk the expanded tree, stay within the budget too.
 */
function convert(node: YamlNode, depth: number, state: ConvertState): Converted | null {
  if (depth >= MAX_DEPTH) return null;
  if (++state.used > state.budget) {
    state.exceeded = true;
    return null;
  }
  if (isAlias(node)) {
    state.aliases = true;
    return resolveAlias(node, depth, state);
  }
  const anchor = (node as { anchor?: string }).anchor;
  if (!anchor) return convertNode(node, depth, state);
  state.aliases = true;
  const entry: Anchored = { size: 1 };
  state.anchors.set(anchor, node);
  state.anchored.set(node, entry);
  const before = state.used;
  const result = convertNode(node, depth, state);
  entry.size = state.used - before + 1;
  entry.result = result ?? { node: null, height: 1 };
  return result;
}

function resolveAlias(alias: Alias, depth: number, state: ConvertState): Converted | null {
  const target = state.anchors.get(alias.source);
  const [s, e] = alias.range ?? [0, 0];
  const at = { start: state.base + s, end: state.base + Math.max(e, s + 1) };
  const entry = target && state.anchored.get(target);
  if (!entry) {
    state.problems.push(problem('yaml-syntax', at, `alias '*${alias.source}' names no anchor before it: define &${alias.source} on an earlier value, or write the value out`));
    return null;
  }
  if (!entry.result) {
    state.problems.push(problem('yaml-syntax', at, `alias '*${alias.source}' is inside the value that &${alias.source} names, so that value would contain itself: write the value out`));
    return null;
  }
  if (depth + entry.result.height > MAX_DEPTH) return null;
  state.used += entry.size - 1;
  if (state.used > state.budget) {
    state.exceeded = true;
    return null;
  }
  return entry.result;
}

function convertNode(node: YamlNode, depth: number, state: ConvertState): Converted | null {
  const base = state.base;
  const [s, e] = node.range ?? [0, 0];
  if (isScalar(node)) {
    const v = node.value;
    const value: ScalarValue =
      v === null || v === undefined ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : scalarText(v);
    return { node: { kind: 'scalar', start: base + s, end: base + e, value, style: STYLE[node.type ?? 'PLAIN'] ?? 'plain' }, height: 1 };
  }
  if (isMap(node)) {
    const pairs: YPair[] = [];
    const keys = new Set<unknown>();
    let height = 1;
    for (const p of node.items) {
      if (!isPair(p)) continue;
      const k = p.key as YamlNode | null;
      let key: YScalar;
      if (k && isScalar(k)) {
        const [ks, ke] = k.range ?? [s, s];
        key = { kind: 'scalar', start: base + ks, end: base + ke, value: scalarText(k.value), style: STYLE[k.type ?? 'PLAIN'] ?? 'plain' };
        if (k.anchor) keyAnchor(k, key, state);
        // The YAML library's own rule (uniqueKeys): equal when the values are ===.
        const kv = k.value;
        if ((kv === null || typeof kv !== 'object') && !Number.isNaN(kv)) {
          if (keys.has(kv)) duplicateKey(ks, ke, state);
          else keys.add(kv);
        }
      } else if (k && k.range) {
        const src = state.text.slice(k.range[0], Math.min(k.range[1], k.range[0] + 200));
        key = { kind: 'scalar', start: base + k.range[0], end: base + k.range[1], value: src, style: 'plain' };
        if ((k as { anchor?: string }).anchor) keyAnchor(k, key, state);
      } else {
        key = { kind: 'scalar', start: base + s, end: base + s, value: '', style: 'plain' };
      }
      const c = p.value ? convert(p.value as YamlNode, depth + 1, state) : null;
      const value = c?.node ?? null;
      if (c) height = Math.max(height, c.height + 1);
      pairs.push({ key, value, start: key.start, end: value ? Math.max(value.end, key.end) : key.end });
    }
    return { node: { kind: 'map', start: base + s, end: base + e, pairs }, height };
  }
  if (isSeq(node)) {
    let height = 1;
    const items = node.items.map((it) => {
      const c = it ? convert(it as YamlNode, depth + 1, state) : null;
      if (c) height = Math.max(height, c.height + 1);
      return c?.node ?? null;
    });
    return { node: { kind: 'seq', start: base + s, end: base + e, items }, height };
  }
  return null;
}

/** An anchor on a key: an alias to it stands for the key's text. */
function keyAnchor(k: YamlNode, key: YScalar, state: ConvertState): void {
  const anchor = (k as { anchor?: string }).anchor!;
  state.aliases = true;
  state.anchors.set(anchor, k);
  state.anchored.set(k, { result: { node: key, height: 1 }, size: 1 });
}

function duplicateKey(ks: number, ke: number, state: ConvertState): void {
  const [s, e] = errorSpan('DUPLICATE_KEY', '', state.text, ks, ke);
  state.problems.push(problem('yaml-syntax', { start: state.base + s, end: state.base + e }, syntaxMessage('DUPLICATE_KEY', '', state.text, s, e)));
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
