/**
 * The host's setup requests (docs/protocol.md, "Setup") against the REAL built host over stdio on
 * a real git repository: `orchestrator/setup/init` (the editor's Create a Workflow: the same
 * files `orchestrator init` writes, then kept), and `orchestrator/secrets/{set,list,test}`: the
 * value reaches the 0600 file and nothing else (not the host's log, not its stderr, not a reply).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InitRequest, ListSecretsRequest, SetSecretRequest, TestSecretRequest } from '../../server/src/protocol';
import { configTemplate } from '../../server/src/config/template';
import { NORMAL_GITIGNORE } from '../../server/src/setup/gitignoreModes';
import { STARTER_WORKFLOW } from '../../server/src/setup/starter';
import { allFiles, gitTemp, modeOf, removeTemps, type GitTemp } from '../cli/setupHelpers';
import { SessionsClient } from './sessionClient';

const VALUE = 'host-Secret-5a4b3c2d';

describe('the host: init and secrets', () => {
  let t: GitTemp;
  let host: SessionsClient;
  before(async () => {
    t = gitTemp('orch-host-setup');
    host = await SessionsClient.start(t.root, { env: { HOME: t.home } });
  });
  after(async () => {
    await host?.stop();
    removeTemps();
  });

  it("Create a Workflow: the starter under the name asked, and the rest of .orchestrator/ as init makes it; a second time, all kept", async () => {
    const r = await host.request(InitRequest, { workflowName: 'review.yaml' });
    assert.equal(r.changed, true);
    assert.equal(r.workflow, path.join(r.repoRoot, '.orchestrator', 'workflows', 'review.yaml'));
    assert.deepEqual(
      r.items.map((i) => `${i.action} ${i.path}`),
      ['created .orchestrator/.gitignore', 'created .orchestrator/config.yaml', 'created .orchestrator/workflows/review.yaml', 'created .orchestrator/meta.json'],
    );
    assert.equal(t.read('.orchestrator/workflows/review.yaml'), STARTER_WORKFLOW);
    assert.equal(t.read('.orchestrator/config.yaml'), configTemplate());
    assert.equal(t.read('.orchestrator/.gitignore'), NORMAL_GITIGNORE);

    const again = await host.request(InitRequest, { workflowName: 'review.yaml' });
    assert.equal(again.changed, false);
    assert.deepEqual(again.items.find((i) => i.path.endsWith('review.yaml')), { path: '.orchestrator/workflows/review.yaml', action: 'kept', note: 'it exists: left as it is' });
    const other = await host.request(InitRequest, { workflowName: 'second.yaml' });
    assert.deepEqual(other.items.filter((i) => i.action !== 'kept').map((i) => i.path), ['.orchestrator/workflows/second.yaml']);
  });

  it('a bad workflow name is an error that says what a name may be', async () => {
    await assert.rejects(host.request(InitRequest, { workflowName: '../escape.yaml' }), /is not a workflow file name: use letters, digits/);
    assert.ok(!fs.existsSync(path.join(t.root, '.orchestrator', 'escape.yaml')));
  });

  it('set writes the 0600 file and nothing else holds the value; list and test say where it resolves from', async () => {
    t.write('.orchestrator/workflows/uses.yaml', 'name: u\nsteps:\n  - id: a\n    run: echo "${{ secrets.HOST_KEY }}"\n');
    const before = await host.request(ListSecretsRequest, {});
    assert.deepEqual(before.secrets.map((s) => [s.name, s.set, s.usedBy]), [['HOST_KEY', false, [{ file: '.orchestrator/workflows/uses.yaml', line: 4 }]]]);

    const r = await host.request(SetSecretRequest, { name: 'HOST_KEY', value: VALUE });
    assert.deepEqual(r, { file: path.join(before.repoRoot, '.orchestrator', 'secrets', 'HOST_KEY'), replaced: false, warnings: [] });
    assert.equal(fs.readFileSync(r.file, 'utf8'), VALUE);
    assert.equal(modeOf(r.file), 0o600);

    const list = await host.request(ListSecretsRequest, {});
    assert.deepEqual(list.secrets[0].from, { kind: 'repo', at: r.file });
    const test = await host.request(TestSecretRequest, { name: 'HOST_KEY' });
    assert.equal(test.resolved, true);
    assert.doesNotMatch(JSON.stringify([list, test]), new RegExp(VALUE));

    await assert.rejects(host.request(SetSecretRequest, { name: 'bad name', value: VALUE }), /'bad name' is not a secret name/);
    await assert.rejects(host.request(SetSecretRequest, { name: 'EMPTY', value: '' }), /empty: nothing was written/);
    for (const f of [...allFiles(t.root), ...allFiles(t.home)]) if (f !== r.file) assert.ok(!fs.readFileSync(f).includes(VALUE), f);
    assert.doesNotMatch(host.lsp.stderr + JSON.stringify(host.lsp.logs), new RegExp(VALUE));
  });
});
