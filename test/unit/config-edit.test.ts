/**
 * config/edit.ts on real files: each change is a splice that leaves every other byte of the file as
 * it was (comments, spacing, flow maps), the file's mode and a symlink are kept, and a value that
 * does not fit changes nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigEditError, setConfigValue } from '../../server/src/config/edit';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-edit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes `before`, sets key=value, returns the file's text after. */
function set(before: string | undefined, key: string, value: string): string {
  const file = path.join(dir, `c${n++}`, '.orchestrator', 'config.yaml');
  if (before !== undefined) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, before);
  }
  setConfigValue(file, key, value);
  return fs.readFileSync(file, 'utf8');
}

const FILE = [
  '# Orchestrator settings', //                                 1
  'concurrency:   4      # four at once', //                    2
  '', //                                                        3
  'retention:', //                                              4
  '  keep: 10   # ten sessions', //                             5
  '  # max_age: 30d', //                                        6
  'providers:', //                                              7
  '  local: { type: openai,  base_url: "http://x:1/v1" }', //   8
  '  other:', //                                                9
  "    type: 'command'", //                                     10
  '    command: [a,  b]', //                                    11
  '    env:', //                                                12
  '      A: "1"', //                                            13
  '  empty:', //                                                14
  '# the end', //                                               15
  '',
].join('\n');

describe('config set: splices', () => {
  const cases: [string, string, (t: string) => string][] = [
    ['concurrency', '8', (t) => t.replace('concurrency:   4  ', 'concurrency:   8  ')],
    ['retention.max_age', '30d', (t) => t.replace('# ten sessions\n', '# ten sessions\n  max_age: 30d\n')],
    ['providers.local.model', '1.5', (t) => t.replace('"http://x:1/v1" }', '"http://x:1/v1", model: "1.5" }')],
    ['providers.other.args', '[--x, y z]', (t) => t.replace('      A: "1"\n', '      A: "1"\n    args: [ --x, y z ]\n')],
    ['providers.other.command', 'claude', (t) => t.replace('command: [a,  b]', 'command: claude')],
    ['providers.other.env', '{B: "2"}', (t) => t.replace('      A: "1"\n', '      B: "2"\n')],
    ['providers.empty', '{type: codex}', (t) => t.replace('  empty:\n', '  empty: { type: codex }\n')],
    ['providers.new.model', 'm', (t) => t.replace('  empty:\n', '  empty:\n  new:\n    model: m\n')],
    ['prices.gpt-4.1', '{input: 2, output: 8}', (t) => t.replace('# the end\n', 'prices:\n  gpt-4.1:\n    input: 2\n    output: 8\n# the end\n')],
  ];
  for (const [key, value, expected] of cases) {
    it(`${key} = ${value}`, () => assert.equal(set(FILE, key, value), expected(FILE)));
  }

  it('a key without a value (a comment after it), an explicit null, an empty section, a commented-out file, no file', () => {
    assert.equal(set('retention:\n  keep:   # how many\n', 'retention.keep', '5'), 'retention:\n  keep:   5 # how many\n');
    assert.equal(set('retention: ~   # none\n', 'retention.keep', '5'), 'retention: { keep: 5 }   # none\n');
    assert.equal(set('retention:\nconcurrency: 2\n', 'retention.keep', '5'), 'retention:\n  keep: 5\nconcurrency: 2\n');
    assert.equal(set('# concurrency: 4\n# retention:\n#   keep: 100\n', 'retention.keep', '5'), '# concurrency: 4\n# retention:\n#   keep: 100\nretention:\n  keep: 5\n');
    assert.equal(set('concurrency: 2', 'stuck_after', '90s'), 'concurrency: 2\nstuck_after: 90s\n', 'a file without a final newline');
    assert.equal(set(undefined, 'retention.max_size', '2GB'), 'retention:\n  max_size: 2GB\n');
  });

  it('keeps four-space indentation, and the file mode; writes through a symlink', () => {
    assert.equal(set('retention:\n    keep: 1\n', 'retention.max_age', '7d'), 'retention:\n    keep: 1\n    max_age: 7d\n');
    assert.equal(set('concurrency: 2\n', 'retention.keep', '1'), 'concurrency: 2\nretention:\n  keep: 1\n');
    const real = path.join(dir, 'dotfiles-config.yaml');
    fs.writeFileSync(real, 'concurrency: 2\n');
    fs.chmodSync(real, 0o600);
    const link = path.join(dir, 'linked', '.orchestrator', 'config.yaml');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(real, link);
    setConfigValue(link, 'concurrency', '3');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link stays a link');
    assert.equal(fs.readFileSync(real, 'utf8'), 'concurrency: 3\n');
    assert.equal(fs.statSync(real).mode & 0o777, 0o600);
  });

  it('a bad key or value, an incomplete entry, a file that is not a map: a ConfigEditError and the file untouched', () => {
    const file = path.join(dir, 'bad', 'config.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (const [text, key, value, message] of [
      [FILE, 'retention.kep', '1', /'retention\.kep' is not a setting\. Did you mean 'retention\.keep'\?/],
      [FILE, 'retention.keep', '-1', /retention\.keep is '-1': give a whole number from 0/],
      [FILE, 'providers.x', '{type: openai, modle: m}', /unknown key 'modle' in providers\.x\. Did you mean 'model'\?/],
      [FILE, 'prices.m.input', '1', /prices\.m needs output/],
      ['retention: 5\n', 'retention.keep', '1', /retention in .* is not a map: fix it first/],
      ['- a\n- b\n', 'concurrency', '1', /is not a map of settings: fix it first/],
      ['a: [\n', 'concurrency', '1', /does not parse \(line 2: .*\): fix it first/],
    ] as const) {
      fs.writeFileSync(file, text);
      assert.throws(() => setConfigValue(file, key, value), (e: unknown) => e instanceof ConfigEditError && message.test(e.message));
      assert.equal(fs.readFileSync(file, 'utf8'), text);
    }
  });
});
