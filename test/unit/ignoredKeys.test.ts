/**
 * `ignored-key` (warning): a key the step's kind does not use (`workspace:` on an approval or a
 * built-in action, `budget:` or `context:` on a step that calls no agent, `findings:` on a step
 * that is not a run step, `verify.attempts` where nobody is asked again) is reported at the key,
 * saying why it does nothing and what to do. Keys where they work say nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectProblems, messages } from '../helpers/marked';
import { validateWorkflow } from '../../server/src/workflow/validate';
import { DiagnosticTag } from 'vscode-languageserver';
import { toDiagnostic } from '../../server/src/host/language';
import { LineIndex } from '../../server/src/workflow/problems';

describe('ignored-key', () => {
  it('workspace on approval steps and built-in actions', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          workspace: worktree
          run: echo
        - id: ok
          needs: a
          approval: Land it?
          [[workspace]]: worktree
        - id: m
          needs: a
          uses: git/merge
          with: { from: [a] }
          [[workspace]]: { worktree: true, from: a }
        - id: land
          needs: [ok, m]
          uses: git/apply
          with: { from: m }
          [[workspace]]: worktree
        - id: s
          uses: findings/sarif
          with: { file: r.sarif }
          [[workspace]]: shared
      `,
      ['ignored-key', 'ignored-key', 'ignored-key', 'ignored-key'],
    );
    assert.ok(v.problems.every((p) => p.severity === 'warning'));
    assert.deepEqual(messages(v), [
      "'workspace' is ignored on this step: an approval step runs nothing, so it needs no workspace: remove workspace",
      "'workspace' is ignored on this step: git/merge always merges in a worktree of its own; only run and agent steps get one: remove workspace",
      "'workspace' is ignored on this step: git/apply works on your repository's own working tree (that is its purpose); only run and agent steps get one: remove workspace",
      "'workspace' is ignored on this step: findings/sarif does not run in a workspace; only run and agent steps get one: remove workspace",
    ]);
  });

  it('budget and context on steps that call no agent; findings on steps that are not run steps', () => {
    const v = expectProblems(
      `
      name: x
      agents: { a: { provider: codex } }
      steps:
        - id: build
          run: make
          [[budget]]: { tokens: 1000 }
          [[context]]: [README.md]
        - id: ask
          approval: ok?
          [[budget]]: { cost: 1 }
        - id: review
          agent: a
          prompt: review
          budget: { tokens: 1000 }
          context: [README.md]
          [[findings]]: out.sarif
        - id: imp
          uses: findings/sarif
          with: { file: a.sarif }
          [[findings]]: a.sarif
      `,
      ['ignored-key', 'ignored-key', 'ignored-key', 'ignored-key', 'ignored-key'],
    );
    assert.deepEqual(messages(v), [
      "'budget' is ignored on this step: budget limits what agent calls spend, and a run step calls no agent: put it on the agent step (or under agents.<name>, or at the top level), or remove it",
      "'context' is ignored on this step: context adds files to an agent's prompt, and a run step has no prompt: remove it (the script can read the files itself)",
      "'budget' is ignored on this step: budget limits what agent calls spend, and an approval step calls no agent: put it on the agent step (or under agents.<name>, or at the top level), or remove it",
      "'findings' is ignored on this step: findings is read only after run steps; an agent reports findings in a fenced findings block of its answer: remove it, or import the file with a findings/sarif step that needs this one",
      "'findings' is ignored on this step: findings/sarif takes its file as with: { file: … }: move the path there",
    ]);
  });

  it('verify.attempts on a run step or git/merge (nobody is asked again)', () => {
    const v = expectProblems(
      `
      name: x
      steps:
        - id: a
          workspace: worktree
          run: make
          verify: { run: make test, [[attempts]]: 3 }
        - id: m
          needs: a
          uses: git/merge
          with: { from: [a] }
          verify: { run: make test, [[attempts]]: 2 }
      `,
      ['ignored-key', 'ignored-key'],
    );
    assert.match(messages(v)[0], /^'attempts' is ignored on this step: only an agent step is asked again when its check fails, and a run step's check runs once \(retry: runs the whole step again\): remove attempts$/);
    assert.match(messages(v)[1], /git\/merge's check runs once/);
  });

  it('says nothing where the keys work, nor on a step whose kind is unclear', () => {
    const text = `name: x
agents: { a: { provider: codex } }
defaults: { workspace: worktree }
steps:
  - id: r
    run: make
    workspace: worktree
    findings: out.sarif
  - id: g
    agent: a
    prompt: go
    workspace: { worktree: true, from: r }
    needs: r
    budget: { turns: 3 }
    context: [README.md]
    verify: { run: make test, attempts: 2 }
`;
    assert.deepEqual(validateWorkflow(text).problems, []);
    const twoKinds = validateWorkflow('name: x\nsteps:\n  - id: s\n    run: a\n    approval: b\n    workspace: worktree\n');
    assert.deepEqual(twoKinds.problems.map((p) => p.code), ['step-kind']);
  });
});

describe('ignored-key in the editor', () => {
  it('is tagged Unnecessary (greyed out like unused code); other problems are not', () => {
    const text = 'name: x\nsteps:\n  - id: a\n    approval: ok?\n    workspace: worktree\n  - id: b\n    needs: [nope]\n    run: echo\n';
    const v = validateWorkflow(text);
    const index = new LineIndex(text);
    const ds = v.problems.map((p) => toDiagnostic(index, p));
    const ignored = ds.find((d) => d.code === 'ignored-key');
    assert.ok(ignored, JSON.stringify(ds));
    assert.deepEqual(ignored.tags, [DiagnosticTag.Unnecessary]);
    const other = ds.find((d) => d.code !== 'ignored-key');
    assert.ok(other, JSON.stringify(ds));
    assert.equal(other.tags, undefined);
  });
});
