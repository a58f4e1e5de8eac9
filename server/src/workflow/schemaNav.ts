/**
 * Walking the zod schema by path: which keys an object at a path allows, and the description
 * of a key. Used for "did you mean" on unknown keys, hover and key completion.
 */
import { z } from 'zod';
import { Workflow } from './schema';
import type { PathSegment } from './yamlTree';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let d = defOf(cur); d.type === 'optional' || d.type === 'default' || d.type === 'nullable'; d = defOf(cur)) {
    if (!d.innerType) break;
    cur = d.innerType;
  }
  return cur;
}

/** The schema at a path, following object keys, array items, record values and union options. */
export function schemaAt(path: readonly PathSegment[], root: z.ZodType = Workflow): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    cur = child(unwrap(cur), seg);
  }
  return cur;
}

function child(s: z.ZodType, seg: PathSegment): z.ZodType | undefined {
  const d = defOf(s);
  switch (d.type) {
    case 'object':
      return typeof seg === 'string' ? d.shape?.[seg] : undefined;
    case 'array':
      return typeof seg === 'number' ? d.element : undefined;
    case 'record':
      return d.valueType;
    case 'union':
      for (const o of d.options ?? []) {
        const c = child(unwrap(o), seg);
        if (c) return c;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The keys the object at this path allows (empty when it is not an object). */
export function keysAt(path: readonly PathSegment[]): string[] {
  const s = schemaAt(path);
  if (!s) return [];
  const d = defOf(unwrap(s));
  if (d.type === 'object') return Object.keys(d.shape ?? {});
  if (d.type === 'union') {
    for (const o of d.options ?? []) {
      const od = defOf(unwrap(o));
      if (od.type === 'object') return Object.keys(od.shape ?? {});
    }
  }
  return [];
}

/** The description of the schema at a path (from `.meta({ description })`). */
export function descriptionAt(path: readonly PathSegment[]): string | undefined {
  const s = schemaAt(path);
  if (!s) return undefined;
  return describeSchema(s);
}

export function describeSchema(s: z.ZodType): string | undefined {
  let cur: z.ZodType | undefined = s;
  while (cur) {
    const meta = z.globalRegistry.get(cur);
    if (meta?.description) return meta.description;
    const d = defOf(cur);
    cur = d.type === 'optional' || d.type === 'default' || d.type === 'nullable' ? d.innerType : undefined;
  }
  return undefined;
}

/** Whether the schema at a path is (optionally) a record (a map of user-chosen names). */
export function isRecordAt(path: readonly PathSegment[]): boolean {
  const s = schemaAt(path);
  return !!s && defOf(unwrap(s)).type === 'record';
}
