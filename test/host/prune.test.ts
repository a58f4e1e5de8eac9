/**
 * `orchestrator/sessions/prune` through the REAL built host (what the Sessions view's *Prune
 * Sessions…* sends): without retention configured it says so (`criteria: null`) and removes
 * nothing; a dry run lists oldest first; the real run removes only the confirmed ids, and the
 * client is told (`sessionRemoved`); configured retention is used when the request names no rule;
 * a bad value is an error with a message that says what to write.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListSessionsRequest, PruneSessionsRequest } from '../../server/src/protocol';
import { cliEnv, makeRepo, runCli, sessionFolders } from '../cli/cliProcess';
import { SessionsClient } from './sessionClient';

describe('the prune request', () => {
  const { root, home } = makeRepo('orch-host-prune');
  const ids: string[] = [];
  let host: SessionsClient;

  before(async () => {
    fs.writeFileSync(path.join(root, 'ok.workflow.yaml'), 'name: ok\nsteps:\n  - id: a\n    run: echo hi\n');
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['run', 'ok.workflow.yaml', '--json'], { cwd: root, env: cliEnv(home) });
      assert.equal(r.code, 0, r.stderr);
      ids.push((JSON.parse(r.stdout) as { id: string }).id);
    }
    host = await SessionsClient.start(root, { env: { HOME: home } });
  });
  after(async () => {
    await host?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('without retention configured and no rule: says so, removes nothing', async () => {
    const r = await host.request(PruneSessionsRequest, { dryRun: true });
    assert.equal(r.criteria, null);
    assert.deepEqual(r.removed, []);
    assert.equal(r.kept, 3);
  });

  it('a dry run lists oldest first; the real run removes only the confirmed ids and tells the client', async () => {
    const dry = await host.request(PruneSessionsRequest, { dryRun: true, keep: 1 });
    assert.equal(dry.criteria, 'keep 1');
    assert.deepEqual(dry.removed.map((s) => s.id), [ids[0], ids[1]]);
    assert.deepEqual(sessionFolders(root).sort(), [...ids].sort());

    const from = host.removed.length;
    const done = await host.request(PruneSessionsRequest, { dryRun: false, keep: 1, ids: [ids[0]] });
    assert.deepEqual(done.removed.map((s) => s.id), [ids[0]]);
    assert.equal(done.freedBytes, dry.removed[0].bytes);
    await host.waitForRemoved(ids[0], from);
    assert.deepEqual((await host.request(ListSessionsRequest, {})).map((s) => s.id), [ids[2], ids[1]]);
  });

  it('uses the configured retention when the request names no rule; a bad value is refused with what to write', async () => {
    fs.mkdirSync(path.join(root, '.orchestrator'), { recursive: true });
    const config = path.join(root, '.orchestrator', 'config.yaml');
    fs.writeFileSync(config, 'retention:\n  keep: 1\n');
    const dry = await host.request(PruneSessionsRequest, { dryRun: true });
    assert.equal(dry.criteria, `retention.keep 1 (${config}:2)`);
    assert.deepEqual(dry.removed.map((s) => s.id), [ids[1]]);
    await assert.rejects(host.request(PruneSessionsRequest, { dryRun: true, olderThan: 'soon' }), /older than is not a duration: write e\.g\. 12h, 7d or 30d, not 'soon'/);
    await assert.rejects(host.request(PruneSessionsRequest, { dryRun: true, status: 'running' }), /prune never removes running sessions/);
  });
});
