/**
 * `orchestrator replay ID`: the recorded session's workflow definition (as stored in it, not the
 * file as it is now) runs again as a new session with the same inputs, its agent calls answered
 * from the recording's transcripts (steps/replaySource.ts). Shell steps, actions and approvals run
 * for real. The new session's first event says what it replays, so a resume keeps replaying.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEvents } from '../store/eventLog';
import { assertReadable, formatOfLog } from '../store/formatVersion';
import { unresumable } from '../store/logDamage';
import { loadSession, sessionPaths, SessionNotFoundError } from '../store/sessionStore';
import { InputError } from './errors';
import { beginSession, instancesOf, type RunOptions, type Started } from './sessions';
import { rebuild } from './state';
import type { ReplayInfo, SessionState } from './types';

export interface ReplayOptions extends RunOptions {
  readonly id?: string;
  /** Calls the recording cannot answer go to the real provider. */
  readonly live?: boolean;
}

/**
 * A recorded session: an id of this repository's sessions, or the path of a session folder
 * (a shipped recording such as `.orchestrator/recordings/review`, which needs only its log.jsonl
 * and its transcripts).
 */
export function loadRecording(repoRoot: string, source: string): { state: SessionState; dir: string } {
  const asPath = path.resolve(source);
  if (fs.existsSync(path.join(asPath, 'log.jsonl'))) {
    assertReadable(`the recording ${source}`, formatOfLog(path.join(asPath, 'log.jsonl')));
    const read = readEvents(path.join(asPath, 'log.jsonl'));
    const state = rebuild(read.events);
    if (!state) throw new InputError(`cannot replay ${source}: its log.jsonl holds no session.started event`);
    if (read.damaged.length) throw new InputError(`cannot replay ${source}: its log.jsonl is damaged (line ${read.damaged[0].line})`);
    return { state, dir: asPath };
  }
  try {
    const loaded = loadSession(repoRoot, source);
    return { state: loaded.state, dir: sessionPaths(repoRoot, source).dir };
  } catch (e) {
    if (e instanceof SessionNotFoundError) throw new InputError(`${e.message}; replay takes a session id or the folder of a recorded session`);
    throw e;
  }
}

export async function startReplay(source: string, opts: ReplayOptions): Promise<Started & { replay: ReplayInfo }> {
  const { state, dir } = loadRecording(opts.repoRoot, source);
  const lost = unresumable(state);
  if (lost) throw new InputError(`cannot replay session ${state.id}: ${lost}`);
  const replay: ReplayInfo = { of: state.id, from: path.relative(opts.repoRoot, dir) || '.', ...(opts.live ? { live: true } : {}) };
  const compiled = state.workflow.compiled;
  const started = await beginSession({ workflow: state.workflow, inputs: state.inputs, instances: instancesOf(compiled), replay }, opts);
  return { ...started, replay };
}
