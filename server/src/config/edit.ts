/**
 * `orchestrator config set`: one value written into a config file, keeping the file's comments and
 * layout. The change is a splice of the file's text: the old value's characters replaced, or the
 * new key's lines inserted after the last key of its map, indented as its siblings; every other
 * byte stays. The result is parsed again and must hold exactly the old values plus the new one;
 * where a splice cannot do that (a block list replaced by a map...), the `yaml` library's
 * Document API rewrites the file instead (comments kept, spacing normalised). Written atomically
 * (store/durableFile.ts); the file and its folder are made when missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, stringify, type Document, type Node, type Pair } from 'yaml';
import { writeFileDurably } from '../store/durableFile';
import { checkConfigText, checkOriginValue } from './check';
import { settable } from './envNames';
import { dotted, fixedLeafPaths, kindOf, parseKey, schemaAt, suggestKey } from './nav';
import { configProviderTypes } from './schema';
import { problemText } from './types';

/** Bad usage or a value that does not fit: one line that says what to do (exit 2). */
export class ConfigEditError extends Error {}

export interface SetResult {
  file: string;
  path: string[];
  value: unknown;
  /** 1-based line of the key in the file written. */
  line: number;
  created: boolean;
}

const keyText = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));
const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function inline(v: unknown): string {
  return stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

/** `key: value` lines for a path below a map whose keys start at `indent`. */
function block(p: readonly string[], value: unknown, indent: number, step: number): string {
  const pad = ' '.repeat(indent);
  const key = inline(p[0]);
  if (p.length > 1) return `${pad}${key}:\n${block(p.slice(1), value, indent + step, step)}`;
  if (!isPlainObject(value) || Object.keys(value).length === 0) return `${pad}${key}: ${inline(value)}\n`;
  const body = stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(indent + step) + l)
    .join('\n');
  return `${pad}${key}:\n${body}\n`;
}

/** `{ a: { b: value } }` for a path below a flow map. */
function nestedFlow(p: readonly string[], value: unknown): string {
  let v = value;
  for (let i = p.length - 1; i >= 1; i--) v = { [p[i]]: v };
  return `${inline(p[0])}: ${inline(v)}`;
}

