/**
 * The HTTP part shared by the providers: POST a JSON body, check the status, and hand over the
 * response's Server-Sent Events, turning every failure into a ProviderError that says what to do.
 *
 * Timeout: `timeoutMs` is an idle timeout, armed while waiting for the response headers and
 * between two pieces of the body; each piece re-arms it.
 * Cancel: the request's signal aborts the fetch (and the body read); the error says "cancelled"
 * and is not retryable.
 */
import { ProviderError } from './provider';
import { parseSSE, type SSEEvent } from './sse';

export interface StreamCall {
  /** e.g. `openai provider 'local'`: the prefix of every message. */
  label: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  timeoutMs: number;
  /** Name of the secret holding the key, for 401/403 advice. */
  keySecret: string;
  /** Whether a key was sent. */
  hasKey: boolean;
  /** The model asked for, for 404 advice. */
  model: string;
}

/** What the handler gets: either a JSON body (the server did not stream) or the event stream. */
export type StreamBody = { kind: 'json'; value: unknown } | { kind: 'events'; events: AsyncIterable<SSEEvent> };

const MAX_ERROR_BODY = 4000;
const IDLE = Symbol('idle timeout');

/** POSTs the call and lets `handle` consume the answer; cleans up whatever happens. */
export async function streamRequest<T>(call: StreamCall, handle: (body: StreamBody) => Promise<T>): Promise<T> {
  const { label, url, signal } = call;
  if (signal.aborted) throw cancelled(label);

  const ac = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort(IDLE);
    }, call.timeoutMs);
  };
  const onAbort = () => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });

  /** The error for a failed read or fetch once the cause is one of ours (cancel, idle timeout). */
  const ourAbort = (): ProviderError | undefined => {
    if (signal.aborted) return cancelled(label);
    if (timedOut) {
      return new ProviderError(
        `${label}: no data from ${url} for ${formatMs(call.timeoutMs)}: the server is slow or stuck; retry later, or raise the provider's timeout`,
        true,
      );
    }
    return undefined;
  };

  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { ...call.headers, 'content-type': 'application/json', accept: 'text/event-stream, application/json' },
        body: JSON.stringify(call.body),
        signal: ac.signal,
      });
    } catch (e) {
      throw ourAbort() ?? fetchError(label, url, e);
    }
    arm();

    if (!res.ok) {
      let text = '';
      try {
        text = (await res.text()).slice(0, MAX_ERROR_BODY);
      } catch (e) {
        const ours = ourAbort();
        if (ours) throw ours;
        void e; // the status says enough
      }
      throw statusError(call, res.status, text);
    }

    const type = res.headers.get('content-type') ?? '';
    if (type.includes('application/json')) {
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        throw ourAbort() ?? endedEarly(label, url, e);
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ProviderError(`${label}: the answer from ${url} is not valid JSON (${snippet(text)}): the stream ended before the answer was complete; retry`, true);
      }
      return await handle({ kind: 'json', value });
    }
    if (!res.body) throw endedEarly(label, url);

    const body = res.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const reader = body.getReader();
      try {
        for (;;) {
          const r = await reader.read().catch((e: unknown) => {
            throw ourAbort() ?? endedEarly(label, url, e);
          });
          if (r.done) return;
          arm();
          yield r.value;
        }
      } finally {
        reader.cancel().catch(() => undefined);
      }
    }
    return await handle({ kind: 'events', events: parseSSE(chunks()) });
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

export function cancelled(label: string): ProviderError {
  return new ProviderError(`${label}: cancelled`, false);
}

export function endedEarly(label: string, url: string, cause?: unknown): ProviderError {
  const why = cause === undefined ? '' : `; ${describe(cause)}`;
  return new ProviderError(`${label}: the stream ended before the answer was complete (from ${url}${why}): retry`, true);
}

/** A data line that is not the JSON the format says. */
export function malformed(label: string, url: string, data: string): ProviderError {
  return new ProviderError(
    `${label}: malformed event data from ${url} (not JSON: ${snippet(data)}): the stream ended before the answer was complete; retry, and check the base_url points at the right kind of server if it persists`,
    true,
  );
}

