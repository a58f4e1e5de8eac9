/**
 * Workspaces and screenshots: fresh copies of test/e2e/fixtures/<name>, and the folder that
 * screenshots go to ($ORCH_E2E_SHOTS, default test/e2e/.shots/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempDirs } from './cleanup';
import { E2E_DIR } from './env';

/** A fresh copy of test/e2e/fixtures/<name> in the OS temp dir (removed by stop() of the server that opens it, or at exit). */
export function copyFixture(name: string): string {
  const src = path.join(E2E_DIR, 'fixtures', name);
  if (!fs.existsSync(src)) throw new Error(`no fixture folder ${src}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orch-e2e-ws-`));
  fs.cpSync(src, dir, { recursive: true });
  tempDirs.add(dir);
  return dir;
}

let shotsAnnounced = false;

/** Where screenshots go: $ORCH_E2E_SHOTS, default test/e2e/.shots/ (created; printed once unless `announce` is false). */
export function shotsDir(announce = true): string {
  const dir = path.resolve(process.env.ORCH_E2E_SHOTS || path.join(E2E_DIR, '.shots'));
  fs.mkdirSync(dir, { recursive: true });
  if (announce && !shotsAnnounced) {
    shotsAnnounced = true;
    console.log(`[e2e] screenshots: ${dir}`);
  }
  return dir;
}
