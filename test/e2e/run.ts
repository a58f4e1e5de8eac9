/**
 * Entry of `npm run test:e2e`: installs/checks the tools (setup.sh), rebuilds the .vsix when it is
 * missing or older than what goes into it, then runs the UI tests one file at a time.
 *
 *   node --import tsx test/e2e/run.ts                          # every test/e2e/*.e2e.ts
 *   node --import tsx test/e2e/run.ts test/e2e/smoke.e2e.ts    # some files
 *   node --import tsx test/e2e/run.ts --test-name-pattern=Problems   # options go to node --test
 *
 * ORCH_E2E_NO_BUILD=1 uses the .vsix as it is.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { E2E_DIR, ensureEnv, envVars, REPO_ROOT, shotsDir, VSIX } from './harness';

/** Newest modification time of a file or of the files under a folder (0 when it does not exist). */
function newest(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, e)));
  return max;
}

function npm(script: string): void {
  console.log(`[e2e] npm run ${script}`);
  const r = spawnSync('npm', ['run', script], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[e2e] npm run ${script} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

function ensureVsix(): void {
  if (process.env.ORCH_E2E_NO_BUILD === '1') {
    if (!fs.existsSync(VSIX)) throw new Error(`ORCH_E2E_NO_BUILD=1 but there is no ${VSIX}`);
    return;
  }
  const inputs = ['client/out', 'server/out', 'client/src', 'server/src', 'package.json', 'schemas', 'media', 'README.md'].map((p) => path.join(REPO_ROOT, p));
  const vsixTime = newest(VSIX);
  const stale = inputs.filter((p) => newest(p) > vsixTime);
  if (vsixTime && !stale.length) return;
  console.log(vsixTime ? `[e2e] ${path.basename(VSIX)} is older than ${stale.map((p) => path.relative(REPO_ROOT, p)).join(', ')}: rebuilding it` : `[e2e] no ${path.basename(VSIX)}: building it`);
  // `npm run package` builds first (vscode:prepublish), then packs.
  npm('package');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const options = args.filter((a) => a.startsWith('--'));
  let files = args.filter((a) => !a.startsWith('--'));
  if (!files.length) files = fs.readdirSync(E2E_DIR).filter((f) => f.endsWith('.e2e.ts')).sort().map((f) => path.join(E2E_DIR, f));
  if (!files.length) {
    console.error('[e2e] no test/e2e/*.e2e.ts files');
    return 2;
  }

  const env = await ensureEnv();
  ensureVsix();
  const shots = shotsDir(false);

  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-timeout=900000', ...options, ...files],
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, ...envVars(env), ORCH_E2E_SHOTS: shots } },
  );
  console.log(`[e2e] screenshots: ${shots}`);
  return r.status ?? 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[e2e] ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
