/**
 * scripts/check-lock.mjs: CI's guard against lock files that go stale by themselves. It runs on the
 * repository's own lock (which must pass) and on made-up locks with each kind of floating dependency.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SCRIPT = path.join(REPO, 'scripts', 'check-lock.mjs');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function check(dir: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

function lockWith(dep: Record<string, unknown>, overrides?: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lock-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', ...(overrides ? { overrides } : {}) }));
  const lock = {
    name: 'x',
    lockfileVersion: 3,
    packages: {
      '': { name: 'x', version: '1.0.0', dependencies: { a: '^1.0.0' } },
      'node_modules/a': { version: '1.0.0', resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz', ...dep },
    },
  };
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
  return dir;
}

describe('check-lock', () => {
  it('passes on the repository\'s own lock file', () => {
    const r = check(REPO);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /none floating/);
  });

  for (const [spec, why] of [
    ['latest', /"latest"/],
    ['*', /"\*"/],
    ['', /""/],
    ['https://example.invalid/b.tgz', /a URL/],
    ['git+https://example.invalid/b.git', /a URL/],
    ['github:someone/b', /a git reference/],
    ['someone/b#main', /a GitHub shorthand/],
    ['beta', /dist-tag "beta"/],
  ] as const) {
    it(`fails on a dependency "${spec}" and names the package`, () => {
      const r = check(lockWith({ dependencies: { b: spec } }));
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /a depends on b@/);
      assert.match(r.out, why);
      assert.match(r.out, /overrides/);
    });
  }

  it('accepts semver ranges, optional peers and names pinned by overrides', () => {
    assert.equal(check(lockWith({ dependencies: { b: '^1.2.3', c: '~2.0.0', d: '>=1 <3', e: '1.x' } })).code, 0);
    assert.equal(check(lockWith({ peerDependencies: { jiti: '*' }, peerDependenciesMeta: { jiti: { optional: true } } })).code, 0);
    assert.equal(check(lockWith({ peerDependencies: { jiti: '*' } })).code, 1, 'a required peer is installed: it counts');
    assert.equal(check(lockWith({ dependencies: { b: 'latest' } }, { b: '4.1.0' })).code, 0);
    assert.equal(check(lockWith({ dependencies: { b: 'latest' } }, { a: { b: '4.1.0' } })).code, 0);
    assert.equal(check(lockWith({ dependencies: { b: 'latest' } }, { b: '^4.1.0' })).code, 1, 'an override that is itself a range does not pin');
  });

  it('fails on a package resolved from outside the registry', () => {
    const r = check(lockWith({ resolved: 'git+ssh://git@example.invalid/a.git#abc' }));
    assert.equal(r.code, 1);
    assert.match(r.out, /not the npm registry/);
  });

  it('says what is wrong with an unreadable lock (exit 2)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lock-'));
    dirs.push(dir);
    const r = check(dir);
    assert.equal(r.code, 2);
    assert.match(r.out, /cannot read .*package\.json/);
  });
});
