/**
 * A loopback fake model server for the real agent CLIs: it speaks the Anthropic Messages API, OpenAI
 * chat completions and responses, and Gemini's generateContent, all streamed, on one port.
 *
 * Tests script what the next main requests (the agent's turns) get, in order: `answer()` (text in N
 * chunks, model, usage, a findings block, a hold or a cut) or `error()` (401, 429 with retry-after,
 * 500…); a script with `times` serves that many requests (Infinity: all of them). With nothing
 * queued a turn gets `defaultAnswer`. Side requests (titles, token counts, model lists) get harmless
 * answers without taking from the queue. Every request is recorded (path, headers, body), and tests
 * wait for events (`waitForRequest`, a hold's `reached`), never for time.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicError, anthropicJson, anthropicModels, anthropicStream } from './anthropic';
import { geminiError, geminiJson, geminiModels, geminiStream } from './gemini';
import { chatJson, chatStream, openaiError, openaiModels } from './openaiChat';
import { responsesStream } from './openaiResponses';
import { route } from './route';
import type { StreamPlan, Usage, Wire, WireStream } from './types';

export type { Usage, Wire } from './types';

export interface Finding {
  severity: string;
  message: string;
  file?: string;
  line?: number;
  rule?: string;
}

export interface AnswerSpec {
  text?: string;
  /** Text chunks the answer streams in (default 3, at most one per character). */
  chunks?: number;
  /** The model the answer says it came from (default: the model asked for). */
  model?: string;
  usage?: Usage;
  /** Appended to the text as a fenced ```findings block. */
  findings?: Finding[];
  /** Stop after this many chunks until the test calls `release()`. */
  holdAfter?: number;
  /** Cut the connection after this many chunks (no end of stream). */
  cutAfter?: number;
  /** How many main requests this answer serves (default 1). */
  times?: number;
}

export interface ErrorSpec {
  status: number;
  message?: string;
  /** Seconds, sent as `retry-after` (and as Gemini RetryInfo). */
  retryAfter?: number;
  times?: number;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  /** Path and query, as requested. */
  url: string;
  pathname: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  bodyBytes: number;
  wire?: Wire;
  /** The agent's turn (took a scripted answer), as opposed to a side request. */
  main: boolean;
  /** What the server did: "answer", "error 429", "cut", "side", "404"… */
  served?: string;
  /** The client closed the connection before the whole answer was sent. */
  closedByClient?: boolean;
}

export interface Scripted {
  /** Resolves with the first request this script served. */
  readonly served: Promise<RecordedRequest>;
}
export interface Held extends Scripted {
  /** Resolves once the chunks before the hold were written to the socket. */
  readonly reached: Promise<RecordedRequest>;
  release(): void;
}

type Script = ({ type: 'answer' } & AnswerSpec) | ({ type: 'error' } & ErrorSpec);
interface Entry {
  script: Script;
  left: number;
  onServed: (r: RecordedRequest) => void;
  hold?: { reached: (r: RecordedRequest) => void; released: Promise<void> };
}

export const findingsBlock = (findings: Finding[]): string => `\n\n\`\`\`findings\n${JSON.stringify(findings, null, 2)}\n\`\`\`\n`;

