/**
 * `.orchestrator/meta.json`: the repository's identity as `orchestrator init` found it. Written
 * once and never rewritten by init (a second run keeps it, so `created` stays the first run's).
 *
 * - `created`: when init made it (ISO 8601, UTC).
 * - `gitRemote`: the URL of `origin` (else the first remote) without any user name or password,
 *   or null.
 * - `toolVersion`: the orchestrator that made it.
 * - `stateFormatVersion`: the format of session state this tool writes (store/formatVersion.ts). The format
 *   of each state file is recorded in the file itself; this says what the folder started with.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STATE_FORMAT, TOOL_VERSION } from '../store/formatVersion';

export { TOOL_VERSION };
/** The session state format this tool writes (store/formatVersion.ts). */
export const STATE_FORMAT_VERSION = STATE_FORMAT;

export interface RepoMeta {
  created: string;
  gitRemote: string | null;
  toolVersion: string;
  stateFormatVersion: number;
}

export function metaPath(repoRoot: string): string {
  return path.join(repoRoot, '.orchestrator', 'meta.json');
}

export function makeMeta(now: Date, gitRemote: string | undefined): RepoMeta {
  return { created: now.toISOString(), gitRemote: gitRemote ?? null, toolVersion: TOOL_VERSION, stateFormatVersion: STATE_FORMAT_VERSION };
}

export function metaText(meta: RepoMeta): string {
  return JSON.stringify(meta, null, 2) + '\n';
}

/** The meta.json of a repository: null when there is none, an error message when it does not parse. */
export function readMeta(repoRoot: string): RepoMeta | null | { error: string } {
  let text: string;
  try {
    text = fs.readFileSync(metaPath(repoRoot), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { error: (e as Error).message };
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as RepoMeta;
    return { error: 'it is not a JSON object' };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
