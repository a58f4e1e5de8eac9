/**
 * ORCHESTRATOR_PROVIDERS_* variables over the config files' providers (configuration precedence:
 * variables win over files). The names follow config/envNames.ts:
 *
 * - `ORCHESTRATOR_PROVIDERS_<NAME>` holds a whole entry as YAML (`{type: openai, model: m}`) and
 *   replaces the files' entry of that name, as the repository's entry replaces the home one;
 * - `ORCHESTRATOR_PROVIDERS_<NAME>_<KEY>` sets one key of an entry (or of a built-in name),
 *   keeping the rest of it. Its text is read as YAML (`[npx, claude]` is a list), or as itself
 *   where that does not fit (`1.5` as a model name).
 *
 * Each key is checked as in a file; a value's or a warning's place is `env <VARIABLE>`.
 */
import { Document, isScalar, parse, Scalar, type YAMLMap } from 'yaml';
import { isReserved, resolveEnvName, settable } from '../config/envNames';
import { configProviderTypes } from '../config/schema';
import { checkValue, FileReader, readEntry, type ConfiguredProvider, type EntrySource, type ProviderKey } from './providerConfig';

const PREFIX = 'ORCHESTRATOR_PROVIDERS_';

/** The text of a variable as YAML, or the text itself when only that is a valid value of the key. */
function valueOf(key: ProviderKey, raw: string): unknown {
  let parsed: unknown = raw;
  try {
    parsed = parse(raw) as unknown;
  } catch {
    return raw;
  }
  return typeof checkValue(key, parsed) === 'string' && typeof checkValue(key, raw) !== 'string' ? raw : parsed;
}

function entryDocument(raw: string): Document {
  try {
    return new Document(parse(raw));
  } catch {
    return new Document(raw);
  }
}

const keyName = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));

export function applyProviderEnv(env: NodeJS.ProcessEnv, providers: Record<string, ConfiguredProvider>, warnings: string[], sources: Map<string, EntrySource>): void {
  const builtIn = configProviderTypes().filter((t) => t !== 'command');
  const known = (section: string): string[] => (section === 'providers' ? [...new Set([...Object.keys(providers), ...builtIn])] : []);
  const vars: { name: string; raw: string; path: string[] }[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || isReserved(name) || raw === undefined || !raw.trim()) continue;
    const p = resolveEnvName(name, known);
    // A variable that names nothing is reported by `orchestrator config show` and doctor.
    if (p && p[0] === 'providers' && p.length >= 2 && settable(p)) vars.push({ name, raw: raw.trim(), path: p });
  }
  vars.sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));

  /** Entries a variable changed: a copy of the file's map, with the variables' keys in it. */
  const overlays = new Map<string, EntrySource>();
  const report = (r: FileReader): void => {
    for (const w of r.warnings) if (!warnings.includes(w)) warnings.push(w);
  };
  for (const v of vars) {
    const label = `env ${v.name}`;
    const name = v.path[1];
    if (v.path.length === 2) {
      const doc = entryDocument(v.raw);
      const r = new FileReader(label, []);
      const nameNode = new Scalar(name);
      const entry = readEntry(r, doc, name, nameNode, doc.contents);
      report(r);
      overlays.delete(name);
      if (entry) {
        providers[name] = entry;
        sources.set(name, { r, doc, nameNode, node: doc.contents as YAMLMap });
      }
      continue;
    }
    const key = v.path[2] as ProviderKey;
    let o = overlays.get(name);
    if (!o) {
      const base = sources.get(name);
      if (base) o = { r: new FileReader(base.r.file, [], base.r.lines), doc: base.doc, nameNode: base.nameNode, node: base.node.clone() as YAMLMap };
      else {
        const doc = new Document({});
        o = { r: new FileReader(label, []), doc, nameNode: new Scalar(name), node: doc.contents as YAMLMap };
      }
      overlays.set(name, o);
    }
    const pair = o.doc.createPair(key, valueOf(key, v.raw));
    o.r.labels.set(pair.key, label);
    if (pair.value) o.r.labels.set(pair.value, label);
    o.node.items = [...o.node.items.filter((p) => keyName(p.key) !== key), pair];
    o.r.warnings.length = 0;
    const entry = readEntry(o.r, o.doc, name, o.nameNode, o.node);
    report(o.r);
    if (entry) providers[name] = entry;
  }
}