function indentStep(text: string): number {
  let step = Infinity;
  for (const m of text.matchAll(/^( +)[^\s#-]/gm)) step = Math.min(step, m[1].length);
  return Number.isFinite(step) ? step : 2;
}

/** The offset just after the line that holds `offset` (a newline is added at the end of the text if needed). */
function afterLine(text: string, offset: number): { at: number; prefix: string } {
  if (offset > 0 && text[offset - 1] === '\n') return { at: offset, prefix: '' }; // a block's range ends after its newline
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? { at: text.length, prefix: text.length ? '\n' : '' } : { at: nl + 1, prefix: '' };
}

/** Where a pair's content ends: its last scalar's end, not the comments that follow it. */
function endOf(pair: Pair): number {
  const v = pair.value as Node | null;
  if (isCollection(v) && !v.flow && v.items.length > 0) {
    const last = v.items[v.items.length - 1];
    if (isPair(last)) return endOf(last);
    if ((last as Node | null)?.range) return (last as Node).range![1];
  }
  if (!v?.range || (isScalar(v) && v.value === null && v.source === '')) return (pair.key as Node).range![1];
  return v.range[1];
}

/** The text with the value set by a splice, or undefined when a splice cannot do it. */
function splice(text: string, doc: Document.Parsed, p: readonly string[], value: unknown): string | undefined {
  const lines = new LineCounter();
  parseDocument(text, { lineCounter: lines });
  const col = (offset: number): number => lines.linePos(offset).col - 1;
  const step = indentStep(text);
  const put = (at: number, s: string): string => text.slice(0, at) + s + text.slice(at);

  let cur: unknown = doc.contents;
  let owner: Pair | undefined;
  for (let i = 0; i < p.length; i++) {
    if (cur === null || (isScalar(cur) && cur.value === null)) {
      if (!owner) return cur === null ? text + (text && !text.endsWith('\n') ? '\n' : '') + block(p, value, 0, step) : undefined;
      // `retention: ~`: the null replaced by a flow map.
      if (isScalar(cur) && cur.source !== '' && cur.range) return text.slice(0, cur.range[0]) + inline(setIn({}, p.slice(i), value)) + text.slice(cur.range[1]);
      // `retention:` with nothing after it: the new lines go under its key.
      const keyStart = (owner.key as Node).range![0];
      const { at, prefix } = afterLine(text, endOf(owner));
      return put(at, prefix + block(p.slice(i), value, col(keyStart) + step, step));
    }
    if (!isMap(cur)) return undefined;
    const pair = cur.items.find((it) => keyText(it.key) === p[i]);
    if (!pair) {
      if (cur.flow) {
        const last = cur.items[cur.items.length - 1];
        if (!last) return undefined;
        return put(endOf(last), `, ${nestedFlow(p.slice(i), value)}`);
      }
      const first = cur.items[0];
      if (!first) return undefined;
      const { at, prefix } = afterLine(text, endOf(cur.items[cur.items.length - 1]));
      return put(at, prefix + block(p.slice(i), value, col((first.key as Node).range![0]), step));
    }
    if (i === p.length - 1) {
      const v = pair.value as Node | null;
      if (!v?.range) return undefined;
      if (isScalar(v) && v.source === '' && v.value === null) {
        // `keep:` with no value (perhaps a comment after it): the value goes after the colon.
        if (text[v.range[0]] === '#') return put(v.range[0], `${inline(value)} `);
        return put(v.range[0], `${/\s/.test(text[v.range[0] - 1] ?? '') ? '' : ' '}${inline(value)}`);
      }
      // A scalar or a flow collection: its characters replaced (a map or list written in flow style).
      if (isScalar(v) || (isCollection(v) && v.flow)) return text.slice(0, v.range[0]) + inline(value) + text.slice(v.range[1]);
      // A block map or list replaced by a map or list: its lines replaced, at its indentation.
      if (isCollection(v) && (isPlainObject(value) || Array.isArray(value))) {
        const [from, to] = v.range;
        const start = text.lastIndexOf('\n', from - 1) + 1;
        if (text.slice(start, from).trim() !== '') return undefined;
        const end = text[to - 1] === '\n' ? to : afterLine(text, to).at;
        const body = stringify(value, { lineWidth: 0 }).trimEnd().split('\n').map((l) => ' '.repeat(col(from)) + l).join('\n');
        return text.slice(0, start) + body + '\n' + text.slice(end);
      }
      return undefined;
    }
    owner = pair;
    cur = pair.value;
  }
  return undefined;
}

function setIn(obj: unknown, p: readonly string[], value: unknown): unknown {
  const root: Record<string, unknown> = isPlainObject(obj) ? { ...obj } : {};
  let cur = root;
  for (const seg of p.slice(0, -1)) cur = cur[seg] = isPlainObject(cur[seg]) ? { ...cur[seg] } : {};
  cur[p[p.length - 1]] = value;
  return root;
}

/** Whether the text holds the old values with the new one set, and nothing else changed. */
function holds(text: string, expected: unknown): boolean {
  const d = parseDocument(text, { uniqueKeys: true });
  return d.errors.length === 0 && isDeepStrictEqual(d.toJS() ?? {}, expected);
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function lineOf(text: string, p: readonly string[]): number {
  const lines = new LineCounter();
  const d = parseDocument(text, { lineCounter: lines });
  let cur: unknown = d.contents;
  let at = 0;
  for (const seg of p) {
    if (!isMap(cur)) break;
    const pair = cur.items.find((it) => keyText(it.key) === seg);
    if (!pair) break;
    at = (pair.key as Node).range?.[0] ?? at;
    cur = pair.value;
  }
  return lines.linePos(at).line;
}

/** The path a key names in this file (entry names: the file's, and the built-in providers). */
export function keyPath(key: string, doc?: Document): string[] {
  const js = (doc?.toJS() ?? {}) as Record<string, unknown>;
  const known = (section: string): string[] => [...Object.keys(isPlainObject(js[section]) ? js[section] : {}), ...(section === 'providers' ? configProviderTypes() : [])];
  const p = parseKey(key, known);
  if (!p) throw new ConfigEditError(`'${key}' is not a setting.${suggestKey(key, known) || ` Settings: ${fixedLeafPaths().map(dotted).join(', ')}, providers.NAME.KEY, prices.MODEL.KEY`}`);
  if (!settable(p)) {
    const s = schemaAt(p)!;
    const inside = kindOf(s) === 'entries' ? `${key}.NAME` : fixedLeafPaths().filter((l) => dotted(l).startsWith(`${key}.`)).map(dotted).join(', ');
    throw new ConfigEditError(`${key} is a section: set its keys one by one (${inside})`);
  }
  return p;
}

/** The value as it will be written, checked against the schema (a ConfigEditError says why not). */
export function checkedValue(key: string, p: string[], raw: string): unknown {
  const checked = checkOriginValue(raw, { name: key, kind: 'flag', raw, path: p });
  if (checked.problems.length) throw new ConfigEditError(checked.problems.map(problemText).join('; '));
  if (kindOf(schemaAt(p)!) === 'value') return checked.leaves[0]?.value;
  const out: Record<string, unknown> = {};
  for (const l of checked.leaves) out[l.path[p.length]] = l.value;
  return out;
}

export function setConfigValue(file: string, key: string, raw: string): SetResult {
  const created = !fs.existsSync(file);
  const target = created ? file : fs.realpathSync(file); // a symlinked file is written where it is
  const text = created ? '' : fs.readFileSync(target, 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ConfigEditError(`${file} does not parse (line ${lineAt(text, e.pos[0])}: ${e.message.split('\n')[0]}): fix it first, then set the value`);
  }
  const p = keyPath(key, doc);
  const value = checkedValue(key, p, raw);
  const root = doc.contents;
  if (root !== null && !isMap(root) && !(isScalar(root) && root.value === null)) throw new ConfigEditError(`${file} is not a map of settings: fix it first, then set the value`);
  const expected = setIn(doc.toJS() ?? {}, p, value);

  let next = splice(text, doc, p, value);
  if (next === undefined || !holds(next, expected)) {
    try {
      doc.setIn(p, doc.createNode(value));
    } catch {
      throw new ConfigEditError(`${dotted(p.slice(0, -1))} in ${file} is not a map: fix it first, then set the value`);
    }
    next = doc.toString({ lineWidth: 0 });
    if (!holds(next, expected)) throw new Error(`writing ${key} into ${file} would change other values`);
  }
  // The new value may leave its entry incomplete (a price without output): say so, write nothing.
  const before = new Set(checkConfigText(text, file).problems.map((x) => x.message));
  const added = checkConfigText(next, file).problems.find((x) => x.severity === 'error' && !before.has(x.message));
  if (added) throw new ConfigEditError(`${added.message}: set the whole entry at once (orchestrator config set ${dotted(p.slice(0, 2))} '{...}')`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const mode = created ? undefined : fs.statSync(target).mode & 0o7777;
  writeFileDurably(target, next);
  if (mode !== undefined) fs.chmodSync(target, mode);
  return { file, path: p, value, line: lineOf(next, p), created };
}
