/**
 * The extension-host suite for machines that can download VS Code (@vscode/test-electron fetches
 * a build from Microsoft's update service; this project's CI machine cannot, so there the same
 * extension is tested in code-server by test/e2e). Run: `npm run test:electron`.
 * It copies the e2e fixture workspace to a temp folder, opens it in a fresh VS Code with this
 * extension in development mode, and runs suite.ts inside the extension host.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..', '..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-electron-'));
  fs.cpSync(path.join(root, 'test', 'e2e', 'fixtures', 'workspace'), workspace, { recursive: true });
  try {
    await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(__dirname, 'suite.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
      extensionTestsEnv: { ORCH_TEST_WORKSPACE: workspace },
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`the extension-host suite failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
