/**
 * The configuration: each config file (`~/.orchestrator/config.yaml`, `.orchestrator/config.yaml`)
 * parses and every key in it is known with a valid value (the typed schema, config/load.ts: an
 * unknown key is ignored where it is read, so a typo silently does nothing), plus the checks that
 * depend on a provider's type (agents/providerConfig.ts: a key that does nothing for its type);
 * and every `ORCHESTRATOR_*` variable is a setting with a valid value.
 */
import * as path from 'node:path';
import { loadProviderConfigs } from '../agents/providerLoad';
import { loadEffectiveConfig } from '../config/load';
import { problemText, type ConfigProblem } from '../config/types';
import { plural, result, type CheckResult, type DoctorOptions } from './types';

function shortName(file: string, o: DoctorOptions): string {
  if (file.startsWith(path.join(o.homeDir, '.orchestrator') + path.sep)) return `~${file.slice(o.homeDir.length)}`;
  return path.relative(o.repoRoot, file) || file;
}

export function configChecks(o: DoctorOptions): CheckResult[] {
  const loaded = loadEffectiveConfig({ repoRoot: o.repoRoot, homeDir: o.homeDir, env: o.env });
  // The provider loader's warnings start with the file they are about; the schema's say the same
  // about unknown keys, so only lines the schema did not report are added.
  const typeWarnings = loadProviderConfigs(o.repoRoot, o.homeDir).warnings;
  const out: CheckResult[] = [];
  for (const file of loaded.files) {
    const name = shortName(file, o);
    const id = `config:${name}`;
    const title = `Config ${name}`;
    const mine = loaded.problems.filter((p) => p.file === file);
    const lines = new Set(mine.map((p) => `${p.file}:${p.line}:`));
    const extra = typeWarnings.filter((w) => w.startsWith(`${file}:`) && ![...lines].some((l) => w.startsWith(l)));
    const texts = [...mine.map((p) => relative(problemText(p), file, name)), ...extra.map((w) => relative(w, file, name))];
    if (!texts.length) {
      out.push(result(id, title, 'pass', 'parses; every key is known and valid'));
      continue;
    }
    const failed = mine.some((p) => p.severity === 'error');
    out.push(result(id, title, failed ? 'fail' : 'warn', `${plural(texts.length, 'problem')}: ${texts.join('; ')}`, { description: `correct or remove those keys in ${file} (orchestrator config show --effective shows what each setting comes to, and from where)` }));
  }
  const outside: ConfigProblem[] = loaded.problems.filter((p) => !loaded.files.includes(p.file) && !p.file.endsWith('config.yaml'));
  if (outside.length) {
    const failed = outside.some((p) => p.severity === 'error');
    out.push(result('config:env', 'Config variables', failed ? 'fail' : 'warn', outside.map(problemText).join('; '), { description: 'correct or unset those ORCHESTRATOR_* variables (docs: orchestrator config show --effective)' }));
  }
  // A file that could not be read at all is not in `files`: its problem names it.
  for (const p of loaded.problems.filter((q) => !loaded.files.includes(q.file) && q.file.endsWith('config.yaml'))) {
    const name = shortName(p.file, o);
    out.push(result(`config:${name}`, `Config ${name}`, 'fail', problemText(p), { description: `make ${p.file} readable, or remove it` }));
  }
  if (!out.length) out.push(result('config', 'Config files', 'pass', loaded.files.length ? 'parse; every key is known and valid' : 'no config.yaml: the defaults apply'));
  return out;
}

function relative(text: string, file: string, name: string): string {
  return text.startsWith(file) ? `${name}${text.slice(file.length)}` : text;
}
