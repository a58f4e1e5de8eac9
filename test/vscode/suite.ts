/**
 * Runs inside VS Code's extension host (see runTest.ts): activation, registered commands, the
 * Problems panel for a broken workflow, and the Sessions view's data for a real session started
 * through the real host. A tiny sequential runner (no test framework needed in the host).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../client/src/extension';
import { StartSessionRequest } from '../../server/src/protocol';

const EXTENSION_ID = 'synapse.synapse-orchestrator';

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tests: [string, (api: OrchestratorApi) => Promise<void>][] = [
  [
    'every contributed command is registered',
    async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
      const have = new Set(await vscode.commands.getCommands(true));
      const missing = pkg.contributes.commands.map((c) => c.command).filter((c) => !have.has(c));
      assert.deepEqual(missing, []);
    },
  ],
  [
    'a broken workflow gets its diagnostics',
    async () => {
      const uri = vscode.Uri.file(path.join(process.env.ORCH_TEST_WORKSPACE!, '.orchestrator', 'workflows', 'broken.yaml'));
      await vscode.window.showTextDocument(uri);
      const ds = await until('diagnostics on broken.yaml', () => {
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'orchestrator');
        return d.length ? d : undefined;
      });
      assert.ok(ds.some((d) => d.severity === vscode.DiagnosticSeverity.Error));
    },
  ],
  [
    'a session started through the host shows in the Sessions view with its steps',
    async (api) => {
      const uri = vscode.Uri.file(path.join(process.env.ORCH_TEST_WORKSPACE!, '.orchestrator', 'workflows', 'hello.yaml'));
      const { id } = await api.ctx.send(StartSessionRequest, { uri: uri.toString(), inputs: { name: 'electron' } });
      await until('the session to succeed', () => (api.model.summary(id)?.status === 'succeeded' ? true : undefined));
      const roots = await api.sessions.getChildren();
      const row = roots.find((r) => r.kind === 'session' && r.session.id === id);
      assert.ok(row, 'the session row');
      const steps = await api.sessions.getChildren(row);
      assert.ok(steps.length >= 2);
      assert.ok(steps.every((s) => s.kind === 'step' && s.step.status === 'succeeded'));
    },
  ],
];

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<OrchestratorApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  const api = await ext.activate();
  let failed = 0;
  for (const [name, f] of tests) {
    try {
      await f(api);
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}\n  ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  if (failed) throw new Error(`${failed} of ${tests.length} extension-host test(s) failed`);
}
