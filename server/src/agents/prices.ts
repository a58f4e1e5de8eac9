/**
 * Model prices: `prices:` in `~/.orchestrator/config.yaml` and `.orchestrator/config.yaml` (the
 * repository's entry of a model replaces the home one as a whole). No price is built in.
 *
 * ```yaml
 * prices:                          # US dollars per million tokens
 *   claude-sonnet-4-5: { input: 3, output: 15, cache_read: 0.3 }
 *   gpt-5-codex: { input: 1.25, output: 10 }
 * ```
 *
 * A model matches its own entry, else the longest entry it starts with (`claude-sonnet-4-5`
 * prices `claude-sonnet-4-5-20250929`), also after a `provider/` prefix (opencode's
 * `anthropic/claude-sonnet-4-5`). Checked key by key like `providers:`: a bad key or value is a
 * warning naming `file:line`, and only that key (or an entry without input and output) is ignored.
 * ORCHESTRATOR_PRICES_* variables come last and win (readEnv).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parse, parseDocument, type Node } from 'yaml';
import { resolveEnvName, settable } from '../config/envNames';
import { PRICE_KEYS } from '../config/schema';
import type { AgentUsage } from './provider';

export interface Price {
  /** US$ per million input tokens. */
  input: number;
  /** US$ per million output tokens. */
  output: number;
  /** US$ per million tokens read from the prompt cache (default: the input price). */
  cache_read?: number;
  /** `file:line` of the entry. */
  at: string;
}

export interface Prices {
  readonly prices: Record<string, Price>;
  readonly warnings: string[];
}

/** The keys of an entry: the config schema's (server/src/config/schema.ts). */
const KEYS = PRICE_KEYS;
type PriceKey = (typeof KEYS)[number];

/** One key of an entry as read: its value and `file:line` (or `env NAME`). */
interface Item {
  key: string;
  value: unknown;
  at: string;
}

/** An entry from its keys, each checked; undefined (and a warning) without input and output. */
function readEntry(model: string, at: string, items: Item[], warnings: string[]): Price | undefined {
  const where = `prices.${model}`;
  const entry: Partial<Price> = {};
  for (const { key: k, value: v, at: kat } of items) {
    if (!(KEYS as readonly string[]).includes(k)) warnings.push(`${kat}: ${where}.${k}: unknown key, ignored. Keys: ${KEYS.join(', ')}`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) warnings.push(`${kat}: ${where}.${k} must be a number (US$ per million tokens): it is ignored`);
    else entry[k as PriceKey] = v;
  }
  if (entry.input === undefined || entry.output === undefined) {
    warnings.push(`${at}: ${where} needs both input: and output: (US$ per million tokens): it is ignored`);
    return undefined;
  }
  return { ...(entry as Price), at };
}

function readFile(file: string, prices: Record<string, Price>, warnings: string[]): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) return; // providerConfig.ts reports a file that does not parse
  const at = (n: Node | null | undefined): string => (n?.range ? `${file}:${lines.linePos(n.range[0]).line}` : file);
  const root = doc.contents;
  if (!isMap(root)) return;
  const list = root.items.find((p) => isScalar(p.key) && p.key.value === 'prices')?.value as Node | null | undefined;
  if (list === undefined || list === null || (isScalar(list) && list.value === null)) return;
  if (!isMap(list)) {
    warnings.push(`${at(list)}: prices must be a map of models to { input, output } (US$ per million tokens): it is ignored`);
    return;
  }
  for (const p of list.items) {
    const keyNode = p.key as Node;
    const model = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    if (!isMap(p.value)) {
      warnings.push(`${at(keyNode)}: prices.${model} must be a map { input, output, cache_read? } of US$ per million tokens: it is ignored`);
      continue;
    }
    const items = p.value.items.map((kv) => ({ key: isScalar(kv.key) ? String(kv.key.value) : String(kv.key), value: isScalar(kv.value) ? kv.value.value : undefined, at: at(kv.key as Node) }));
    const entry = readEntry(model, at(keyNode), items, warnings);
    if (entry) prices[model] = entry;
  }
}

function yamlOf(raw: string): unknown {
  try {
    return parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * ORCHESTRATOR_PRICES_<MODEL> (a whole entry as YAML, `{input: 3, output: 15}`) and
 * ORCHESTRATOR_PRICES_<MODEL>_<KEY> (one price of an entry) over the files (config/envNames.ts).
 */
function readEnv(env: NodeJS.ProcessEnv, prices: Record<string, Price>, warnings: string[]): void {
  const vars: { name: string; raw: string; path: string[] }[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('ORCHESTRATOR_PRICES_') || raw === undefined || !raw.trim()) continue;
    const p = resolveEnvName(name, (section) => (section === 'prices' ? Object.keys(prices) : []));
    if (p && p[0] === 'prices' && p.length >= 2 && settable(p)) vars.push({ name, raw: raw.trim(), path: p });
  }
  vars.sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));
  for (const { name, raw, path: [, model, key] } of vars) {
    const at = `env ${name}`;
    let items: Item[];
    if (key === undefined) {
      const v = yamlOf(raw);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        warnings.push(`${at}: prices.${model} must be a map { input, output, cache_read? } of US$ per million tokens: it is ignored`);
        continue;
      }
      items = Object.entries(v as Record<string, unknown>).map(([k, value]) => ({ key: k, value, at }));
    } else {
      const old = prices[model];
      const kept = old ? KEYS.filter((k) => k !== key && old[k] !== undefined).map((k) => ({ key: k, value: old[k], at: old.at })) : [];
      items = [...kept, { key, value: yamlOf(raw), at }];
    }
    const entry = readEntry(model, key === undefined ? at : (prices[model]?.at ?? at), items, warnings);
    if (entry) prices[model] = entry;
  }
}

/** The prices of the home and repository config files (the repository's win per model), then the variables. */
export function loadPrices(repoRoot: string, homeDir = os.homedir(), env: NodeJS.ProcessEnv = process.env): Prices {
  const prices: Record<string, Price> = {};
  const warnings: string[] = [];
  for (const file of [path.join(homeDir, '.orchestrator', 'config.yaml'), path.join(repoRoot, '.orchestrator', 'config.yaml')]) readFile(file, prices, warnings);
  readEnv(env, prices, warnings);
  return { prices, warnings };
}

/** The price of a model: its own entry, else the longest entry it starts with (also without a `provider/` prefix). */
export function priceOf(prices: Prices, model: string | undefined): Price | undefined {
  if (!model) return undefined;
  for (const m of model.includes('/') ? [model, model.slice(model.lastIndexOf('/') + 1)] : [model]) {
    if (prices.prices[m]) return prices.prices[m];
    const key = Object.keys(prices.prices)
      .filter((k) => m.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    if (key) return prices.prices[key];
  }
  return undefined;
}

/**
 * What usage costs at a price, in US$. Cache reads are priced at `cache_read` (else the input
 * price); where the tool counts them inside its input tokens (`cacheReadInInput`: codex, gemini,
 * OpenAI), they are taken out of the input first.
 */
export function costAt(price: Price, u: AgentUsage): number {
  const cache = u.cacheReadTokens ?? 0;
  const input = Math.max(0, (u.inputTokens ?? 0) - (u.cacheReadInInput ? cache : 0));
  return (input * price.input + (u.outputTokens ?? 0) * price.output + cache * (price.cache_read ?? price.input)) / 1e6;
}