/** Splits `text` into `n` chunks of nearly equal length (fewer when the text is shorter). */
export function splitChunks(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

export class FakeModelServer {
  readonly requests: RecordedRequest[] = [];
  defaultAnswer: AnswerSpec = { text: 'OK' };
  /** Answer to side turns (no tools offered), e.g. opencode's title request. */
  sideAnswer = 'Fake title';
  /** Every turn takes the next scripted answer, with or without tools (clients that send none, like our HTTP providers). */
  allTurnsMain = false;
  private queue: Entry[] = [];
  private readonly events = new EventEmitter();
  private readonly sockets = new Set<Socket>();
  private readonly releases = new Set<() => void>();
  private seq = 0;
  private readonly finished = new Set<number>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeModelServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeModelServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s: Socket) => {
      s.setNoDelay(true);
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void fake.handle(req, res));
    return fake;
  }

  answer(spec: AnswerSpec & { holdAfter: number }): Held;
  answer(spec?: AnswerSpec): Scripted;
  answer(spec: AnswerSpec = {}): Scripted | Held {
    return this.push({ type: 'answer', ...spec }, spec.times);
  }

  error(spec: ErrorSpec): Scripted {
    return this.push({ type: 'error', ...spec }, spec.times);
  }

  /** Scripts not yet used up. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves with the `count`-th recorded request that matches (already arrived ones count). */
  waitForRequest(match: (r: RecordedRequest) => boolean = () => true, count = 1): Promise<RecordedRequest> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const hits = this.requests.filter(match);
        if (hits.length < count) return false;
        this.events.off('request', check);
        resolve(hits[count - 1]);
        return true;
      };
      if (!check()) this.events.on('request', check);
    });
  }

  /** Resolves once the response to request `seq` is over: true when the client closed it before the end. */
  waitForClose(seq: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const r = this.requests.find((x) => x.seq === seq);
        if (!r || !this.finished.has(seq)) return false;
        this.events.off('closed', check);
        resolve(r.closedByClient === true);
        return true;
      };
      if (!check()) this.events.on('closed', check);
    });
  }

  mainRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.main);
  }

  async close(): Promise<void> {
    for (const r of this.releases) r();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private push(script: Script, times = 1): Scripted | Held {
    let onServed!: (r: RecordedRequest) => void;
    const served = new Promise<RecordedRequest>((r) => (onServed = r));
    const entry: Entry = { script, left: times, onServed };
    this.queue.push(entry);
    if (script.type !== 'answer' || script.holdAfter === undefined) return { served };
    let reached!: (r: RecordedRequest) => void;
    let release!: () => void;
    const reachedP = new Promise<RecordedRequest>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.releases.add(release);
    entry.hold = { reached, released };
    return { served, reached: reachedP, release };
  }

  private take(): Entry | undefined {
    const e = this.queue[0];
    if (!e) return undefined;
    if (--e.left <= 0) this.queue.shift();
    return e;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // recorded as text
    }
    const u = new URL(req.url ?? '/', this.url);
    const r = route(req.method ?? 'GET', u.pathname, body);
    const rec: RecordedRequest = { seq: ++this.seq, method: req.method ?? 'GET', url: req.url ?? '/', pathname: u.pathname, headers: req.headers, body, bodyBytes: raw.length,
      wire: 'wire' in r ? r.wire : undefined, main: r.kind === 'turn' && (r.main || this.allTurnsMain) };
    this.requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.closedByClient = true;
      this.finished.add(rec.seq);
      this.events.emit('closed');
    });
    this.events.emit('request');
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(data));
    };
    if (r.kind === 'unknown') {
      rec.served = '404';
      return json(404, { error: { message: `fake model server: no route for ${req.method} ${u.pathname}`, type: 'not_found_error' } });
    }
    if (r.kind === 'models') {
      rec.served = 'side';
      if (req.headers['anthropic-version']) return json(200, anthropicModels('fake-model'));
      return json(200, r.wire === 'gemini' ? geminiModels('fake-model') : openaiModels('fake-model'));
    }
    if (r.kind === 'count-tokens') {
      rec.served = 'side';
      return json(200, r.wire === 'gemini' ? { totalTokens: 1 } : { input_tokens: 1 });
    }
    const entry = rec.main ? this.take() : undefined;
    const script: Script = entry?.script ?? { type: 'answer', ...(rec.main ? this.defaultAnswer : { text: this.sideAnswer, chunks: 1 }) };
    if (script.type === 'error') {
      rec.served = `error ${script.status}`;
      entry?.onServed(rec);
      return this.sendError(res, r.wire, script);
    }
    const text = (script.text ?? 'OK') + (script.findings ? findingsBlock(script.findings) : '');
    const plan: StreamPlan = { id: `fake_${rec.seq}`, model: script.model ?? r.model, chunks: splitChunks(text, script.chunks ?? 3),
      usage: script.usage ?? { input: 10, output: Math.max(1, Math.ceil(text.length / 4)) } };
    rec.served = rec.main ? 'answer' : 'side';
    entry?.onServed(rec);
    if (!r.stream) {
      const whole = r.wire === 'anthropic' ? anthropicJson(plan) : r.wire === 'gemini' ? geminiJson(plan) : chatJson(plan);
      return json(200, whole);
    }
    await this.stream(res, r.wire, plan, script, entry, rec);
  }

  private sendError(res: http.ServerResponse, wire: Wire, e: ErrorSpec): void {
    const message = e.message ?? `fake ${e.status} error`;
    const data = wire === 'anthropic' ? anthropicError(e.status, message) : wire === 'gemini' ? geminiError(e.status, message, e.retryAfter) : openaiError(e.status, message);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
    res.writeHead(e.status, headers);
    res.end(JSON.stringify(data));
  }

  private async stream(res: http.ServerResponse, wire: Wire, plan: StreamPlan, a: AnswerSpec, entry: Entry | undefined, rec: RecordedRequest): Promise<void> {
    const s: WireStream =
      wire === 'anthropic' ? anthropicStream(plan) : wire === 'openai-chat' ? chatStream(plan) : wire === 'openai-responses' ? responsesStream(plan) : geminiStream(plan);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const write = (data: string) => new Promise<void>((resolve) => (data ? res.write(data, () => resolve()) : resolve()));
    await write(s.prologue);
    for (let i = 0; i <= s.deltas.length; i++) {
      if (res.destroyed) return;
      if (a.cutAfter === i) {
        rec.served = `cut after ${i}`;
        res.socket?.destroy();
        return;
      }
      if (a.holdAfter === i && entry?.hold) {
        entry.hold.reached(rec);
        await entry.hold.released;
        if (res.destroyed) return;
      }
      if (i < s.deltas.length) await write(s.deltas[i]);
    }
    await write(s.epilogue);
    res.end();
  }
}
