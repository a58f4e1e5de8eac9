/**
 * What every stream parser shares: reading one JSON line, field accessors that never throw, and
 * a run's running totals (text, tool calls, usage, error), which build the summary.
 */
import { REASON_MAX_CHARS, retryableFromText, stripAnsi } from '../reasons';
import type { StreamSink, StreamSummary } from './types';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

/** The object on a line, or undefined when the line is not a JSON object. */
export function parseLine(line: string): Json | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A short one-line rendering of a tool's input, for a note. */
export function brief(v: unknown, max = 120): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (isObject(v)) {
    // The field that says what the call does, where there is an obvious one.
    const key = ['command', 'cmd', 'file_path', 'absolute_path', 'filePath', 'path', 'dir_path', 'pattern', 'query', 'url', 'description'].find((k) => typeof v[k] === 'string' || Array.isArray(v[k]));
    const main = key === undefined ? undefined : v[key];
    s = Array.isArray(main) ? main.map(String).join(' ') : typeof main === 'string' ? main : JSON.stringify(v);
  } else s = v === undefined ? '' : JSON.stringify(v) ?? '';
  s = s.replace(/\s+/g, ' ').trim();
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export type StreamError = NonNullable<StreamSummary['error']>;

/** A tool's message as one clean line of at most REASON_MAX_CHARS (the whole stays in the step log). */
export function oneLine(message: string): string {
  const s = stripAnsi(message).replace(/\s+/g, ' ').trim();
  return s.length <= REASON_MAX_CHARS ? s : `${s.slice(0, REASON_MAX_CHARS - 1).trimEnd()}…`;
}

/** An error from a tool's message: status and retryability read from the text unless given. */
export function errorFrom(message: string, opts: { status?: number; retryable?: boolean } = {}): StreamError {
  const fromText = retryableFromText(message);
  const status = opts.status ?? fromText.status;
  let retryable = opts.retryable ?? fromText.retryable;
  if (opts.retryable === undefined && opts.status !== undefined) {
    retryable = opts.status === 408 || opts.status === 429 || opts.status >= 500 ? true : opts.status === 401 || opts.status === 403 ? false : fromText.retryable;
  }
  const e: StreamError = { message: oneLine(message) || 'the tool reported an error without a message', retryable };
  if (status !== undefined) e.status = status;
  return e;
}

/** The running totals of one run, shared by all parsers. */
export class Run {
  /** Assistant text as streamed (messages separated by a blank line). */
  streamed = '';
  /** The tool's own final answer, when it gives one. */
  result: string | undefined;
  model: string | undefined;
  usage: NonNullable<StreamSummary['usage']> = {};
  turns: number | undefined;
  toolCalls = 0;
  error: StreamError | undefined;
  /** Whether the last text given was a delta inside a message still open. */
  private inMessage = false;

  constructor(private readonly sink: StreamSink) {}

  note(s: string): void {
    const t = s.trim();
    if (!t) return;
    try {
      this.sink.note?.(t);
    } catch {
      // A sink's failure is the caller's; a parser never throws.
    }
  }

  /** A whole assistant message (tools that give no deltas). */
  message(text: string): void {
    if (!text) return;
    this.emit(this.streamed ? `\n\n${text}` : text);
    this.inMessage = false;
  }

  /** A piece of the message being streamed; `start` marks the first delta of a new message. */
  delta(text: string, start = false): void {
    if (!text) return;
    const sep = this.streamed && (start || !this.inMessage) ? '\n\n' : '';
    this.emit(sep + text);
    this.inMessage = true;
  }

  /** The streamed message ended (the next delta starts a new one). */
  endMessage(): void {
    this.inMessage = false;
  }

  tool(name: string, detail?: string): void {
    this.toolCalls++;
    try {
      this.sink.toolCall(name);
    } catch {
      // see note()
    }
    this.note(detail ? `tool ${name}: ${detail}` : `tool ${name}`);
  }

  /** Tells the sink the totals so far (usage given, else the run's own), for budgets mid-run. */
  progress(usage: NonNullable<StreamSummary['usage']> = this.usage, turns = this.turns): void {
    const u = Object.fromEntries(Object.entries(usage).filter(([, v]) => v !== undefined));
    try {
      this.sink.usage?.({ ...u, ...(turns !== undefined ? { turns } : {}), toolCalls: this.toolCalls, ...(this.model ? { model: this.model } : {}) });
    } catch {
      // see note()
    }
  }

  fail(e: StreamError): void {
    this.error = e;
  }

  summary(): StreamSummary {
    const s: StreamSummary = { text: this.result ?? this.streamed, toolCalls: this.toolCalls };
    if (this.model) s.model = this.model;
    const u = Object.fromEntries(Object.entries(this.usage).filter(([, v]) => v !== undefined));
    if (Object.keys(u).length > 0) s.usage = u;
    if (this.turns !== undefined) s.turns = this.turns;
    if (this.error) s.error = this.error;
    return s;
  }

  private emit(s: string): void {
    this.streamed += s;
    try {
      this.sink.text(s);
    } catch {
      // see note()
    }
  }
}

/** A stream that ended without the tool's final event: the tool was cut off or crashed. */
export function cutStream(tool: string, last?: StreamError): StreamError {
  if (last) return last;
  return { message: `${tool}'s output ended before its final result (the stream was cut or the tool crashed)`, retryable: true, cut: true };
}

/** Wraps a line handler so that nothing it does can throw. */
export function safely(handle: (event: Json) => void, run: Run): (line: string) => void {
  return (line: string) => {
    try {
      const event = parseLine(line);
      // A line that is not JSON is the tool's own print (a warning, a banner): a note, not an error.
      if (!event) run.note(stripAnsi(line));
      else handle(event);
    } catch (e) {
      run.note(`could not read a line of the tool's output: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}
