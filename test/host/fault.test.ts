/**
 * A bug in one check must not cost the user the other diagnostics, nor the host: the host is
 * started with a fault injected into the `needs` check (ORCHESTRATOR_TEST_FAULT) and must log an
 * internal error, publish what the other checks found, and keep serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshUri, LspClient } from './lspClient';

describe('a crashing check in the real host', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ env: { ORCHESTRATOR_TEST_FAULT: 'needs' } });
  });
  after(async () => {
    await client.stop();
  });

  it('is logged as an internal error and the other diagnostics are still published', async () => {
    const uri = freshUri('fault');
    const pub = await client.openAndWait(uri, 'name: x\nsteps:\n  - id: a\n    needs: [zz]\n    nedds: 1\n    run: echo\n');
    // The unknown-need problem is the faulty check's; the schema problem comes from another check.
    assert.deepEqual(pub.diagnostics.map((d) => d.code), ['schema']);
    assert.ok(client.errorLogs().some((l) => /internal error in the 'needs' check/.test(l)), client.errorLogs().join('\n'));
    const again = await client.openAndWait(freshUri('fault-2'), 'name: y\nsteps: [{ id: b, run: echo, timeout: soon }]\n');
    assert.deepEqual(again.diagnostics.map((d) => d.code), ['bad-duration']);
  });
});
