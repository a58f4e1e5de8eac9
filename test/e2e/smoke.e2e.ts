/**
 * Smoke test of the harness: the packaged extension, installed in a real code-server, reports a
 * broken workflow's error in the Problems panel, with the host's message and code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copyFixture, startCodeServer, VSIX, type CodeServer } from './harness';

describe('smoke: diagnostics in a real VS Code', () => {
  let vs: CodeServer;

  before(async () => {
    vs = await startCodeServer({ workspace: copyFixture('workspace'), vsix: VSIX, trust: true });
  });
  after(() => vs?.stop());

  it('shows the unknown need of broken.yaml in the Problems panel', async () => {
    await vs.openFile('.orchestrator/workflows/broken.yaml');
    // As `orchestrator validate` prints it: broken.yaml:8:13 error unknown-need 'biuld' is not a step ...
    const problem = await vs.waitForProblem(/unknown-need/);
    await vs.screenshot('problems.png');
    assert.match(problem, /^Error: 'biuld' is not a step of this workflow\. Did you mean 'build'\? orchestrator\(unknown-need\) \[Ln 8, Col 13\]$/);
    const rows = await vs.problems();
    assert.ok(rows.some((r) => /broken\.yaml/.test(r)), `a file row for broken.yaml:\n${rows.join('\n')}`);
    assert.ok(!rows.some((r) => /hello\.yaml/.test(r)), `nothing about the valid hello.yaml:\n${rows.join('\n')}`);
  });
});
