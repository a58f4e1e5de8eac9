/**
 * Transcripts: every agent call (agent steps, verify rounds, the arbiter) is written down, masked,
 * as it happens, so that a session can be read back call by call and replayed without a provider
 * (replaySource.ts). One file per step attempt, `steps/<step>/<attempt>.transcript.jsonl`
 * (the arbiter's: `steps/%arbiter/<finding id>.transcript.jsonl`), one JSON object per line:
 *
 * ```jsonc
 * {"v":1,"type":"call","round":1,"at":"2026-…Z","provider":"reviewer","model":"m","instructions":"…","prompt":"…"}
 * {"v":1,"type":"chunk","round":1,"t":12,"text":"The change…\n"}        // t: ms since the call started
 * {"v":1,"type":"chunk","round":1,"t":30,"text":"[tool] Read a.ts","note":true}
 * {"v":1,"type":"result","round":1,"t":95,"text":"…","model":"m-2026","usage":{…},"turns":3,"toolCalls":2}
 * {"v":1,"type":"error","round":1,"t":95,"message":"…","retryable":true,"status":429}
 * ```
 *
 * Every string goes through the session's Masker before it is written. Streamed text is written
 * a line at a time (pieces are joined until a newline, or the end), so a secret split between two
 * chunks of the stream is still whole when it is masked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentChunk, AgentRequest, AgentResult, AgentUsage, Provider } from '../../agents/provider';
import { ProviderError } from '../../agents/provider';
import { stepFolder, type SessionPaths } from '../../store/sessionStore';
import type { Masker } from '../secrets';

export const TRANSCRIPT_VERSION = 1;
/** The folder under steps/ of the arbiter's transcripts (stepFolder never makes a name like it). */
export const ARBITER_FOLDER = '%arbiter';

export interface CallLine {
  v: 1;
  type: 'call';
  round: number;
  at: string;
  provider: string;
  model?: string;
  instructions?: string;
  prompt: string;
  /** A replayed call: the session whose recording answered it. */
  replayOf?: string;
}
export interface ChunkLine {
  v: 1;
  type: 'chunk';
  round: number;
  t: number;
  text: string;
  note?: true;
}
export interface ResultLine {
  v: 1;
  type: 'result';
  round: number;
  t: number;
  text: string;
  model?: string;
  usage?: AgentUsage;
  turns?: number;
  toolCalls?: number;
}
export interface ErrorLine {
  v: 1;
  type: 'error';
  round: number;
  t: number;
  message: string;
  retryable: boolean;
  status?: number;
}
export type TranscriptLine = CallLine | ChunkLine | ResultLine | ErrorLine;

/** One recorded call: what was sent, what streamed, how it ended (no end: the runner died mid-call). */
export interface RecordedCall {
  call: CallLine;
  chunks: ChunkLine[];
  end?: ResultLine | ErrorLine;
}

export function stepTranscriptFile(paths: Pick<SessionPaths, 'dir'>, step: string, attempt: number): string {
  return path.join(paths.dir, 'steps', stepFolder(step), `${attempt}.transcript.jsonl`);
}
export function arbiterTranscriptFile(paths: Pick<SessionPaths, 'dir'>, findingId: string): string {
  return path.join(paths.dir, 'steps', ARBITER_FOLDER, `${findingId}.transcript.jsonl`);
}

/** Writes one call (one round) to a transcript file, masked. */
export class TranscriptRecorder {
  private fd: number | undefined;
  private t0 = Date.now();
  private pending: { text: string; note: boolean } | undefined;

  constructor(
    private readonly file: string,
    private readonly masker: Masker,
    private readonly round = 1,
  ) {}

  call(meta: { provider: string; model?: string; instructions?: string; prompt: string; replayOf?: string }): void {
    this.t0 = Date.now();
    const m = this.masker;
    this.write({
      v: 1,
      type: 'call',
      round: this.round,
      at: new Date(this.t0).toISOString(),
      provider: meta.provider,
      ...(meta.model ? { model: m.mask(meta.model) } : {}),
      ...(meta.instructions ? { instructions: m.mask(meta.instructions) } : {}),
      prompt: m.mask(meta.prompt),
      ...(meta.replayOf ? { replayOf: meta.replayOf } : {}),
    });
  }

