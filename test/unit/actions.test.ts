/**
 * Built-in actions: one table (workflow/actions.ts) that the engine runs from and `validate`
 * checks against: `unknown-action` at the value, `unknown-argument` at the key, a missing
 * required argument as `schema`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTION_NAMES, BUILT_IN_ACTIONS, describeAction, findAction } from '../../server/src/workflow/actions';
import { expectProblems, messages } from '../helpers/marked';

describe('the built-in action table', () => {
  it('names each action once, with typed arguments', () => {
    assert.deepEqual(ACTION_NAMES, ['findings/sarif', 'findings/merge', 'git/merge', 'git/apply']);
    assert.equal(new Set(ACTION_NAMES).size, ACTION_NAMES.length);
    for (const a of BUILT_IN_ACTIONS) for (const w of a.with) assert.ok(['string', 'number', 'boolean', 'list'].includes(w.type));
    const md = describeAction(findAction('findings/sarif')!);
    assert.match(md, /\*\*findings\/sarif\*\*/);
    assert.match(md, /`file` \(string, required\)/);
  });
});

describe('unknown-action', () => {
  it('at the value, with a did-you-mean and the list of built-in actions', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          uses: [[foo/bar]]
        - id: b
          uses: [[findings/sarf]]
          with: { file: x.sarif }
        - id: c
          uses: findings/merge
      `,
      ['unknown-action', 'unknown-action'],
    );
    assert.equal(v.problems[0].severity, 'error');
    assert.deepEqual(messages(v), [
      "unknown action 'foo/bar'. The built-in actions are findings/sarif, findings/merge, git/merge, git/apply; anything else fails when the step runs",
      "unknown action 'findings/sarf'. Did you mean 'findings/sarif'? The built-in actions are findings/sarif, findings/merge, git/merge, git/apply; anything else fails when the step runs",
    ]);
  });

  it('in a pipeline stage, over the whole quoted value', () => {
    expectProblems(
      `
      name: x
      pipeline:
        - stage: import
          uses: [["findings/SARIF"]]
          with: { file: a.sarif }
      `,
      ['unknown-action'],
    );
  });
});

describe('arguments of a built-in action', () => {
  it('a missing required argument is schema, at with (or at uses without with)', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          uses: [[findings/sarif]]
        - id: b
          uses: findings/sarif
          [[with]]: { [[fle]]: x.sarif }
      `,
      ['schema', 'schema', 'unknown-argument'],
    );
    assert.match(messages(v)[0], /^findings\/sarif needs with: \{ file: … \}: file \(Path of the SARIF/);
    assert.equal(messages(v)[2], "findings/sarif has no argument 'fle': it is ignored. Did you mean 'file'? It takes: file.");
    assert.equal(v.problems[2].severity, 'warning');
  });

  it('an alias counts as its argument; an action without arguments says so; a map is not a string', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          uses: findings/sarif
          with: { path: "out/\${{ session.id }}.sarif" }
        - id: b
          uses: findings/merge
          with: { [[label]]: x }
        - id: c
          uses: findings/sarif
          with: { file: [[{ a: 1 }]] }
      `,
      ['unknown-argument', 'schema'],
    );
    assert.equal(messages(v)[0], "findings/merge has no argument 'label': it is ignored. It takes no arguments.");
    assert.equal(messages(v)[1], "'file' of findings/sarif is a string, not a map");
  });
});
