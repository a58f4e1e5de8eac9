/**
 * Checks one config file (or one variable's or flag's value) against the schema, key by key: an
 * unknown key is a warning (with a did-you-mean) and a bad value an error, each at its position;
 * only that key is left out. What is valid comes out as leaves (each value with its path and line)
 * and entries (the names under `providers:` and `prices:`), for load.ts to merge by precedence.
 */
import { Document, isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { closest } from '../workflow/suggest';
import { dotted, entrySchema, expectsOf, isRequired, kindOf, schemaAt, shapeOf } from './nav';
import { ConfigSchema } from './schema';
import type { SpanProblem } from './types';

export interface Leaf {
  path: string[];
  value: unknown;
  /** 1-based line of its key; 0 outside a file. */
  line: number;
}

export interface Entry {
  path: string[];
  line: number;
}

export interface Checked {
  leaves: Leaf[];
  entries: Entry[];
  problems: SpanProblem[];
  /** False when the text does not parse (then nothing else is read from it). */
  parsed: boolean;
}

/** A value that comes from a variable or a flag rather than a file. */
export interface Origin {
  /** `ORCHESTRATOR_RETENTION_KEEP` or `--keep`. */
  name: string;
  kind: 'env' | 'flag';
  /** The text as given (for messages). */
  raw: string;
  /** The path it sets. */
  path: string[];
}

interface Ctx {
  readonly doc: Document;
  readonly file: string;
  readonly lines?: LineCounter;
  readonly origin?: Origin;
  readonly out: Checked;
}

function keyName(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

function place(c: Ctx, node: unknown): { start: number; end: number; line: number; col: number } {
  const range = (node as Node | null | undefined)?.range;
  if (!range || !c.lines) return { start: 0, end: 0, line: 0, col: 0 };
  const pos = c.lines.linePos(range[0]);
  return { start: range[0], end: range[1], line: pos.line, col: pos.col };
}

function problem(c: Ctx, node: unknown, severity: 'error' | 'warning', message: string): void {
  const prefix = c.origin ? `${c.origin.name}: ` : '';
  c.out.problems.push({ file: c.file, ...place(c, node), severity, code: severity === 'warning' ? 'unknown-key' : 'bad-value', message: prefix + message });
}

function show(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a map';
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && (node.value === null || node.value === undefined));
}

/** Walks a node against the schema at `path`; `keyNode` is where its key is (for positions). */
function walk(c: Ctx, node: unknown, schema: z.ZodType, path: string[], keyNode: unknown): void {
  const kind = kindOf(schema);
  if (kind === 'value') return value(c, node, schema, path, keyNode);
  if (isEmpty(node) && !(c.origin && dotted(c.origin.path) === dotted(path))) return; // `retention:` with nothing under it
  if (!isMap(node)) {
    problem(c, isEmpty(node) ? keyNode : node, 'error', `${path.length ? dotted(path) : 'the file'} must be ${expectsOf(schema)}`);
    return;
  }
  if (kind === 'entries') {
    for (const pair of node.items) {
      const name = keyName(pair.key);
      const at = [...path, name];
      const entry = pair.value;
      if (!isMap(entry)) {
        problem(c, pair.key, 'error', `${dotted(at)} must be a map of settings (${Object.keys(shapeOf(entrySchema(schema))).join(', ')})`);
        continue;
      }
      const before = c.out.leaves.length;
      walk(c, entry, entrySchema(schema), at, pair.key);
      const missing = Object.entries(shapeOf(entrySchema(schema)))
        .filter(([k, s]) => isRequired(s) && !entry.items.some((p) => keyName(p.key) === k))
        .map(([k]) => k);
      if (missing.length) {
        problem(c, pair.key, 'error', `${dotted(at)} needs ${missing.join(' and ')}, ${expectsOf(shapeOf(entrySchema(schema))[missing[0]])}`);
        c.out.leaves.splice(before);
        continue;
      }
      c.out.entries.push({ path: at, line: place(c, pair.key).line });
    }
    return;
  }
  const shape = shapeOf(schema);
  const keys = Object.keys(shape);
  for (const pair of node.items) {
    const k = keyName(pair.key);
    const child = shape[k];
    if (!child) {
      const near = closest(k, keys);
      const where = path.length ? ` in ${dotted(path)}` : '';
      problem(c, pair.key, 'warning', `unknown key '${k}'${where}.${near ? ` Did you mean '${near}'?` : ` Keys: ${keys.join(', ')}`}`);
      continue;
    }
    walk(c, pair.value, child, [...path, k], pair.key);
  }
}

function value(c: Ctx, node: unknown, schema: z.ZodType, path: string[], keyNode: unknown): void {
  const js: unknown = isEmpty(node) ? null : (node as Node).toJS(c.doc);
  let result = schema.safeParse(js);
  const whole = c.origin && dotted(c.origin.path) === dotted(path);
  // A variable's text is read as YAML (5 is a number, [a, b] a list); where that does not fit,
  // the text itself (a model named 1.5).
  if (!result.success && whole) {
    const raw = schema.safeParse(c.origin.raw);
    if (raw.success) result = raw;
  }
  if (result.success) {
    if (result.data !== undefined) c.out.leaves.push({ path, value: result.data, line: place(c, keyNode).line });
    return;
  }
  const expects = expectsOf(schema);
  if (whole) {
    const o = c.origin;
    c.out.problems.push({ file: c.file, start: 0, end: 0, line: 0, col: 0, severity: 'error', code: 'bad-value', message: o.kind === 'env' ? `${o.name} is '${o.raw}': set it to ${expects}, or unset it` : `${o.name} is '${o.raw}': give ${expects}` });
  } else if (js === null) problem(c, keyNode, 'error', `${dotted(path)} has no value: give ${expects}, or remove the key`);
  else problem(c, node, 'error', `${dotted(path)} must be ${expects}, not ${show(js)}`);
}

/** Checks the text of a config file. A text that does not parse gives one error and nothing else. */
export function checkConfigText(text: string, file: string): Checked {
  const out: Checked = { leaves: [], entries: [], problems: [], parsed: true };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    out.parsed = false;
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      out.problems.push({ file, line: pos.line, col: pos.col, start: e.pos[0], end: e.pos[1], severity: 'error', code: 'yaml', message: `does not parse: ${e.message.split('\n')[0]}` });
    }
    return out;
  }
  const ctx: Ctx = { doc, file, lines, out };
  const root = doc.contents;
  if (isEmpty(root)) return out;
  if (!isMap(root)) {
    problem(ctx, root, 'error', `the file must be a map of settings (${Object.keys(ConfigSchema.shape).join(', ')})`);
    return out;
  }
  walk(ctx, root, ConfigSchema, [], root);
  return out;
}

