/**
 * The doctor requests through the REAL built host over stdio (docs/protocol.md, "Doctor"):
 * `orchestrator/doctor/run` reports the repository's problems (a workflow that does not validate,
 * a secret file others can read); `orchestrator/doctor/fix` applies a fix and checks again. In an
 * untrusted workspace the providers' tools are not run (a probe program the repository's config
 * names would leave a marker file) and no session is resumed; trusted, the probe runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DoctorFixRequest, DoctorRequest, type CheckResult, type DoctorReport } from '../../server/src/protocol';
import { cleanupRepos, makeRepo } from '../engine/helpers';
import { SessionsClient } from './sessionClient';

after(cleanupRepos);

const WORKFLOW = 'name: host-doctor\nagents:\n  a: { provider: mine }\nsteps:\n  - id: a\n    agent: a\n    prompt: hi\n    nedds: [zz]\n';

function check(report: DoctorReport, id: string): CheckResult {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${JSON.stringify(report.checks.map((x) => x.id))}`);
  return c;
}

describe('the host: doctor', { timeout: 120_000 }, () => {
  const repo = makeRepo(WORKFLOW);
  fs.mkdirSync(repo.path('.orchestrator', 'secrets'), { recursive: true });
  fs.writeFileSync(repo.path('.orchestrator', 'secrets', 'API_KEY'), 'sk-host-test\n', { mode: 0o644 });
  fs.chmodSync(repo.path('.orchestrator', 'secrets', 'API_KEY'), 0o644);
  fs.writeFileSync(repo.path('.orchestrator', 'config.yaml'), 'providers:\n  mine:\n    type: command\n    command: [./probe.sh]\n');
  fs.writeFileSync(repo.path('probe.sh'), `#!/bin/sh\ntouch "${repo.path('probed')}"\necho "probe 1.0"\n`, { mode: 0o755 });

  it('untrusted: reports the problems without running any provider tool; a fix applies and the report comes back checked again; resume is refused', async () => {
    const host = await SessionsClient.start(repo.root, { trusted: false, env: { HOME: repo.home } });
    try {
      const report = await host.request(DoctorRequest, {});
      assert.equal(report.ok, false);
      assert.equal(check(report, 'workflow:wf.workflow.yaml').status, 'fail');
      assert.match(check(report, 'workflow:wf.workflow.yaml').detail, /unknown key 'nedds'/);
      const provider = check(report, 'provider:mine');
      assert.match(provider.detail, /^\.\/probe\.sh not checked \(an untrusted workspace runs nothing\)/);
      assert.ok(!fs.existsSync(repo.path('probed')), 'the probe program did not run');
      const secrets = check(report, 'secrets.permissions.repo');
      assert.equal(secrets.status, 'warn');
      assert.equal(secrets.fix?.action, 'chmod-secrets');

      const { outcome, report: after } = await host.request(DoctorFixRequest, { action: 'chmod-secrets' });
      assert.equal(outcome.ok, true, outcome.message);
      assert.equal(fs.statSync(repo.path('.orchestrator', 'secrets', 'API_KEY')).mode & 0o777, 0o600);
      assert.equal(check(after, 'secrets.permissions').status, 'pass');
      assert.equal(check(after, 'workflow:wf.workflow.yaml').status, 'fail', 'the rest is checked again as it is');

      const resume = await host.request(DoctorFixRequest, { action: 'resume:20260101-000000-aaaa' });
      assert.deepEqual(resume.outcome, { action: 'resume:20260101-000000-aaaa', ok: false, message: 'this workspace is not trusted, so nothing runs here: trust the workspace to resume sessions' });
      const bad = await host.request(DoctorFixRequest, { action: 'reboot' });
      assert.equal(bad.outcome.ok, false);
      assert.match(bad.outcome.message, /'reboot' is not a fix doctor knows/);
      assert.ok(host.lsp.alive, 'the host lives on');
    } finally {
      await host.stop();
    }
  });

  it('trusted: the provider\'s tool is asked its version', async () => {
    const host = await SessionsClient.start(repo.root, { env: { HOME: repo.home } });
    try {
      const report = await host.request(DoctorRequest, {});
      assert.equal(check(report, 'provider:mine').detail, `${path.join(repo.root, 'probe.sh')} (probe 1.0); used by wf.workflow.yaml`);
      assert.ok(fs.existsSync(repo.path('probed')));
    } finally {
      await host.stop();
    }
  });
});
