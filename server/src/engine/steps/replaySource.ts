/**
 * Who answers an agent call: the provider (recorded into the session's transcript), or, in a
 * replay session (`orchestrator replay ID`), the recording of the original session.
 *
 * A replayed call is matched by step (instance) id, attempt and round: the replay's attempt N of a
 * step takes the N-th attempt of that step that the original recorded a transcript for (attempts
 * that never reached the provider left none; attempts beyond those take the last), and round R the
 * call of round R in that attempt. The
 * arbiter's calls are matched by finding id. The prompt must equal the recorded one, line by line,
 * after both went through masking: the recording was masked when it was written, the new prompt is
 * masked with this session's secrets, and `***` in the recording matches any text on its line (a
 * secret may be another value now, or missing). What streamed is given back in order, at once (the
 * time offsets stay in the transcript), and the recorded answer, usage and error come back as the
 * provider's. No provider is made or called, so a missing key or a dead server does not matter.
 * A call the recording cannot answer fails the step (not retried), unless the replay is `--live`:
 * then that call goes to the real provider. Every call, replayed or live, is written to the new
 * session's own transcript, so a replay can be replayed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProviderError, type AgentChunk, type AgentRequest, type AgentResult } from '../../agents/provider';
import { resolveProvider, type ProviderConfigs } from '../../agents/registry';
import { stepFolder, type SessionPaths } from '../../store/sessionStore';
import { MASK, type Masker } from '../secrets';
import type { SessionState } from '../types';
import { arbiterTranscriptFile, readTranscript, recordedRun, stepTranscriptFile, TranscriptError, TranscriptRecorder, type RecordedCall } from './transcript';

export interface CallSite {
  readonly repoRoot: string;
  readonly paths: Pick<SessionPaths, 'dir'>;
  readonly session: Pick<SessionState, 'id' | 'replay'>;
  readonly masker: Masker;
  readonly secrets: ReadonlyMap<string, string>;
  /** An attempt of an agent step, or the arbiter settling one finding. */
  readonly target: { step: string; attempt: number } | { arbiter: string };
}

export interface AgentCaller {
  /** Round 1 is the first call of an attempt; verify rounds ask again with 2, 3, … */
  run(req: AgentRequest, onChunk: (c: AgentChunk) => void, round?: number): Promise<AgentResult>;
}

/**
 * The caller for one attempt (or one arbitration). Outside a replay the provider is resolved at
 * once, so a provider that cannot be made fails as it always did.
 */
export function agentCaller(site: CallSite, providerName: string, configs: ProviderConfigs): AgentCaller {
  const file = 'step' in site.target ? stepTranscriptFile(site.paths, site.target.step, site.target.attempt) : arbiterTranscriptFile(site.paths, site.target.arbiter);
  const recorder = (round: number): TranscriptRecorder => new TranscriptRecorder(file, site.masker, round);
  const replay = site.session.replay;
  if (!replay) {
    const provider = resolveProvider(providerName, configs, site.secrets);
    return { run: (req, onChunk, round = 1) => recordedRun(provider, providerName, req, onChunk, recorder(round)) };
  }
  const live = (req: AgentRequest, onChunk: (c: AgentChunk) => void, round: number): Promise<AgentResult> =>
    recordedRun(resolveProvider(providerName, configs, site.secrets), providerName, req, onChunk, recorder(round));
  return {
    run: async (req, onChunk, round = 1) => {
      const label = callLabel(site.target, round);
      const found = findRecorded(site, round);
      if (typeof found === 'string') {
        if (replay.live) return live(req, onChunk, round);
        throw new ProviderError(`replay: ${found}; run 'orchestrator replay ${replay.of} --live' to ask the provider for it`, false);
      }
      const diff = promptDifference(found.call.prompt, site.masker.mask(req.prompt));
      if (diff) {
        if (replay.live) return live(req, onChunk, round);
        throw new ProviderError(`replay: the prompt of ${label} differs from the recording: ${diff}; run 'orchestrator replay ${replay.of} --live' to send it to the provider`, false);
      }
      return answer(found, req, onChunk, recorder(round), providerName, replay.of);
    },
  };
}

