/**
 * A loopback HTTP server for the API providers' tests (OpenAI-compatible and Anthropic): it
 * records every request and answers with the test's handler; plus collecting a provider's run.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderError, type AgentResult, type Provider } from '../../server/src/agents/provider';

export interface Seen {
  headers: http.IncomingHttpHeaders;
  body: unknown;
  url: string;
}
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => Promise<void> | void;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Waits until the client (or the test's cleanup) closes the connection. */
export const hang = (res: http.ServerResponse) => new Promise<void>((r) => (res.destroyed ? r() : res.on('close', () => r())));

/**
 * What the client reported, for a server that must not run ahead of it: the server waits for the
 * n-th report before it sends the next piece, so "delivered as it arrived" is a fact, not a timing.
 */
export class Acks {
  private count = 0;
  private waiters: { n: number; resolve: (ok: boolean) => void }[] = [];
  /** Pieces the server sent without the report it waited for (its hang guard ran out). */
  readonly missed: number[] = [];

  /** The client got one more piece. */
  readonly ack = (): void => {
    this.count++;
    for (const w of this.waiters.filter((x) => x.n <= this.count)) w.resolve(true);
    this.waiters = this.waiters.filter((x) => x.n > this.count);
  };

  /** Resolves once `n` reports came (true), or after `guardMs` without them (false, recorded in `missed`). */
  async wait(n: number, guardMs = 30_000): Promise<boolean> {
    if (this.count >= n) return true;
    let timer: NodeJS.Timeout | undefined;
    const ok = await new Promise<boolean>((resolve) => {
      this.waiters.push({ n, resolve });
      timer = setTimeout(() => resolve(false), guardMs);
    });
    clearTimeout(timer);
    if (!ok) this.missed.push(n);
    return ok;
  }
}

/** Runs `fn` with a server on 127.0.0.1 (its base URL is `http://127.0.0.1:PORT` + `basePath`). */
export async function withServer(handler: Handler, fn: (baseUrl: string, seen: Seen[]) => Promise<void>, basePath = ''): Promise<void> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      const s: Seen = { headers: req.headers, body: raw ? JSON.parse(raw) : undefined, url: req.url ?? '' };
      seen.push(s);
      Promise.resolve(handler(req, res, s)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}${basePath}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A port nothing listens on (it was free a moment ago): for "connection refused". */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts a server-sent events answer. */
export function startStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export interface CollectOptions {
  model?: string;
  instructions?: string;
  signal?: AbortSignal;
  options?: Record<string, unknown>;
  /** Called with each chunk as the provider reports it. */
  onChunk?: (text: string) => void;
}

/** Runs the provider on "Say hello", recording each chunk with the time it arrived. */
export async function collectRun(provider: Provider, opts: CollectOptions = {}) {
  const chunks: { text: string; at: number }[] = [];
  const start = Date.now();
  const result: AgentResult = await provider.run(
    { prompt: 'Say hello', model: opts.model, instructions: opts.instructions, options: opts.options, signal: opts.signal ?? new AbortController().signal },
    (c) => {
      chunks.push({ text: c.text, at: Date.now() - start });
      opts.onChunk?.(c.text);
    },
  );
  return { result, chunks, elapsed: Date.now() - start };
}

/** An assert.rejects predicate: a ProviderError with this message, retryability and status. */
export function expectError(re: RegExp, retryable: boolean, status?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof ProviderError, `not a ProviderError: ${String(e)}`);
    assert.match(e.message, re);
    assert.equal(e.retryable, retryable, e.message);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  };
}