/**
 * Checks a value given by a variable or a flag for the setting at `origin.path`. Text is read as
 * YAML (falling back to the text itself for a string setting); other values are checked as given.
 */
export function checkOriginValue(value: unknown, origin: Origin): Checked {
  const out: Checked = { leaves: [], entries: [], problems: [], parsed: true };
  const schema = schemaAt(origin.path);
  if (!schema) throw new Error(`not a setting: ${dotted(origin.path)}`);
  let doc: Document;
  if (typeof value === 'string') {
    doc = parseDocument(value, { uniqueKeys: true });
    if (doc.errors.length > 0) doc = new Document(value);
  } else doc = new Document(value);
  const file = `${origin.kind} ${origin.name}`;
  const ctx: Ctx = { doc, file, origin, out };
  // An entry given whole (ORCHESTRATOR_PROVIDERS_LOCAL='{type: openai}') is walked as the entries
  // of its section, so that it is checked and listed like one in a file.
  const parent = schemaAt(origin.path.slice(0, -1));
  if (parent && kindOf(parent) === 'entries' && kindOf(schema) === 'object') {
    const wrapper = new Document({});
    const map = wrapper.contents as unknown as { items: unknown[] };
    map.items.push(wrapper.createPair(origin.path[origin.path.length - 1], doc.contents));
    walk({ ...ctx, doc: wrapper }, wrapper.contents, parent, origin.path.slice(0, -1), undefined);
    if (!isMap(doc.contents)) {
      out.problems.splice(0, out.problems.length, { file, start: 0, end: 0, line: 0, col: 0, severity: 'error', code: 'bad-value', message: origin.kind === 'env' ? `${origin.name} is '${origin.raw}': set it to ${expectsOf(schema)}, or unset it` : `${origin.name} is '${origin.raw}': give ${expectsOf(schema)}` });
    }
    return out;
  }
  walk(ctx, doc.contents, schema, origin.path, undefined);
  return out;
}
