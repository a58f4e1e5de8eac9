/**
 * Harness of the UI suite: the extension in a real VS Code (code-server), driven by Playwright in
 * Debian's Chromium. See README.md next to this file.
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
 *
 * This file only re-exports the public API; the code is in harness/, by responsibility:
 *
 *   env.ts          repository paths, VSIX, TIMEOUT, the tool paths from setup.sh (ensureEnv)
 *   workspace.ts    copyFixture(), shotsDir()
 *   cleanup.ts      the exit hook: started servers' process groups and temp dirs
 *   wait.ts         waitFor(), TextMatch and the formatters of error messages
 *   rows.ts         reading list/tree rows in the page (rowTexts, findRow)
 *   start.ts        startCodeServer(), StartOptions, QUIET_SETTINGS, trustSettings()
 *   base.ts         CodeServer's process, browser, logs, screenshots, waitFor()
 *   quick-input.ts  … command palette, quick pick, input box
 *   editors.ts      … editors, diff editors, modal dialogs
 *   views.ts        … activity bar, views, trees, context menus
 *   status.ts       … Problems panel, notifications, status bar, Restricted Mode
 *   code-server.ts  CodeServer itself (the last of those layers) and describe()
 */
export { CodeServer } from './harness/code-server';
export { E2E_DIR, ensureEnv, envVars, REPO_ROOT, TIMEOUT, VSIX, type E2EEnv } from './harness/env';
export type { QuickInputState } from './harness/quick-input';
export type { RowInfo } from './harness/rows';
export { QUIET_SETTINGS, startCodeServer, trustSettings, type StartOptions } from './harness/start';
export { waitFor, type TextMatch } from './harness/wait';
export { copyFixture, shotsDir } from './harness/workspace';
