/**
 * The providers of the config files and the environment: the home and repository files (each
 * entry read and checked key by key in providerConfig.ts; the repository's entries win), then the
 * ORCHESTRATOR_PROVIDERS_* variables (providerEnv.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMap, isScalar, parseDocument, type Node, type YAMLMap } from 'yaml';
import { FileReader, pair, readEntry, type ConfiguredProvider, type EntrySource, type ProviderConfigs } from './providerConfig';
import { applyProviderEnv } from './providerEnv';

function readFile(file: string, providers: Record<string, ConfiguredProvider>, warnings: string[], sources: Map<string, EntrySource>): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const r = new FileReader(file, warnings);
  const doc = parseDocument(text, { lineCounter: r.lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    warnings.push(`${file}:${e.linePos?.[0].line ?? 1}: does not parse (${e.message.split('\n')[0]}): its providers are ignored`);
    return;
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return;
  if (!isMap(root)) {
    r.warn(root, 'the file must be a map (providers: ...): it is ignored');
    return;
  }
  const list = pair(root, 'providers');
  if (list === undefined || (isScalar(list) && list.value === null)) return;
  if (!isMap(list)) {
    r.warn(list, 'providers must be a map of names to settings: it is ignored');
    return;
  }
  for (const p of list.items) {
    const nameNode = p.key as Node;
    const name = isScalar(nameNode) ? String(nameNode.value) : String(nameNode);
    const entry = readEntry(r, doc, name, nameNode, p.value);
    if (entry) {
      providers[name] = entry;
      sources.set(name, { r, doc, nameNode, node: p.value as YAMLMap });
    }
  }
}

/**
 * Reads the providers of the home and repository config files (the repository's win), then the
 * ORCHESTRATOR_PROVIDERS_* variables (a whole entry, or one key of one: docs/configuration.md).
 */
export function loadProviderConfigs(repoRoot: string, homeDir = os.homedir(), env: NodeJS.ProcessEnv = process.env): ProviderConfigs {
  const providers: Record<string, ConfiguredProvider> = {};
  const warnings: string[] = [];
  const sources = new Map<string, EntrySource>();
  for (const file of [path.join(homeDir, '.orchestrator', 'config.yaml'), path.join(repoRoot, '.orchestrator', 'config.yaml')]) readFile(file, providers, warnings, sources);
  applyProviderEnv(env, providers, warnings, sources);
  return { providers, warnings };
}
