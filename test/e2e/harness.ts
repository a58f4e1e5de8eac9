/**
 * Harness of the UI suite: the extension in a real VS Code (code-server), driven by Playwright in
 * Debian's Chromium. See README.md next to this file and ../shared/notes/real-vscode-offline.md.
 *
 * A test file does, in short:
 *
 *   const vs = await startCodeServer({ workspace: copyFixture('workspace'), vsix: VSIX, trust: true });
 *   after(() => vs.stop());
 *   await vs.openFile('.orchestrator/workflows/broken.yaml');
 *   await vs.waitForProblem(/unknown-need/);
 *
 * Every helper waits for a condition (never a fixed time), and when it gives up throws an error
 * that says what it waited for and what was on the screen, with a screenshot of that moment.
 */
export { CodeServer, type QuickInputState } from './harness/code-server';
export { E2E_DIR, ensureEnv, envVars, REPO_ROOT, TIMEOUT, VSIX, type E2EEnv } from './harness/env';
export type { RowInfo } from './harness/rows';
export { QUIET_SETTINGS, startCodeServer, trustSettings, type StartOptions } from './harness/start';
export { waitFor, type TextMatch } from './harness/wait';
export { copyFixture, shotsDir } from './harness/workspace';