export function parseJSON(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The server's own message from an error body ({error: {message}}, {error: "..."}, {message}) or text. */
export function serverMessage(body: unknown, raw?: string): string | undefined {
  if (isObject(body)) {
    const err = body.error;
    if (isObject(err) && typeof err.message === 'string') return err.message;
    if (typeof err === 'string') return err;
    if (typeof body.message === 'string') return body.message;
    if (typeof body.detail === 'string') return body.detail;
  }
  const t = raw?.trim();
  return t ? snippet(t) : undefined;
}

function statusError(call: StreamCall, status: number, text: string): ProviderError {
  const { label, url } = call;
  const said = serverMessage(parseJSON(text), text);
  const tail = said ? ` (server said: ${said})` : '';
  const head = `${label}: HTTP ${status} from ${url}`;
  if (status === 401) {
    const advice = call.hasKey ? `check the api key (secret ${call.keySecret})` : `no api key was sent: set the secret ${call.keySecret}`;
    return new ProviderError(`${head}: ${advice}${tail}`, false, status);
  }
  if (status === 403) return new ProviderError(`${head}: the api key (secret ${call.keySecret}) is not allowed to do this; check its permissions and the model '${call.model}'${tail}`, false, status);
  if (status === 404) return new ProviderError(`${head}: not found; check the base_url and the model name '${call.model}'${tail}`, false, status);
  if (status === 429) return new ProviderError(`${label}: HTTP 429 (rate limited) from ${url}: retry later${tail}`, true, status);
  if (status === 408) return new ProviderError(`${head} (request timeout): retry${tail}`, true, status);
  if (status === 529) return new ProviderError(`${head} (overloaded): retry later${tail}`, true, status);
  if (status >= 500) return new ProviderError(`${head} (server error): retry later${tail}`, true, status);
  return new ProviderError(`${head}: the server rejected the request; check the model, options and prompt${tail}`, false, status);
}

function fetchError(label: string, url: string, e: unknown): ProviderError {
  const code = errorCode(e);
  const host = hostOf(url);
  switch (code) {
    case 'ECONNREFUSED':
      return new ProviderError(`${label}: connection refused at ${url}: is the server running?`, true);
    case 'ENOTFOUND':
      return new ProviderError(`${label}: cannot resolve the host '${host}' of ${url}: check the base_url`, false);
    case 'EAI_AGAIN':
      return new ProviderError(`${label}: cannot resolve the host '${host}' of ${url} right now (DNS): retry later`, true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return new ProviderError(`${label}: the connection to ${url} was closed before an answer: retry`, true);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ProviderError(`${label}: timed out connecting to ${url}: check the network, or retry later`, true);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ProviderError(`${label}: ${host} is unreachable (${url}): check the network and the base_url`, true);
    default:
      if (code && /CERT|TLS|SSL/i.test(code)) {
        return new ProviderError(`${label}: TLS error talking to ${url} (${code}): check the base_url and the server's certificate`, false);
      }
      return new ProviderError(`${label}: could not reach ${url} (${describe(e)}): check the base_url, or retry later`, true);
  }
}

function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; isObject(cur) || cur instanceof Error; depth++) {
    if (depth > 5) break;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (cur as { errors?: unknown }).errors; // AggregateError (IPv4 + IPv6 attempts)
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = errorCode(errors[0]);
      if (inner) return inner;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? `: ${cause.message || errorCode(cause) || cause.name}` : '';
  return `${e.message || e.name}${inner}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function snippet(s: string, max = 120): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `${base}/${path}` without a doubled or missing slash; throws a clear error for a bad base_url. */
export function joinUrl(label: string, base: string, path: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new ProviderError(`${label}: base_url '${base}' is not a valid URL (expected e.g. http://localhost:11434/v1)`, false);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ProviderError(`${label}: base_url '${base}' must start with http:// or https://`, false);
  }
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
