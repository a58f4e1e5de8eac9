import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkCache, cut, parseChunked } from '../../server/src/workflow/chunked';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { parseYaml } from '../../server/src/workflow/yamlTree';
import { yaml } from '../helpers/marked';

function workflow(n: number): string {
  let s = '# a comment first\nversion: 1\nname: big\ninputs:\n  task: { default: x }\nsteps:\n  # steps follow\n';
  for (let i = 0; i < n; i++) {
    s += `  - id: s${i}\n    name: "Step ${i}"\n`;
    if (i) s += `    needs: [s${i - 1}]\n`;
    s += i % 2 ? `    run: |\n      echo "\${{ inputs.task }}"\n\n      - not an item: it is script text\n` : `    run: echo ${i} # trailing\n`;
  }
  return s + 'concurrency: 2\n';
}

const SHAPES = [
  workflow(5),
  yaml(`
    name: p
    pipeline:
    - stage: a
      run: echo
    - stage: b
      parallel:
        - { id: x, run: echo }
        - id: y
          run: echo
    description: after the list
  `),
  'name: x\nsteps: [ { id: a, run: echo } ]\n',
  'name: x\nsteps:\n  - id: a\n    run: "multi\n  - line quoted"\n',
  'name: x\nsteps:\n  - &s { id: a, run: echo }\n  - *s\n',
  'name: x\nsteps:\n  - id: a\n    run: echo\nname: again\n',
  '%YAML 1.2\n---\nname: x\nsteps: []\n',
  '- just\n- a list\n',
  'name: x\nsteps:\n  - id: a\n run: bad indent\n',
  'name: x\nenv:\n  A: 1\n  B: 2\n  A: 3\nsteps:\n  - id: a\n    run: echo\n    run: again\n  - { id: b, run: echo, id: c }\n',
  'name: x\nenv:\n  1: a\n  "1": b\n  0x1: c\n  ~: d\n  null: e\nsteps:\n  - id: a\n    run: echo\n',
  '',
  '\n\n# only comments\n',
];

describe('chunked parsing', () => {
  it('gives exactly the tree and problems of a whole parse', () => {
    for (const text of SHAPES) {
      const chunked = parseChunked(text);
      const whole = parseYaml(text);
      assert.deepEqual(chunked.root, whole.root, text);
      assert.deepEqual(chunked.problems, whole.problems, text);
    }
  });

  it('every prefix of a workflow parses the same both ways', () => {
    const text = workflow(4);
    for (let i = 0; i <= text.length; i += 3) {
      const t = text.slice(0, i);
      const c = parseChunked(t);
      const w = parseYaml(t);
      assert.deepEqual(c.root, w.root, `prefix ${i}: ${JSON.stringify(t)}`);
      assert.deepEqual(c.problems, w.problems, `prefix ${i}`);
    }
  });

  it('cuts at top-level keys and at list items only', () => {
    const text = workflow(3);
    const chunks = cut(text)!;
    const heads = chunks.map((c) => text.slice(c.start, c.end).split('\n')[0]);
    assert.deepEqual(heads, ['# a comment first', 'name: big', 'inputs:', 'steps:', '  - id: s0', '  - id: s1', '  - id: s2', 'concurrency: 2']);
    assert.equal(parseChunked(text).chunked, true);
  });

  it('falls back to a whole parse for shapes it does not cut', () => {
    for (const text of ['%YAML 1.2\n---\nname: x\n', '- a\n- b\n', '{ name: x }\n', 'name: x\nsteps:\n  - id: a\n    run: echo\nname: again\n']) {
      assert.equal(parseChunked(text).chunked, false, text);
    }
  });

  it('a file whose only problems are duplicate keys is parsed once, in chunks', () => {
    let text = 'name: dup\nenv:\n';
    for (let i = 0; i < 1_000; i++) text += `  KEY_${i}: v\n`;
    text += '  KEY_500: again\nsteps:\n  - id: a\n    run: echo\n    run: twice\n  - id: b\n    run: echo\n';
    const cache = new ChunkCache();
    const chunked = parseChunked(text, cache);
    // Every chunk parsed exactly once and no whole parse: the chunks' problems are the result.
    assert.equal(chunked.chunked, true);
    assert.equal(cache.misses, cut(text)!.length);
    const whole = parseYaml(text);
    assert.deepEqual(chunked.root, whole.root);
    assert.deepEqual(chunked.problems, whole.problems);
    assert.deepEqual(
      chunked.problems.map((p) => [text.slice(p.span.start, p.span.end), p.message]),
      [
        ['KEY_500', "duplicate key 'KEY_500': YAML keeps one value per key: rename or remove one of them"],
        ['run', "duplicate key 'run': YAML keeps one value per key: rename or remove one of them"],
      ],
    );
  });

  it('an edit re-parses only the chunk it touched', () => {
    const text = workflow(200);
    const cache = new ChunkCache();
    const first = validateWorkflow(text, { cache });
    assert.equal(first.chunked, true);
    const cold = cache.misses;
    assert.ok(cold > 200);
    const edited = text.replace('name: "Step 100"', 'name: "Step one hundred"');
    const second = validateWorkflow(edited, { cache });
    assert.equal(cache.misses - cold, 1, 'one chunk re-parsed');
    assert.deepEqual(second.root, parseYaml(edited).root, 'offsets after the edit are shifted right');
    assert.deepEqual(second.problems, []);
    // An edit that breaks a chunk gives the whole parser's error.
    const broken = validateWorkflow(edited.replace('name: "Step 50"', 'name: "Step 50'), { cache });
    assert.equal(broken.chunked, false);
    assert.deepEqual(broken.problems.map((p) => p.code), ['yaml-syntax']);
  });
});
