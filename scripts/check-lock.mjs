#!/usr/bin/env node
/**
 * Fails when the lock tree can go stale by itself: a package that depends on `latest`, `*`, an empty
 * range, a URL, a git reference or a GitHub shorthand, unless the root package.json pins that name
 * with an exact version in `overrides`. Such a dependency makes `npm ci` fail the day the package
 * publishes ("lock file's X does not satisfy X"). It also fails when a package in the lock was
 * resolved from somewhere other than the npm registry.
 *
 * Reads only package.json and package-lock.json (no dependencies), so CI runs it before `npm ci`.
 * Usage: node scripts/check-lock.mjs [DIR]   (exit 0: clean; 1: floating dependencies; 2: bad input)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.resolve(process.argv[2] ?? '.');
function readJson(file) {
  const p = path.join(dir, file);
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    console.error(`check-lock: cannot read ${p}: ${e.message}`);
    process.exit(2);
  }
}
const pkg = readJson('package.json');
const lock = readJson('package-lock.json');

/** Names pinned to an exact version by the root's `overrides` (at any depth of nesting). */
const pinned = new Set();
const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
(function collect(o) {
  for (const [k, v] of Object.entries(o ?? {})) {
    if (typeof v === 'string') {
      if (EXACT.test(v)) pinned.add(k.replace(/@[^@/]*$/, '') || k);
    } else if (v && typeof v === 'object') {
      if (typeof v['.'] === 'string' && EXACT.test(v['.'])) pinned.add(k);
      collect(v);
    }
  }
})(pkg.overrides);

/** Why a range floats, or undefined when it is a registry semver range. */
export function floats(spec) {
  const s = String(spec).trim();
  if (s === '' || s === '*' || s === 'x' || s === 'X' || s === 'latest' || s === 'next') return `"${s}"`;
  if (/^(https?|git|git\+[a-z]+|ssh|file):/i.test(s)) return `a URL (${s})`;
  if (/^(github|gitlab|bitbucket|gist):/i.test(s)) return `a git reference (${s})`;
  if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(#.*)?$/.test(s)) return `a GitHub shorthand (${s})`;
  if (/^npm:/.test(s)) return floats(s.replace(/^npm:(@?[^@]+)@?/, '') || '*');
  if (/^[a-z][a-z0-9-]*$/i.test(s) && !/^\d/.test(s)) return `the dist-tag "${s}"`;
  return undefined;
}

const problems = [];
for (const [where, entry] of Object.entries(lock.packages ?? {})) {
  const owner = where === '' ? '(the root package.json)' : where.replace(/^.*node_modules\//, '');
  const lists = [entry.dependencies, entry.optionalDependencies];
  // A required peer is installed too; an optional one only when something else brings it.
  const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m?.optional).map(([n]) => n));
  lists.push(Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !optionalPeers.has(n))));
  for (const deps of lists) {
    for (const [name, spec] of Object.entries(deps ?? {})) {
      const why = floats(spec);
      if (why && !pinned.has(name)) problems.push(`${owner} depends on ${name}@${spec}: ${why}`);
    }
  }
  if (where !== '' && entry.resolved && !entry.link && !/^https:\/\/registry\.npmjs\.org\//.test(entry.resolved)) {
    problems.push(`${owner} is resolved from ${entry.resolved}, not the npm registry`);
  }
}

if (problems.length) {
  console.error(`check-lock: ${problems.length} dependenc${problems.length === 1 ? 'y floats' : 'ies float'}; a fresh \`npm ci\` breaks the day they publish:`);
  for (const p of problems) console.error(`  - ${p}`);
  console.error('Fix: pin each named package to an exact version in package.json "overrides" (then `npm install`), or drop the dependency that asks for it.');
  process.exit(1);
}
console.log(`check-lock: ${Object.keys(lock.packages ?? {}).length - 1} packages in the lock, none floating.`);
