/**
 * Walking the config schema: what a path is (a map of fixed keys, a map of user-chosen names, or a
 * value), the keys allowed there, descriptions and `expects` texts, and the dotted keys of the
 * settings (`retention.keep`, `providers.local.model`).
 */
import { z } from 'zod';
import { closest } from '../workflow/suggest';
import { ConfigSchema, expectations } from './schema';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

export function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let d = defOf(cur); (d.type === 'optional' || d.type === 'default' || d.type === 'nullable') && d.innerType; d = defOf(cur)) cur = d.innerType;
  return cur;
}

/**
 * `object`: fixed keys (`retention`); `entries`: a map of names to objects (`providers`, `prices`);
 * `value`: a setting's value (a scalar, a list, or a map of plain values such as a provider's `env`).
 */
export type NodeKind = 'object' | 'entries' | 'value';

export function kindOf(s: z.ZodType): NodeKind {
  const d = defOf(unwrap(s));
  if (d.type === 'object') return 'object';
  if (d.type === 'record' && d.valueType && defOf(unwrap(d.valueType)).type === 'object') return 'entries';
  return 'value';
}

export function shapeOf(s: z.ZodType): Record<string, z.ZodType> {
  return defOf(unwrap(s)).shape ?? {};
}

export function entrySchema(s: z.ZodType): z.ZodType {
  return defOf(unwrap(s)).valueType!;
}

/** Whether the key must be present (a price's `input` and `output`). */
export function isRequired(s: z.ZodType): boolean {
  return defOf(s).type !== 'optional';
}

/** The schema at a path (names of entries are any string). */
export function schemaAt(path: readonly string[], root: z.ZodType = ConfigSchema): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    const kind = kindOf(cur);
    if (kind === 'object') cur = shapeOf(cur)[seg];
    else if (kind === 'entries') cur = entrySchema(cur);
    else return undefined;
  }
  return cur;
}

/** The keys the map at a path allows (none for a map of names, or a value). */
export function keysAt(path: readonly string[]): string[] {
  const s = schemaAt(path);
  return s && kindOf(s) === 'object' ? Object.keys(shapeOf(s)) : [];
}

export function describe(s: z.ZodType): string | undefined {
  for (let cur: z.ZodType | undefined = s; cur; ) {
    const meta = z.globalRegistry.get(cur);
    if (meta?.description) return meta.description;
    const d = defOf(cur);
    cur = d.type === 'optional' || d.type === 'default' || d.type === 'nullable' ? d.innerType : undefined;
  }
  return undefined;
}

/** What a value must be, in words. */
export function expectsOf(s: z.ZodType): string {
  for (let cur: z.ZodType | undefined = s; cur; ) {
    const e = expectations.get(cur);
    if (e) return e.expects;
    const d = defOf(cur);
    cur = d.type === 'optional' || d.type === 'default' || d.type === 'nullable' ? d.innerType : undefined;
  }
  const kind = kindOf(s);
  if (kind === 'object') return `a map (${Object.keys(shapeOf(s)).join(', ')})`;
  if (kind === 'entries') return 'a map of names to settings';
  return 'a valid value';
}

/** The allowed values of an enum setting (for completion). */
export function enumValues(s: z.ZodType): string[] {
  const u = unwrap(s) as unknown as { options?: unknown };
  const d = defOf(unwrap(s)) as Def & { entries?: Record<string, string> };
  if (d.type === 'enum' && d.entries) return Object.values(d.entries);
  return Array.isArray(u.options) ? (u.options as unknown[]).filter((o): o is string => typeof o === 'string') : [];
}

export const dotted = (path: readonly string[]): string => path.join('.');

/** The paths of the settings with fixed names (every leaf outside `providers` and `prices`). */
export function fixedLeafPaths(root: z.ZodType = ConfigSchema, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, s] of Object.entries(shapeOf(root))) {
    const kind = kindOf(s);
    if (kind === 'object') out.push(...fixedLeafPaths(s, [...prefix, k]));
    else if (kind === 'value') out.push([...prefix, k]);
  }
  return out;
}

/** The sections that are maps of names (`providers`, `prices`). */
export function entrySections(): string[] {
  return Object.entries(ConfigSchema.shape)
    .filter(([, s]) => kindOf(s) === 'entries')
    .map(([k]) => k);
}

/**
 * A dotted key as a path. The name of an entry may hold dots (`prices.gpt-4.1.input`): it is the
 * part that leaves a valid key after it, a known name first. Undefined: not a setting.
 */
export function parseKey(key: string, known: (section: string) => Iterable<string> = () => []): string[] | undefined {
  const segs = key.split('.');
  return resolve(segs, ConfigSchema, [], known);
}

function resolve(segs: string[], s: z.ZodType, at: string[], known: (section: string) => Iterable<string>): string[] | undefined {
  if (segs.length === 0) return at;
  const kind = kindOf(s);
  if (kind === 'object') {
    const child = shapeOf(s)[segs[0]];
    return child ? resolve(segs.slice(1), child, [...at, segs[0]], known) : undefined;
  }
  if (kind !== 'entries') return undefined;
  const names = new Set(known(at[0]));
  let best: string[] | undefined;
  for (let i = segs.length; i >= 1; i--) {
    const name = segs.slice(0, i).join('.');
    const r = resolve(segs.slice(i), entrySchema(s), [...at, name], known);
    if (!r) continue;
    if (names.has(name)) return r;
    if (!best || r.length > best.length) best = r;
  }
  return best;
}

/** " Did you mean 'retention.keep'?" for a key that is not a setting, or "". */
export function suggestKey(key: string, known: (section: string) => Iterable<string> = () => []): string {
  const candidates = [...fixedLeafPaths().map(dotted), ...Object.keys(ConfigSchema.shape)];
  for (const section of entrySections()) {
    for (const name of known(section)) for (const k of Object.keys(shapeOf(entrySchema(ConfigSchema.shape[section as keyof typeof ConfigSchema.shape])))) candidates.push(`${section}.${name}.${k}`);
  }
  const c = closest(key, candidates);
  return c ? ` Did you mean '${c}'?` : '';
}
