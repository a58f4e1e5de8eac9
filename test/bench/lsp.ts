/**
 * A minimal LSP client for the benchmark: starts a language server as a child process, talks
 * JSON-RPC over its stdio (vscode-jsonrpc, as any editor would), records every
 * `textDocument/publishDiagnostics` with the time it arrived, and lets the bench wait for the
 * diagnostics of one URI (and version) it cares about.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
export interface Diagnostic {
  range: Range;
  message: string;
  severity?: number;
  code?: string | number;
  source?: string;
}
export interface PublishDiagnosticsParams {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}
export interface Published {
  /** performance.now() when the notification reached the bench. */
  readonly at: number;
  readonly params: PublishDiagnosticsParams;
}
export interface LogEntry {
  readonly at: number;
  readonly type: number;
  readonly message: string;
}
export interface ContentChange {
  range: Range;
  text: string;
}

interface Waiter {
  readonly uri: string;
  readonly accept: (p: PublishDiagnosticsParams) => boolean;
  readonly resolve: (p: Published) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ServerOptions {
  /** Name used in messages. */
  readonly name: string;
  /** Arguments for `node` (script and flags). */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Answers `workspace/configuration` items (one value per item). */
  readonly configuration?: (section: string | undefined) => unknown;
}

/** A failure of the bench's subject or setup (reported without a stack). */
export class BenchError extends Error {}

/** Every server started, so they can all be killed on exit, whatever happens. */
const live = new Set<LspServer>();

export function killAllServers(): void {
  for (const s of live) s.kill();
}

export class LspServer {
  readonly name: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly conn: MessageConnection;
  private readonly published = new Map<string, Published[]>();
  private readonly waiters = new Set<Waiter>();
  private stderrTail = '';
  private deadReason: Error | undefined;
  private closing = false;
  /** `window/logMessage` notifications received (the last 1000). */
  readonly logs: LogEntry[] = [];
  /** `workspace/configuration` requests answered so far. */
  configurationRequests = 0;

  constructor(private readonly opts: ServerOptions) {
    this.name = opts.name;
    this.child = spawn(process.execPath, [...opts.args], { stdio: 'pipe', env: opts.env ?? process.env });
    live.add(this);
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    this.child.on('error', (e) => this.die(new BenchError(`${this.name}: could not start: ${e.message}`)));
    this.child.on('exit', (code, signal) => {
      live.delete(this);
      if (!this.closing) this.die(new BenchError(`${this.name} exited unexpectedly (code ${String(code)}, signal ${String(signal)})${this.stderrTail ? `; stderr:\n${this.stderrTail}` : ''}`));
    });
    this.conn = createMessageConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.conn.onNotification((method: string, params: unknown) => {
      if (method === 'window/logMessage') {
        const m = params as { type: number; message: string };
        this.logs.push({ at: performance.now(), type: m.type, message: m.message });
        if (this.logs.length > 1000) this.logs.splice(0, this.logs.length - 1000);
        return;
      }
      if (method !== 'textDocument/publishDiagnostics') return;
      const at = performance.now();
      const p = params as PublishDiagnosticsParams;
      const entry: Published = { at, params: p };
      let list = this.published.get(p.uri);
      if (!list) this.published.set(p.uri, (list = []));
      list.push(entry);
      for (const w of this.waiters) {
        if (w.uri === p.uri && w.accept(p)) {
          this.waiters.delete(w);
          clearTimeout(w.timer);
          w.resolve(entry);
        }
      }
    });
    this.conn.onRequest((method: string, params: unknown) => {
      switch (method) {
        case 'workspace/configuration': {
          this.configurationRequests++;
          const items = ((params as { items?: { section?: string }[] } | undefined)?.items ?? []);
          return items.map((it) => (opts.configuration ? opts.configuration(it.section) : null) ?? null);
        }
        case 'client/registerCapability':
        case 'client/unregisterCapability':
        case 'window/workDoneProgress/create':
          return null;
        case 'workspace/workspaceFolders':
          return [];
        default:
          return null;
      }
    });
    this.conn.onError(([e]) => this.die(new BenchError(`${this.name}: connection error: ${e.message}`)));
    this.conn.onClose(() => {
      // Usually the process is exiting: give its exit event (code, signal) a moment to say so.
      if (!this.closing) setTimeout(() => this.die(new BenchError(`${this.name}: connection closed unexpectedly${this.stderrTail ? `; stderr:\n${this.stderrTail}` : ''}`)), 200).unref();
    });
    this.conn.listen();
  }

  get stderr(): string {
    return this.stderrTail;
  }

  /** The server's process id (for its memory in /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private die(e: Error): void {
    if (this.deadReason) return;
    this.deadReason = e;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
  }

  private check(): void {
    if (this.deadReason) throw this.deadReason;
  }

  async initialize(capabilities: Record<string, unknown>, initializationOptions?: unknown, rootUri: string | null = null): Promise<Record<string, unknown>> {
    this.check();
    const result = await this.conn.sendRequest<Record<string, unknown>>('initialize', {
      processId: process.pid,
      clientInfo: { name: 'synapse-bench', version: '1' },
      locale: 'en',
      rootUri,
      workspaceFolders: rootUri ? [{ uri: rootUri, name: 'bench' }] : null,
      capabilities,
      initializationOptions,
    });
    await this.conn.sendNotification('initialized', {});
    return result;
  }

  async notify(method: string, params: unknown): Promise<void> {
    this.check();
    await this.conn.sendNotification(method, params);
  }

  /**
   * Waits for a publishDiagnostics of `uri` that `accept` takes. Register it before sending the
   * notification that causes it. Rejects on timeout or when the server dies.
   */
  waitForDiagnostics(uri: string, accept: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 60_000): Promise<Published> {
    this.check();
    return new Promise<Published>((resolve, reject) => {
      const w: Waiter = {
        uri,
        accept,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          reject(new BenchError(`${this.name}: no diagnostics for ${uri} within ${timeoutMs} ms${this.stderrTail ? `; stderr:\n${this.stderrTail}` : ''}`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  /** Every publishDiagnostics received for `uri` so far. */
  publishedFor(uri: string): readonly Published[] {
    return this.published.get(uri) ?? [];
  }

  forget(uri: string): void {
    this.published.delete(uri);
  }

  /** Sends didOpen; returns performance.now() just before sending. */
  async open(uri: string, languageId: string, version: number, text: string): Promise<number> {
    this.check();
    const t0 = performance.now();
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    return t0;
  }

  /** Sends an incremental didChange; returns performance.now() just before sending. */
  async change(uri: string, version: number, changes: ContentChange[]): Promise<number> {
    this.check();
    const t0 = performance.now();
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return t0;
  }

  async close(uri: string): Promise<void> {
    this.check();
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Polite shutdown (shutdown request + exit), then a kill if it lingers. */
  async shutdown(): Promise<void> {
    if (this.deadReason || this.closing) {
      this.kill();
      return;
    }
    this.closing = true;
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), softDelay(3000)]);
      await this.conn.sendNotification('exit');
    } catch {
      // it is going away anyway
    }
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    await Promise.race([exited, softDelay(2000)]);
    this.kill();
  }

  kill(): void {
    this.closing = true;
    this.conn.dispose();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    live.delete(this);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A delay that does not keep the process alive (for races against an answer). */
function softDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
