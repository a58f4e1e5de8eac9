/**
 * The ORCHESTRATOR_* variable of every setting, by one rule: `ORCHESTRATOR_` + the setting's
 * dotted path in upper case, with every character other than a letter or a digit made `_`:
 *
 *   concurrency                    ORCHESTRATOR_CONCURRENCY
 *   retention.max_age              ORCHESTRATOR_RETENTION_MAX_AGE
 *   providers.work-claude.model    ORCHESTRATOR_PROVIDERS_WORK_CLAUDE_MODEL
 *   providers.local                ORCHESTRATOR_PROVIDERS_LOCAL   (the whole entry, as YAML)
 *
 * Read back, an entry's name is matched to the names the config files (and, for providers, the
 * built-in ones) have; a name no file has is taken in lower case (`MY_TOOL` → `my_tool`).
 * Variables the orchestrator sets or reads for other purposes are not settings (RESERVED).
 */
import { dotted, entrySchema, fixedLeafPaths, kindOf, schemaAt, shapeOf } from './nav';
import { ConfigSchema } from './schema';
import type { z } from 'zod';
import { closest } from '../workflow/suggest';

export const ENV_PREFIX = 'ORCHESTRATOR_';

/** ORCHESTRATOR_* names that are not settings: secrets, what steps get, test hooks, the repository. */
export const RESERVED = {
  prefixes: ['SECRET_', 'TEST_'],
  names: ['REPO', 'OUTPUT', 'FINDINGS', 'SESSION_ID', 'STEP_ID', 'ATTEMPT', 'STEP_TOKEN', 'DEBOUNCE_MS'],
};

const norm = (seg: string): string => seg.toUpperCase().replace(/[^A-Z0-9]/g, '_');

export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(norm).join('_');
}

export function isReserved(name: string): boolean {
  if (!name.startsWith(ENV_PREFIX)) return true;
  const rest = name.slice(ENV_PREFIX.length);
  return RESERVED.prefixes.some((p) => rest.startsWith(p)) || RESERVED.names.includes(rest);
}

export type Known = (section: string) => Iterable<string>;

/**
 * The path a variable sets, or undefined when it names no setting. Only a setting's value or a
 * whole entry (`providers.local`) can be set; a section (`ORCHESTRATOR_RETENTION`) is reported
 * by the caller.
 */
export function resolveEnvName(name: string, known: Known): string[] | undefined {
  if (!name.startsWith(ENV_PREFIX)) return undefined;
  return resolveIn(name.slice(ENV_PREFIX.length), ConfigSchema, [], known);
}

function resolveIn(rest: string, s: z.ZodType, at: string[], known: Known): string[] | undefined {
  const kind = kindOf(s);
  if (kind === 'object') {
    for (const [k, child] of Object.entries(shapeOf(s))) {
      const K = norm(k);
      if (rest === K) return [...at, k];
      if (rest.startsWith(`${K}_`)) {
        const r = resolveIn(rest.slice(K.length + 1), child, [...at, k], known);
        if (r) return r;
      }
    }
    return undefined;
  }
  if (kind !== 'entries') return undefined;
  const entry = entrySchema(s);
  let best: string[] | undefined;
  for (const n of known(at[0])) {
    const N = norm(n);
    const r = rest === N ? [...at, n] : rest.startsWith(`${N}_`) ? resolveIn(rest.slice(N.length + 1), entry, [...at, n], known) : undefined;
    if (r && (!best || r.length > best.length)) best = r;
  }
  if (best) return best;
  // A name no file has: the longest key that ends the variable is its key, the rest its name.
  const keys = Object.keys(shapeOf(entry)).sort((a, b) => b.length - a.length);
  for (const k of keys) {
    const K = norm(k);
    if (rest.length > K.length + 1 && rest.endsWith(`_${K}`)) return [...at, rest.slice(0, -(K.length + 1)).toLowerCase(), k];
  }
  return rest ? [...at, rest.toLowerCase()] : undefined;
}

/** Whether a variable may set this path: a setting's value, or a whole entry. */
export function settable(path: readonly string[]): boolean {
  const s = schemaAt(path);
  if (!s) return false;
  if (kindOf(s) === 'value') return true;
  const parent = schemaAt(path.slice(0, -1));
  return !!parent && path.length > 0 && kindOf(parent) === 'entries';
}

/** The variables of the settings there are (for did-you-mean and the docs). */
export function knownEnvNames(known: Known): string[] {
  const names = fixedLeafPaths().map(envName);
  for (const [section, s] of Object.entries(ConfigSchema.shape)) {
    if (kindOf(s) !== 'entries') continue;
    for (const n of known(section)) {
      names.push(envName([section, n]));
      for (const k of Object.keys(shapeOf(entrySchema(s)))) names.push(envName([section, n, k]));
    }
  }
  return names;
}

/** Why a variable is not read, with a did-you-mean; undefined when it sets something. */
export function envNameProblem(name: string, path: string[] | undefined, known: Known): string | undefined {
  if (path && settable(path)) return undefined;
  if (path) {
    const leaves = fixedLeafPaths().filter((p) => dotted(p).startsWith(`${dotted(path)}.`));
    return `${name} sets the whole of ${dotted(path)}, which is not read from a variable: set its settings one by one (${leaves.map(envName).join(', ') || `${envName([...path, 'NAME'])} for an entry`})`;
  }
  const near = closest(name, knownEnvNames(known));
  return `${name} is not a setting, it is ignored.${near ? ` Did you mean ${near}?` : ' The variables are named after the settings (docs/configuration.md)'}`;
}
