import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expressionContext, inAgentValue, inNeeds, keyAt, keyContext } from '../../server/src/host/context';

/** Text with the cursor marked by `|`. */
function at(src: string): [string, number] {
  const i = src.indexOf('|');
  return [src.slice(0, i) + src.slice(i + 1), i];
}

describe('cursor context', () => {
  it('key positions: top level, step item, new item, nested maps, parallel items', () => {
    const cases: [string, string[], string][] = [
      ['name: x\nst|', [], 'st'],
      ['name: x\nsteps:\n  - id: a\n    ne|', ['steps', '#'], 'ne'],
      ['name: x\nsteps:\n  - id: a\n    run: x\n  - |', ['steps', '#'], ''],
      ['name: x\nsteps:\n  - id: a\n    retry:\n      max|', ['steps', '#', 'retry'], 'max'],
      ['name: x\npipeline:\n  - stage: b\n    parallel:\n      - id: c\n        ru|', ['pipeline', '#', 'parallel', '#'], 'ru'],
      ['name: x\npipeline:\n  - stage: b\n    |', ['pipeline', '#'], ''],
      ['name: x\nagents:\n  rev:\n    pro|', ['agents', 'rev'], 'pro'],
      ['name: x\nsteps:\n  - id: a\n    # comment\n\n    |', ['steps', '#'], ''],
      ['name: x\nsteps:\n- id: a\n  ti|', ['steps', '#'], 'ti'],
    ];
    for (const [src, path, partial] of cases) {
      const [text, off] = at(src);
      const k = keyContext(text, off);
      assert.ok(k, src);
      assert.deepEqual([k.path, k.partial], [path, partial], src);
    }
  });

  it('not a key position in a value', () => {
    const [text, off] = at('name: x\nsteps:\n  - id: a\n    run: ec|');
    assert.equal(keyContext(text, off), undefined);
  });

  it('the key under the cursor, with its path', () => {
    const [text, off] = at('name: x\nsteps:\n  - id: a\n    time|out: 5m\n');
    const k = keyAt(text, off)!;
    assert.deepEqual(k.path, ['steps', '#', 'timeout']);
    assert.equal(text.slice(k.start, k.end), 'timeout');
  });

  it('needs values: inline, flow list, block list', () => {
    for (const src of ['  - id: b\n    needs: pl|', '  - id: b\n    needs: [a, pl|', 'steps:\n  - id: b\n    needs:\n      - pl|']) {
      const [text, off] = at(src);
      assert.deepEqual(inNeeds(text, off)?.partial, 'pl', src);
    }
    const [text, off] = at('steps:\n  - id: b\n    env:\n      - pl|');
    assert.equal(inNeeds(text, off), undefined);
  });

  it('agent values', () => {
    const [text, off] = at('    agent: rev|');
    assert.equal(inAgentValue(text, off)?.partial, 'rev');
  });

  it('expressions: inside ${{ }} and in if values', () => {
    const cases: [string, string[], string][] = [
      ['run: echo ${{ |', [], ''],
      ['run: echo ${{ inputs.ta|', ['inputs'], 'ta'],
      ['run: echo ${{ steps.plan-a.outputs.|', ['steps', 'plan-a', 'outputs'], ''],
      ['    if: steps.a.st|', ['steps', 'a'], 'st'],
    ];
    for (const [src, chain, partial] of cases) {
      const [text, off] = at(src);
      assert.deepEqual(expressionContext(text, off), { chain, partial, partialStart: off - partial.length }, src);
    }
    const [text, off] = at('run: echo ${{ inputs.x }} and |');
    assert.equal(expressionContext(text, off), undefined);
  });
});
