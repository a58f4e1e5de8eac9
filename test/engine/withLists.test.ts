/**
 * `with:` list values of built-in actions: each string item's `${{ }}` is evaluated as a scalar
 * value's is (through the real engine and git/merge), and checked at validation as scalar values
 * are (contexts, inputs, upstream steps).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { expectProblems } from '../helpers/marked';
import { cleanupRepos, runToRest, statuses } from './helpers';
import { makeGitRepo, showAt } from './gitRepo';

after(cleanupRepos);

const flow = (from: string): string => `name: lists
inputs:
  second: { default: frontend }
steps:
  - id: backend
    workspace: worktree
    run: sed -i 's/a2/A2/' src/a.txt
  - id: frontend
    workspace: worktree
    run: sed -i 's/b2/B2/' src/b.txt
  - id: pick
    run: echo "which=backend" >> "$ORCHESTRATOR_OUTPUT"
  - id: integrate
    needs: [backend, frontend, pick]
    uses: git/merge
    with: { from: ${from} }
`;

describe('with: lists in the engine', () => {
  it('evaluates the expressions of each item (inputs, step outputs)', async () => {
    const r = makeGitRepo(flow(`["\${{ steps.pick.outputs.which }}", "\${{ inputs.second }}"]`));
    const f = await runToRest(r);
    assert.equal(f.state.status, 'succeeded', JSON.stringify(statuses(f.state)) + (f.state.steps.integrate.reason ?? ''));
    const commit = f.state.steps.integrate.outputs.commit;
    assert.equal(showAt(r, commit, 'src/a.txt'), 'a1\nA2\na3\n');
    assert.equal(showAt(r, commit, 'src/b.txt'), 'b1\nB2\nb3\n');
  });

  it('an item whose expression cannot be evaluated fails the step saying so', async () => {
    const r = makeGitRepo(flow(`[backend, "\${{ fromJSON('{') }}"]`));
    const f = await runToRest(r);
    assert.equal(f.state.steps.integrate.status, 'failed');
    assert.match(f.state.steps.integrate.reason ?? '', /^an expression in 'with' could not be evaluated: /);
  });
});

describe('with: lists at validation', () => {
  it('checks each item as a scalar value is checked', () => {
    expectProblems(
      `
      name: x
      steps:
        - id: a
          workspace: worktree
          run: echo
        - id: b
          workspace: worktree
          run: echo
        - id: m
          needs: a
          uses: git/merge
          with: { from: [a, "\${{ [[steps.b.outputs.x]] }}", "\${{ [[inputs.nope]] }}", "\${{ 1 [[+]] }}"] }
      `,
      ['not-upstream', 'unknown-input', 'bad-expression'],
    );
  });
});
