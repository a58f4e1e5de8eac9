import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { base64Forms, Masker, resolveSecrets } from '../../server/src/engine/secrets';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

describe('resolveSecrets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-secrets-'));
  const repo = path.join(dir, 'repo');
  const home = path.join(dir, 'home');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const put = (root: string, name: string, content: string) => {
    mkdirSync(path.join(root, '.orchestrator', 'secrets'), { recursive: true });
    writeFileSync(path.join(root, '.orchestrator', 'secrets', name), content);
  };
  put(repo, 'API_KEY', 'from-repo\n');
  put(repo, 'DB_PASS', 'repo-db\r\n');
  put(repo, 'MULTI', 'line1\nline2\n\n');
  put(repo, '.gitignore', '*\n');
  put(repo, 'README.md', 'not a secret');
  put(home, 'API_KEY', 'from-home');
  put(home, 'DB_PASS', 'home-db');
  put(home, 'HOME_ONLY', 'h');
  put(home, 'api_key', 'lower');
  mkdirSync(path.join(home, '.orchestrator', 'secrets', 'SUBDIR'));

  it('takes env over repo over home; names are case-sensitive; one trailing newline trimmed', () => {
    const env = { ORCHESTRATOR_SECRET_API_KEY: 'from-env\n', PATH: '/bin', ORCHESTRATOR_SECRET_: 'x', ORCHESTRATOR_SECRET_Token: 'tok' };
    const s = resolveSecrets({ env, repoRoot: repo, homeDir: home });
    assert.deepEqual(Object.fromEntries([...s].sort(([a], [b]) => (a < b ? -1 : 1))), {
      API_KEY: 'from-env\n',
      DB_PASS: 'repo-db',
      HOME_ONLY: 'h',
      MULTI: 'line1\nline2\n',
      Token: 'tok',
      api_key: 'lower',
    });
  });

  it('missing folders are no secrets', () => {
    assert.equal(resolveSecrets({ env: {}, repoRoot: path.join(dir, 'nope'), homeDir: path.join(dir, 'nope2') }).size, 0);
    assert.equal(resolveSecrets({ env: {} }).size, 0);
  });
});

describe('Masker', () => {
  const secret = 'hunter2-Secret!';

  it('masks the value and its base64 forms (standard, URL-safe, padded or not, with a newline)', () => {
    const m = new Masker([secret]);
    const text = `plain ${secret} std ${b64(secret)} url ${b64url(secret)} echo ${b64(secret + '\n')} echo-url ${b64url(secret + '\n')} nopad ${b64(secret).replace(/=+$/, '')} end`;
    assert.equal(m.mask(text), 'plain *** std *** url *** echo *** echo-url *** nopad *** end');
    assert.ok(base64Forms(secret).whole.includes(b64(secret)));
  });

  it('masks a value inside a longer base64 text whatever its alignment (basic auth)', () => {
    const m = new Masker(['s3cr3t-t0ken-value']);
    for (const user of ['u', 'us', 'use', 'user']) {
      const header = `Authorization: Basic ${b64(`${user}:s3cr3t-t0ken-value`)}`;
      const masked = m.mask(header);
      assert.match(masked, /\*\*\*/, header);
      // What is left of the base64 no longer decodes to anything containing the token's middle.
      assert.ok(!Buffer.from(masked.split(' ').pop()!.replace(/\*/g, ''), 'base64').toString('latin1').includes('t0ken'), masked);
    }
  });

  it('masks in JSON text, including JSON-escaped values, and with maskDeep', () => {
    const q = 'pa"ss\\word';
    const m = new Masker([secret, q]);
    const json = JSON.stringify({ token: secret, nested: { list: [`Bearer ${secret}`, 1, true, null] }, q, enc: b64(secret) });
    const masked = m.mask(json);
    assert.ok(!masked.includes(secret) && !masked.includes(b64(secret)));
    assert.deepEqual(JSON.parse(masked), { token: '***', nested: { list: ['Bearer ***', 1, true, null] }, q: '***', enc: '***' });
    const deep = m.maskDeep({ [secret]: secret, arr: [{ x: `a${q}b` }], n: 5, d: undefined });
    assert.deepEqual(deep, { [secret]: '***', arr: [{ x: 'a***b' }], n: 5, d: undefined });
  });

  it('maskDeep copies (the input is untouched), keeps __proto__ as a key and survives cycles', () => {
    const m = new Masker(['abcdef']);
    const input = JSON.parse('{"__proto__":"abcdef","k":["abcdef"]}') as Record<string, unknown>;
    const out = m.maskDeep(input);
    assert.deepEqual(input.k, ['abcdef']);
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, '***');
    const cyclic: Record<string, unknown> = { s: 'xabcdefx' };
    cyclic.self = cyclic;
    const c = m.maskDeep(cyclic);
    assert.equal(c.s, 'x***x');
    assert.equal(c.self, c);
    assert.equal(m.maskDeep('abcdef'), '***');
    assert.equal(m.maskDeep(42), 42);
  });

  it('overlapping secrets: one inside another, and two that overlap, leave no piece behind', () => {
    const m = new Masker(['word', 'password123']);
    assert.equal(m.mask('p=password123 w=word'), 'p=*** w=***');
    const o = new Masker(['abcdef', 'defghi']);
    assert.equal(o.mask('xx abcdefghi yy abcdef defghi'), 'xx *** yy *** ***');
    assert.equal(new Masker(['defghi', 'abcdef']).mask('abcdefghi'), '***');
  });

  it('treats regex special characters literally', () => {
    const s = 'a.b*c+?(d)[e]{2}|^$\\';
    const m = new Masker([s]);
    assert.equal(m.mask(`x ${s} y aXb*c`), 'x *** y aXb*c');
    assert.equal(new Masker(['$&$1']).mask('cost $&$1 now'), 'cost *** now');
  });

  it('short values are masked only as a whole string, never inside text', () => {
    const m = new Masker(['ab', 'x', '']);
    assert.equal(m.mask('abc about tab'), 'abc about tab');
    assert.equal(m.mask('ab'), '***');
    assert.equal(m.mask('  ab\n'), '  ***\n');
    assert.equal(m.mask(b64('ab\n')), '***');
    assert.equal(m.mask(''), '');
    assert.deepEqual(m.maskDeep({ pin: 'ab', other: 'cab' }), { pin: '***', other: 'cab' });
  });

  it('masks each line of a multi-line secret, for callers that mask line by line', () => {
    const key = '-----BEGIN KEY-----\nMIIEabcdefSECRET\n-----END KEY-----';
    const m = new Masker([key]);
    assert.equal(m.mask('MIIEabcdefSECRET'), '***');
    assert.equal(m.mask(`dump: ${key}`), 'dump: ***');
  });

  it('also masks the percent-encoded form; an empty masker changes nothing', () => {
    assert.equal(new Masker(['a b&c=d']).mask('?q=a%20b%26c%3Dd'), '?q=***');
    const none = new Masker([]);
    assert.ok(none.empty);
    assert.equal(none.mask('anything'), 'anything');
  });
});
