/**
 * The config files (`~/.orchestrator/config.yaml`, `.orchestrator/config.yaml`): each parses, and
 * every key is known (an unknown key is ignored where it is read, so a typo silently does nothing).
 *
 * TODO(config13): replace with loadEffectiveConfig (server/src/config/load.ts): one result per
 * file from its `problems` (errors fail, warnings warn), with the schema's own did-you-mean.
 * Until then this reads what exists today: a YAML parse, the top-level keys below, and the
 * key-by-key warnings of `providers:` (agents/providerConfig.ts) and `prices:` (agents/prices.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { loadPrices } from '../agents/prices';
import { loadProviderConfigs } from '../agents/providerConfig';
import { closest } from '../workflow/suggest';
import { plural, result, type CheckResult, type DoctorOptions } from './types';

/** TODO(config13): the schema's keys. `retention` is issue 13's (prune). */
const TOP_LEVEL_KEYS = ['providers', 'prices', 'retention'];

function shortName(file: string, o: DoctorOptions): string {
  if (file.startsWith(path.join(o.homeDir, '.orchestrator') + path.sep)) return `~${file.slice(o.homeDir.length)}`;
  return path.relative(o.repoRoot, file) || file;
}

export function configChecks(o: DoctorOptions): CheckResult[] {
  const files = [path.join(o.homeDir, '.orchestrator', 'config.yaml'), path.join(o.repoRoot, '.orchestrator', 'config.yaml')].filter((f) => fs.existsSync(f));
  if (!files.length) return [result('config', 'Config files', 'pass', 'no config.yaml: the defaults apply')];
  // Both loaders read both files; their warnings start with the file they are about.
  const warnings = [...loadProviderConfigs(o.repoRoot, o.homeDir).warnings, ...loadPrices(o.repoRoot, o.homeDir).warnings];
  return files.map((file) => {
    const name = shortName(file, o);
    const id = `config:${name}`;
    const title = `Config ${name}`;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      return result(id, title, 'fail', `cannot be read: ${(e as Error).message}`, { description: `make ${file} readable` });
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    if (doc.errors.length) {
      const e = doc.errors[0];
      return result(id, title, 'fail', `${name}:${e.linePos?.[0].line ?? 1}: does not parse: ${e.message.split('\n')[0]}; nothing in it is used`, { description: `fix the YAML of ${file}` });
    }
    const problems: string[] = [];
    if (isMap(doc.contents)) {
      for (const p of doc.contents.items) {
        const key = isScalar(p.key) ? String(p.key.value) : String(p.key);
        if (TOP_LEVEL_KEYS.includes(key)) continue;
        const at = p.key && typeof p.key === 'object' && 'range' in p.key && p.key.range ? lines.linePos(p.key.range[0]).line : 1;
        const guess = closest(key, TOP_LEVEL_KEYS);
        problems.push(`${name}:${at}: unknown key '${key}', ignored.${guess ? ` Did you mean '${guess}'?` : ''} Keys: ${TOP_LEVEL_KEYS.join(', ')}`);
      }
    }
    const mine = warnings.filter((w) => w.startsWith(`${file}:`) || w.startsWith(`${file} `)).map((w) => `${name}${w.slice(file.length)}`);
    problems.push(...mine);
    if (!problems.length) return result(id, title, 'pass', 'parses; every key is known');
    return result(id, title, 'warn', `${plural(problems.length, 'problem')}: ${problems.join('; ')}`, { description: `correct or remove those keys in ${file} (orchestrator providers shows what the providers come to)` });
  });
}
