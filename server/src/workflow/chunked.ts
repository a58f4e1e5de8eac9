/**
 * Chunked parsing with reuse: the file is cut at its top-level keys, and a block `steps:` or
 * `pipeline:` list at its items; each chunk is parsed on its own and cached by its text (with
 * offsets relative to the chunk), so an edit re-parses only the chunk it touched. It is also
 * faster on a cold start: many small documents parse quicker than one large one.
 *
 * Safety: anything unusual (directives, document markers, a top level that is not a block
 * mapping, duplicate top-level keys, any error of the YAML parser in any chunk) falls back to
 * parsing the whole text, so syntax errors always come from the real parser on the real document.
 * A wrong cut cannot pass unnoticed: it leaves a chunk with an unterminated construct, which is an
 * error. Duplicate keys below the top level are the exception: yamlTree.ts finds them itself, in
 * one mapping at a time, and a mapping below the top level lies wholly in one chunk, so a chunk's
 * duplicate-key problems are the whole parse's (the file is not parsed a second time for them).
 * test/unit/chunked.test.ts checks that both parses give the same tree and problems.
 */
import type { ExprAnalysis } from './exprChecks';
import type { Problem } from './problems';
import { parseYaml, type ParsedYaml, type YMap, type YNode, type YPair, type YScalar, type YSeq } from './yamlTree';

/** A parsed chunk and the offset its tree's positions start from. */
interface Entry {
  readonly parsed: ParsedYaml;
  readonly base: number;
}

/** Parsed chunks of one document, by text. Keep one per open document. */
export class ChunkCache {
  private entries = new Map<string, Entry>();
  private used = new Map<string, Entry>();
  /** How many chunks were parsed (not found in the cache), for tests and the debug log. */
  misses = 0;
  /** Expression analyses by text (see exprChecks.ts), kept while the document is open. */
  readonly expressions = new Map<string, ExprAnalysis>();

  /**
   * The chunk's tree with offsets from `base` (its place in the document). A chunk is parsed at
   * its place, so a cold parse copies nothing; one found in the cache is moved only when it moved.
   */
  get(text: string, base: number): ParsedYaml {
    let hit = this.used.get(text) ?? this.entries.get(text);
    if (!hit) {
      hit = { parsed: parseYaml(text, base), base };
      this.misses++;
    } else if (hit.base !== base) {
      hit = { parsed: shiftParsed(hit.parsed, base - hit.base), base };
    }
    this.used.set(text, hit);
    return hit.parsed;
  }

