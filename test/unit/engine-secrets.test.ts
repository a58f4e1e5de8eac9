import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { base64Forms, hexForms, Masker, resolveSecrets } from '../../server/src/engine/secrets';
import { SubstringIndex } from '../../server/src/engine/substrings';

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

describe('Masker: pieces of a secret', () => {
  const secret = 's3cr3t-value-123';

  it("masks the value's start that JSON.parse quotes in its error message", () => {
    const m = new Masker([secret]);
    let message = '';
    try {
      JSON.parse(secret);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.ok(message.includes(secret.slice(0, 10)), message);
    const masked = m.mask(`its 'if' could not be evaluated: ${message}`);
    assert.ok(!masked.includes(secret.slice(0, 6)) && !masked.includes('s3cr3t'), masked);
    assert.match(masked, /\*\*\*/);
  });

  it('masks any 6+ characters of a value anywhere in text, and 3+ at the edges of a line', () => {
    const m = new Masker([secret]);
    assert.equal(m.mask('x alue-12 y'), 'x *** y');
    assert.equal(m.mask('x t-valu y'), 'x *** y');
    assert.equal(m.mask('x t-val y'), 'x t-val y', 'five characters inside a line are left');
    assert.equal(m.mask('s3c'), '***', 'a line that is the start of a value');
    assert.equal(m.mask('token: s3cr'), 'token: ***');
    assert.equal(m.mask('123 and more'), '*** and more', 'a line that starts with the end of a value');
    assert.equal(m.mask('12 and more'), '12 and more', 'two characters are not masked');
    assert.equal(m.mask('plain text'), 'plain text');
  });

  it('masks hex forms, whole and in pieces (xxd -p, od, hexdump -C)', () => {
    const m = new Masker([secret]);
    const { contiguous, spaced } = hexForms(secret);
    for (const h of [...contiguous, ...spaced]) assert.equal(m.mask(`dump ${h} end`), 'dump *** end', h);
    // xxd -p wraps at 60 hex digits; od prints 16 bytes a line; hexdump -C splits at 8 bytes.
    assert.equal(m.mask(contiguous[0].slice(0, 14)), '***');
    assert.equal(m.mask(`0000 ${spaced[0].slice(0, 23)}  ${spaced[0].slice(24)} |x|`), '0000 *** |x|');
    assert.equal(m.mask(`0000 ${spaced[1].slice(0, 17)}`), '0000 ***', 'six bytes, upper case');
  });

  it('maskValue and data keys in maskDeep mask only whole values: ids, statuses and inputs keep working', () => {
    const m = new Masker(['deploy-key-123456', 'succeeded-token']);
    assert.equal(m.maskValue('deploy'), 'deploy');
    assert.equal(m.mask('deploy-key'), '***');
    const data = { status: 'succeeded', instances: [{ id: 'deploy-key', stepId: 'deploy-key' }], inputs: { env: 'deploy-key-1' }, reason: 'deploy-key-1 failed', step: 'deploy-key-123456' };
    assert.deepEqual(m.maskDeep(data), { status: 'succeeded', instances: [{ id: 'deploy-key', stepId: 'deploy-key' }], inputs: { env: 'deploy-key-1' }, reason: '*** failed', step: '***' });
  });

  it('maskPrefix never cuts a piece in two: a value split across a long line is masked', () => {
    const m = new Masker([secret]);
    const line = 'a'.repeat(100) + secret + 'b'.repeat(50);
    let out = '';
    let rest = '';
    for (let i = 0; i < line.length; i += 7) {
      const r = m.maskPrefix(rest + line.slice(i, i + 7));
      out += r.masked;
      rest = r.rest;
    }
    out += m.mask(rest);
    assert.equal(out, 'a'.repeat(100) + '***' + 'b'.repeat(50));
  });

  it('SubstringIndex finds exactly the runs a brute force finds', () => {
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 200; round++) {
      const source = Array.from({ length: 1 + rnd(20) }, () => 'abc'[rnd(3)]).join('');
      const text = Array.from({ length: rnd(30) }, () => 'abcd'[rnd(4)]).join('');
      const min = 1 + rnd(4);
      const covered = (spans: [number, number][]) => {
        const c = new Array<boolean>(text.length).fill(false);
        for (const [s, e] of spans) for (let i = s; i < e; i++) c[i] = true;
        return c.map((x) => (x ? '1' : '0')).join('');
      };
      const brute: [number, number][] = [];
      for (let s = 0; s < text.length; s++) for (let e = s + min; e <= text.length; e++) if (source.includes(text.slice(s, e))) brute.push([s, e]);
      assert.equal(covered(new SubstringIndex(source).spans(text, min)), covered(brute), `${source} in ${text}, min ${min}`);
    }
  });
});
