/**
 * The Node.js running the orchestrator against the `engines.node` of our package.json (found
 * upward from this file: `server/out/` in the bundle, `server/src/doctor/` from source).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { result, type CheckResult } from './types';

const PACKAGE_NAME = 'synapse-orchestrator';

/** Our package.json's `engines.node`, or undefined when it cannot be found. */
export function requiredNode(from = __dirname): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; engines?: { node?: string } };
      if (pkg.name === PACKAGE_NAME) return pkg.engines?.node;
    } catch {
      // none here, or not JSON: look further up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

type Version = [number, number, number];

function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(v.trim());
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? 0 : Number(s));
  return [n(m[1]), n(m[2]), n(m[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Whether `version` satisfies `range`: the forms package.json ranges use for engines (`>=20`,
 * `>=20.11 <23`, `^20.11`, `~20.11`, `20.x`, alternatives with `||`). Undefined for any other form.
 */
export function satisfies(version: string, range: string): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  const alternatives = range.split('||').map((a) => a.trim());
  let anyKnown = false;
  for (const alt of alternatives) {
    const parts = alt.split(/\s+/).filter(Boolean);
    let ok = true;
    for (const part of parts) {
      const m = /^(>=|<=|>|<|=|\^|~)?(.+)$/.exec(part);
      const want = m && parseVersion(m[2]);
      if (!m || !want) return undefined;
      const c = compare(v, want);
      const op = m[1] ?? (/[x*]/.test(m[2]) || m[2].split('.').length < 3 ? '^' : '=');
      const next: Version = op === '~' ? [want[0], want[1] + 1, 0] : [want[0] + 1, 0, 0];
      const pass =
        op === '>=' ? c >= 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : op === '<' ? c < 0 : op === '=' ? c === 0 : c >= 0 && compare(v, next) < 0;
      ok &&= pass;
    }
    anyKnown = true;
    if (ok) return true;
  }
  return anyKnown ? false : undefined;
}

export function nodeChecks(version = process.versions.node, range = requiredNode()): CheckResult[] {
  const title = 'Node.js version';
  if (!range) return [result('node', title, 'warn', `Node ${version}; the required version is unknown (package.json of ${PACKAGE_NAME} not found beside the orchestrator)`)];
  const ok = satisfies(version, range);
  if (ok === undefined) return [result('node', title, 'warn', `Node ${version}; the requirement '${range}' is not a range doctor can read`)];
  if (ok) return [result('node', title, 'pass', `Node ${version} (needs ${range})`)];
  return [result('node', title, 'fail', `Node ${version} does not satisfy ${range}`, { description: `install Node ${range} (nodejs.org, or your version manager) and run the orchestrator with it` })];
}