  /** Forget the chunks the last parse did not use. */
  sweep(): void {
    this.entries = this.used;
    this.used = new Map();
    // Expressions are small; drop them all when the map grows far beyond one document's worth.
    if (this.expressions.size > 4 * this.entries.size + 10_000) this.expressions.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

interface Chunk {
  readonly start: number;
  readonly end: number;
  /** Set on the items of a split list: the key that holds the list. */
  readonly listOf?: string;
}

/** `&name` where YAML allows an anchor (not `&&`, `2>&1`, `a&b`). */
const ANCHOR = /(?:^|[\s[{,])&[^\s[\]{},&]/m;
const TOP_KEY = /^(?:[A-Za-z_][\w-]*|"[^"\n]*"|'[^'\n]*')[ \t]*:(?:[ \t]|$)/;
const LIST_HEADER = /^(steps|pipeline)[ \t]*:[ \t]*(?:#.*)?$/;

/** Cuts the text into chunks, or undefined when the text is not of the simple shape we cut. */
export function cut(text: string): Chunk[] | undefined {
  const chunks: Chunk[] = [];
  let segStart = -1;
  let listKey: string | undefined;
  let itemIndent = -1;
  let pos = 0;
  let sawKey = false;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = text.length;
    const line = text.slice(pos, eol);
    const c = line.charCodeAt(0);
    const blankOrComment = /^[ \t]*(#|$)/.test(line);
    if (!blankOrComment) {
      if (c === 37 /* % */ || line.startsWith('---') || line.startsWith('...')) return undefined;
      if (c !== 32 && c !== 9 && c !== 45 /* - */) {
        if (!TOP_KEY.test(line)) return undefined;
        // A new top-level key.
        if (segStart >= 0 || sawKey) chunks.push({ start: segStart < 0 ? 0 : segStart, end: pos, ...(listKey && itemIndent >= 0 ? { listOf: listKey } : {}) });
        segStart = sawKey ? pos : 0;
        sawKey = true;
        const h = LIST_HEADER.exec(line);
        listKey = h ? h[1] : undefined;
        itemIndent = -1;
      } else if (!sawKey) {
        return undefined;
      } else if (listKey) {
        const m = /^( *)-(?:[ \t]|$)/.exec(line);
        if (itemIndent < 0) {
          if (!m) {
            listKey = undefined; // not a block list after all: keep the segment whole
          } else {
            itemIndent = m[1].length;
            chunks.push({ start: segStart, end: pos });
            segStart = pos;
          }
        } else if (m && m[1].length === itemIndent) {
          chunks.push({ start: segStart, end: pos, listOf: listKey });
          segStart = pos;
        } else if (/^ */.exec(line)![0].length <= itemIndent && !m) {
          return undefined; // content less indented than the items: not our shape
        }
      }
    }
    pos = eol + 1;
  }
  if (!sawKey) return undefined;
  chunks.push({ start: segStart < 0 ? 0 : segStart, end: text.length, ...(listKey && itemIndent >= 0 ? { listOf: listKey } : {}) });
  return chunks.filter((ch) => ch.end > ch.start);
}

/** Parses the text in chunks (reusing `cache`), or whole when it cannot be cut safely. */
export function parseChunked(text: string, cache: ChunkCache = new ChunkCache()): ParsedYaml & { chunked: boolean } {
  const whole = (): ParsedYaml & { chunked: boolean } => ({ ...parseYaml(text), chunked: false });
  // Anchors cannot be resolved across chunks: a text that seems to have one is parsed whole at
  // once, rather than in chunks up to the first anchor and then again whole (twice the work).
  if (ANCHOR.test(text)) return whole();
  const chunks = cut(text);
  if (!chunks || chunks.length < 2) return whole();
  const pairs: YPair[] = [];
  const problems: Problem[] = [];
  const keys = new Set<string>();
  let mapEnd = 0;
  let list: { key: string; pair: YPair; items: (YNode | null)[]; start: number; end: number } | undefined;
  const flush = (): void => {
    if (!list) return;
    const seq: YSeq = { kind: 'seq', start: list.start, end: list.end, items: list.items };
    pairs.push({ key: list.pair.key, value: seq, start: list.pair.key.start, end: seq.end });
    list = undefined;
  };
  for (const ch of chunks) {
    const parsed = cache.get(text.slice(ch.start, ch.end), ch.start);
    if (parsed.parserErrors || !parsed.root || parsed.aliases) {
      cache.sweep();
      return whole();
    }
    for (const p of parsed.problems) problems.push(p);
    const root = parsed.root;
    mapEnd = root.end;
    if (ch.listOf) {
      if (root.kind !== 'seq' || !list || list.key !== ch.listOf) {
        cache.sweep();
        return whole();
      }
      if (!list.items.length) list.start = root.start;
      for (const it of root.items) list.items.push(it);
      list.end = root.end;
      continue;
    }
    flush();
    if (root.kind !== 'map') {
      cache.sweep();
      return whole();
    }
    for (const p of root.pairs) {
      const k = String(p.key.value);
      if (keys.has(k)) {
        cache.sweep();
        return whole(); // duplicate top-level key: let the real parser report it
      }
      keys.add(k);
    }
    const last = root.pairs[root.pairs.length - 1];
    const next = chunks[chunks.indexOf(ch) + 1];
    if (next?.listOf && last && (last.value === null || (last.value.kind === 'scalar' && last.value.value === null && last.value.style === 'plain'))) {
      for (const p of root.pairs.slice(0, -1)) pairs.push(p);
      list = { key: String(last.key.value), pair: last, items: [], start: next.start, end: last.key.end };
      continue;
    }
    for (const p of root.pairs) pairs.push(p);
  }
  flush();
  cache.sweep();
  if (!pairs.length) return whole();
  const first = pairs[0];
  const map: YMap = { kind: 'map', start: first.key.start, end: mapEnd, pairs };
  return { root: map, problems, chunked: true };
}

function shiftParsed(parsed: ParsedYaml, delta: number): ParsedYaml {
  return {
    ...parsed,
    root: parsed.root && shift(parsed.root, delta),
    problems: parsed.problems.map((p) => ({ ...p, span: { start: p.span.start + delta, end: p.span.end + delta } })),
  };
}

/** The tree with every offset moved by delta (the same tree when delta is 0). */
function shift<T extends YNode>(node: T, delta: number): T;
function shift(node: YNode, delta: number): YNode {
  if (delta === 0) return node;
  switch (node.kind) {
    case 'scalar':
      return shiftScalar(node, delta);
    case 'seq':
      return { kind: 'seq', start: node.start + delta, end: node.end + delta, items: node.items.map((i) => (i ? shift(i, delta) : null)) };
    case 'map':
      return {
        kind: 'map',
        start: node.start + delta,
        end: node.end + delta,
        pairs: node.pairs.map((p) => ({ key: shiftScalar(p.key, delta), value: p.value ? shift(p.value, delta) : null, start: p.start + delta, end: p.end + delta })),
      };
  }
}

function shiftScalar(s: YScalar, delta: number): YScalar {
  return { kind: 'scalar', start: s.start + delta, end: s.end + delta, value: s.value, style: s.style };
}