function callLabel(target: CallSite['target'], round: number): string {
  const r = round > 1 ? `, round ${round}` : '';
  return 'step' in target ? `step ${target.step}${target.attempt > 1 || r ? ` (attempt ${target.attempt}${r})` : ''}` : `the arbiter (finding ${target.arbiter}${r})`;
}

/** The recorded call for this site and round, or why there is none. */
function findRecorded(site: CallSite, round: number): RecordedCall | string {
  const replay = site.session.replay!;
  const from = { dir: path.resolve(site.repoRoot, replay.from) };
  let file: string;
  const t = site.target;
  if ('step' in t) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(from.dir, 'steps', stepFolder(t.step)));
    } catch {
      // no folder: nothing recorded for the step
    }
    const attempts = names
      .map((n) => /^(\d+)\.transcript\.jsonl$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    if (!attempts.length) return `session ${replay.of} recorded no agent call for step ${t.step}`;
    // More attempts than recorded (a resume --from ran the step again): the last recorded one, the one that ended the step.
    file = stepTranscriptFile(from, t.step, attempts[Math.min(t.attempt, attempts.length) - 1]);
  } else {
    file = arbiterTranscriptFile(from, t.arbiter);
    if (!fs.existsSync(file)) return `session ${replay.of} recorded no arbiter call for finding ${t.arbiter}`;
  }
  let calls: RecordedCall[];
  try {
    calls = readTranscript(file);
  } catch (e) {
    if (e instanceof TranscriptError) return `the recording cannot be read: ${e.message}`;
    return `the recording cannot be read: ${file}: ${(e as Error).message}`;
  }
  const call = calls.find((c) => c.call.round === round);
  if (!call) return `session ${replay.of} recorded no round ${round} of ${callLabel(t, 1)}`;
  return call;
}

/** Plays a recorded call back: its chunks, then its answer or its error. */
async function answer(found: RecordedCall, req: AgentRequest, onChunk: (c: AgentChunk) => void, rec: TranscriptRecorder, providerName: string, of: string): Promise<AgentResult> {
  rec.call({ provider: providerName, ...(req.model ? { model: req.model } : {}), ...(req.instructions ? { instructions: req.instructions } : {}), prompt: req.prompt, replayOf: of });
  const cancelled = (): ProviderError => new ProviderError('run cancelled', false);
  try {
    for (const c of found.chunks) {
      if (req.signal.aborted) throw cancelled();
      const chunk: AgentChunk = { text: c.text, ...(c.note ? { note: true } : {}) };
      rec.chunk(chunk);
      onChunk(chunk);
      await new Promise((r) => setImmediate(r)); // let a cancel in between chunks
    }
    if (req.signal.aborted) throw cancelled();
    const end = found.end;
    if (!end) throw new ProviderError('replay: the recorded call never ended (its runner stopped during the call)', false);
    if (end.type === 'error') throw new ProviderError(end.message, end.retryable, end.status);
    const result: AgentResult = {
      text: end.text,
      ...(end.model ? { model: end.model } : {}),
      ...(end.usage ? { usage: end.usage } : {}),
      ...(end.turns !== undefined ? { turns: end.turns } : {}),
      ...(end.toolCalls !== undefined ? { toolCalls: end.toolCalls } : {}),
    };
    rec.result(result);
    return result;
  } catch (e) {
    rec.error(e);
    throw e;
  }
}

/**
 * Where a prompt (masked) differs from a recorded one, in words; undefined when they match.
 * `***` in the recorded line matches any text.
 */
export function promptDifference(recorded: string, now: string): string | undefined {
  const a = recorded.split('\n');
  const b = now.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== undefined && b[i] !== undefined && lineMatches(a[i], b[i])) continue;
    const show = (s: string | undefined): string => (s === undefined ? '(no such line)' : JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s));
    return `first difference at line ${i + 1}: recorded ${show(a[i])}, now ${show(b[i])}`;
  }
  return undefined;
}

function lineMatches(recorded: string, now: string): boolean {
  if (recorded === now) return true;
  if (!recorded.includes(MASK)) return false;
  const pattern = recorded
    .split(MASK)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`, 's').test(now);
}
