/**
 * Where things are and which tools run the UI suite: the repository's paths, the packaged
 * extension, the default wait, and the paths of Node 24, code-server and Chromium that setup.sh
 * installs and caches (see ../README.md, "How it works").
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** test/e2e (this folder's parent). */
export const E2E_DIR = path.resolve(__dirname, '..');
export const REPO_ROOT = path.resolve(E2E_DIR, '..', '..');
/** The packaged extension `npm run package` writes (run.ts rebuilds it when it is stale). */
export const VSIX = path.join(REPO_ROOT, 'synapse-orchestrator.vsix');
/** Generous default for anything that waits on the UI (the first start of the extension host is slow). */
export const TIMEOUT = Number(process.env.ORCH_E2E_TIMEOUT_MS) || 60_000;

// ---------------------------------------------------------------------------------------------
// Environment: Node 24, code-server, Chromium (installed and cached by setup.sh)
// ---------------------------------------------------------------------------------------------

export interface E2EEnv {
  /** Node 24 binary (code-server 4.139 needs it). */
  node24: string;
  /** code-server's out/node/entry.js. */
  codeServerEntry: string;
  /** Chromium executable. */
  chromium: string;
}

let envPromise: Promise<E2EEnv> | undefined;

/**
 * The paths of the tools, from setup.sh (run once per process; it is fast once its cache is
 * filled). When ORCH_E2E_NODE24, ORCH_E2E_CODE_SERVER_ENTRY and ORCH_E2E_CHROMIUM are all set
 * (run.ts sets them for the test processes) they are used as they are.
 */
export function ensureEnv(): Promise<E2EEnv> {
  const { ORCH_E2E_NODE24: node24, ORCH_E2E_CODE_SERVER_ENTRY: codeServerEntry, ORCH_E2E_CHROMIUM: chromiumPath } = process.env;
  if (node24 && codeServerEntry && chromiumPath) return Promise.resolve({ node24, codeServerEntry, chromium: chromiumPath });
  envPromise ??= runSetup();
  return envPromise;
}

/** The variables that make ensureEnv() skip setup.sh in a child process. */
export function envVars(env: E2EEnv): Record<string, string> {
  return { ORCH_E2E_NODE24: env.node24, ORCH_E2E_CODE_SERVER_ENTRY: env.codeServerEntry, ORCH_E2E_CHROMIUM: env.chromium };
}

function runSetup(): Promise<E2EEnv> {
  return new Promise((resolve, reject) => {
    const script = path.join(E2E_DIR, 'setup.sh');
    // Progress goes to stderr (shown as it comes); the KEY=VALUE lines come on stdout.
    const p = spawn('bash', [script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`e2e setup failed (bash ${script} exited with ${code}); its messages are above`));
      const kv = Object.fromEntries(
        out
          .split('\n')
          .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1], m[2]]),
      );
      const env = { node24: kv.NODE24, codeServerEntry: kv.CODE_SERVER_ENTRY, chromium: kv.CHROMIUM };
      const missing = Object.entries(env).filter(([, v]) => !v || !fs.existsSync(v));
      if (missing.length) return reject(new Error(`e2e setup printed no usable ${missing.map(([k]) => k).join(', ')}; its output:\n${out}`));
      resolve(env);
    });
  });
}
