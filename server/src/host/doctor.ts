/**
 * The host's doctor requests (docs/doctor.md): the engine's checks and fixes on the workspace's
 * repository. In an untrusted workspace no provider tool is asked its version (the repository's
 * config names the program) and no session is resumed.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { applyFix, runDoctor, type DoctorOptions } from '../doctor/doctor';
import { RESUME_ACTION } from '../doctor/sessionChecks';
import { DoctorFixRequest, DoctorRequest } from '../protocol';
import type { Logger } from './documents';

export interface DoctorHostOptions {
  /** The workspace's repository root, once the client said it (undefined without a folder). */
  readonly repoRoot: () => string | undefined;
  readonly trusted: () => boolean;
  readonly log: Logger;
  /** The CLI a resume starts a runner with (server/out/cli.js beside this bundle). */
  readonly cli?: string;
}

export function registerDoctorRequests(connection: Connection, h: DoctorHostOptions): void {
  const options = (): DoctorOptions => {
    const repoRoot = h.repoRoot();
    if (!repoRoot) throw new Error('no folder is open: open the repository to check it');
    return { repoRoot, homeDir: os.homedir(), env: process.env, probeTools: h.trusted(), cli: h.cli ?? path.join(__dirname, 'cli.js') };
  };
  connection.onRequest(DoctorRequest.method, async () => runDoctor(options()));
  connection.onRequest(DoctorFixRequest.method, async (p: { action: string }) => {
    const o = options();
    const action = typeof p?.action === 'string' ? p.action : '';
    const resume = action.split(':')[0] === RESUME_ACTION;
    const outcome = resume && !h.trusted() ? { action, ok: false, message: 'this workspace is not trusted, so nothing runs here: trust the workspace to resume sessions' } : await applyFix(o, action);
    if (!outcome.ok) h.log.warn(`doctor: ${action}: ${outcome.message}`);
    return { outcome, report: await runDoctor(o) };
  });
}