  chunk(c: AgentChunk): void {
    const note = c.note === true;
    if (this.pending && this.pending.note !== note) this.flush();
    this.pending = { text: (this.pending?.text ?? '') + c.text, note };
    const cut = this.pending.text.lastIndexOf('\n') + 1;
    if (cut > 0) this.flush(cut);
  }

  result(r: AgentResult): void {
    this.flush();
    const m = this.masker;
    this.write({
      v: 1,
      type: 'result',
      round: this.round,
      t: this.elapsed(),
      text: m.mask(r.text),
      ...(r.model ? { model: m.mask(r.model) } : {}),
      ...(r.usage ? { usage: r.usage } : {}),
      ...(r.turns !== undefined ? { turns: r.turns } : {}),
      ...(r.toolCalls !== undefined ? { toolCalls: r.toolCalls } : {}),
    });
    this.close();
  }

  error(e: unknown): void {
    this.flush();
    const message = e instanceof Error ? e.message : String(e);
    const retryable = e instanceof ProviderError ? e.retryable : true;
    const status = e instanceof ProviderError ? e.status : undefined;
    this.write({ v: 1, type: 'error', round: this.round, t: this.elapsed(), message: this.masker.mask(message), retryable, ...(status !== undefined ? { status } : {}) });
    this.close();
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Writes the pending text up to `cut` (all of it by default) as one chunk line. */
  private flush(cut?: number): void {
    const p = this.pending;
    if (!p || p.text === '') return;
    const upto = cut ?? p.text.length;
    const text = p.text.slice(0, upto);
    p.text = p.text.slice(upto);
    if (p.text === '') this.pending = undefined;
    const masked = text
      .split('\n')
      .map((l) => this.masker.mask(l))
      .join('\n');
    this.write({ v: 1, type: 'chunk', round: this.round, t: this.elapsed(), text: masked, ...(p.note ? { note: true as const } : {}) });
  }

  private elapsed(): number {
    return Date.now() - this.t0;
  }

  private write(line: TranscriptLine): void {
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = fs.openSync(this.file, 'a');
    }
    fs.writeSync(this.fd, JSON.stringify(line) + '\n');
  }
}

/** Runs the provider, recording the call, what streams and how it ends. */
export async function recordedRun(provider: Provider, providerName: string, req: AgentRequest, onChunk: (c: AgentChunk) => void, rec: TranscriptRecorder, replayOf?: string): Promise<AgentResult> {
  rec.call({ provider: providerName, ...(req.model ? { model: req.model } : {}), ...(req.instructions ? { instructions: req.instructions } : {}), prompt: req.prompt, ...(replayOf ? { replayOf } : {}) });
  try {
    const result = await provider.run(req, (c) => {
      rec.chunk(c);
      onChunk(c);
    });
    rec.result(result);
    return result;
  } catch (e) {
    rec.error(e);
    throw e;
  }
}

export class TranscriptError extends Error {}

/** The calls of a transcript file, in order. A torn last line (a runner killed mid-write) is ignored. */
export function readTranscript(file: string): RecordedCall[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const calls: RecordedCall[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let line: TranscriptLine;
    try {
      line = JSON.parse(raw) as TranscriptLine;
    } catch {
      if (i === lines.length - 1) return; // torn last line
      throw new TranscriptError(`${file}:${i + 1} is not JSON`);
    }
    if (line.v !== TRANSCRIPT_VERSION) throw new TranscriptError(`${file}:${i + 1} is transcript version ${String((line as { v: unknown }).v)}; this orchestrator reads version ${String(TRANSCRIPT_VERSION)}`);
    const cur = calls.at(-1);
    if (line.type === 'call') calls.push({ call: line, chunks: [] });
    else if (!cur || cur.end || cur.call.round !== line.round) throw new TranscriptError(`${file}:${i + 1}: a ${line.type} line outside a call`);
    else if (line.type === 'chunk') cur.chunks.push(line);
    else cur.end = line;
  });
  return calls;
}
