/**
 * Starting code-server: fresh user-data, extensions and config dirs in the OS temp dir, the
 * quiet settings (plus Workspace Trust on or off), the .vsix installed with code-server's
 * --install-extension, code-server on 127.0.0.1 and a free port in its own process group, then
 * Chromium on the workspace (CodeServer.open). stop() of the returned CodeServer undoes it all.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hookExit, liveServers, tempDirs } from './cleanup';
import { CodeServer } from './code-server';
import { ensureEnv } from './env';
import { waitFor } from './wait';


export interface StartOptions {
  /** Folder to open. */
  workspace: string;
  /** The .vsix to install (usually VSIX). */
  vsix: string;
  /**
   * true: Workspace Trust is off, so every folder is trusted. false: Trust stays on, the folder is
   * not trusted (Restricted Mode) and no trust prompt blocks the window; start() checks it.
   */
  trust: boolean;
  /** User settings merged over the harness's quiet defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so for the extension host (e.g. PATH with fake agents). */
  env?: Record<string, string>;
  /** Browser viewport; default 1400×900. */
  viewport?: { width: number; height: number };
}

/** Settings that keep the workbench quiet and the same from run to run. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.editor.enablePreview': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.localHistory.enabled': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'npm.autoDetect': 'off',
  'typescript.tsserver.enabled': false,
  'editor.minimap.enabled': false,
  'files.autoSave': 'off',
  'window.restoreWindows': 'none',
};

export function trustSettings(trust: boolean): Record<string, unknown> {
  return trust
    ? { 'security.workspace.trust.enabled': false }
    : {
        'security.workspace.trust.enabled': true,
        // No modal "Do you trust the authors?" at startup: the folder simply opens in Restricted Mode.
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'always',
        'security.workspace.trust.untrustedFiles': 'open',
        'security.workspace.trust.emptyWindow': false,
      };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * Starts code-server on 127.0.0.1 with fresh user-data and extensions dirs, installs the .vsix,
 * opens the workspace in Chromium and waits for the workbench. Always call stop() (in `after`).
 */
export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  hookExit();
  const env = await ensureEnv();
  if (!fs.existsSync(opts.vsix)) throw new Error(`no extension package at ${opts.vsix}: run npm run package (run.ts does it)`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-e2e-cs-'));
  tempDirs.add(root);
  const userData = path.join(root, 'user-data');
  const extensions = path.join(root, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  const settings = { ...QUIET_SETTINGS, ...trustSettings(opts.trust), ...opts.settings };
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server writes a default config into ~/.config and a heartbeat into ~/.local/share unless
  // told otherwise: keep both in the temp dir.
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\n');
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
    XDG_DATA_HOME: path.join(root, 'xdg-data'),
    // No extension gallery: nothing tries to reach open-vsx.org (an object without serviceUrl disables it).
    EXTENSIONS_GALLERY: '{}',
    ...opts.env,
  };
  delete serverEnv.PASSWORD;
  delete serverEnv.HASHED_PASSWORD;
  delete serverEnv.VSCODE_IPC_HOOK_CLI;
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];

  const inst = await run(env.node24, [env.codeServerEntry, ...common, '--install-extension', opts.vsix, '--force'], serverEnv);
  if (inst.code !== 0 || !/successfully installed/i.test(inst.out)) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`installing ${opts.vsix} into code-server failed (exit ${inst.code}):\n${inst.out}`);
  }

  const port = await freePort();
  const args = [
    env.codeServerEntry,
    ...common,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    // If this process dies without stop(), the browser goes with it and code-server follows.
    '--idle-timeout-seconds',
    '600',
    ...(opts.trust ? ['--disable-workspace-trust'] : []),
    opts.workspace,
  ];
  const child = spawn(env.node24, args, { env: serverEnv, cwd: opts.workspace, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const onData = (d: string) => log.push(d);
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  let exited: string | undefined;
  child.on('exit', (code, sig) => {
    exited = `code-server exited (${sig ?? code})`;
    if (child.pid) liveServers.delete(child.pid);
  });
  if (child.pid) liveServers.add(child.pid);

  const cs = new CodeServer(child, root, port, opts, () => log.join(''));
  try {
    const up = await waitFor(`code-server to answer on 127.0.0.1:${port}`, async () => exited ?? ((await httpOk(`http://127.0.0.1:${port}/healthz`)) && 'up'), {
      describe: () => `server log:\n${cs.serverLog()}`,
    });
    if (up !== 'up') throw new Error(`${up} before it answered; its log:\n${cs.serverLog()}`);
    await cs.open(env.chromium, opts.viewport ?? { width: 1400, height: 900 });
    if (!opts.trust) await cs.expectRestrictedMode();
  } catch (e) {
    await cs.stop();
    throw e;
  }
  return cs;
}
