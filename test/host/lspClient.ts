/**
 * A minimal LSP client for the host tests: starts the REAL built host
 * (`node server/out/server.js --stdio`) as a child process and speaks JSON-RPC to it over stdio.
 * No mocks. Every await has a timeout, so a hung host fails the test instead of blocking it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type {
  CodeLens,
  CompletionItem,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  Hover,
  InitializeResult,
  LogMessageParams,
  Position,
  PublishDiagnosticsParams,
  Range,
  SymbolInformation,
  TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SERVER_JS = path.join(REPO_ROOT, 'server', 'out', 'server.js');
/** Generous: a hang must fail, not block, but a slow or busy machine must not fail (a hang guard). */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Every diagnostic code of workflow-format.md (§ Diagnostics), copied from the spec on purpose:
 * the tests check the host against the contract, not against its own list. Plus our documented
 * additions (docs/workflow-language.md, "Diagnostic codes beyond the spec"): `unknown-action`,
 * `unknown-argument`, `outside-repo`, `shell-expression`, `not-checked`, `no-git-repo`,
 * `worktree-needs-git` and `ignored-key`.
 */
export const SPEC_CODES: readonly string[] = [
  'yaml-syntax',
  'schema',
  'duplicate-id',
  'unknown-need',
  'dependency-cycle',
  'unknown-agent',
  'step-kind',
  'bad-duration',
  'bad-expression',
  'not-upstream',
  'unknown-input',
  'missing-file',
  'unreachable',
  'unknown-action',
  'unknown-argument',
  'outside-repo',
  'shell-expression',
  'not-checked',
  'no-git-repo',
  'worktree-needs-git',
  'ignored-key',
];

/** A publishDiagnostics notification, with its arrival order. */
export interface Publish extends PublishDiagnosticsParams {
  readonly seq: number;
}

interface Waiter {
  readonly uri: string;
  readonly from: number;
  readonly match: (p: Publish) => boolean;
  readonly resolve: (p: Publish) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface StartOptions {
  readonly initializationOptions?: Record<string, unknown>;
  /** Extra environment variables for the host process. */
  readonly env?: Record<string, string>;
}

export class LspClient {
  /** Every publishDiagnostics per URI, in arrival order. */
  readonly publishes = new Map<string, Publish[]>();
  /** window/logMessage notifications (the host's log). */
  readonly logs: LogMessageParams[] = [];
  /** What the host wrote on stderr (uncaught errors end up here). */
  stderr = '';
  initializeResult!: InitializeResult;

  private seq = 0;
  private waiters: Waiter[] = [];
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly connection: MessageConnection,
  ) {
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      this.exited = true;
    });
    // Writing to a host that died must fail the test through its awaits, not crash the runner.
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      this.stderr += d;
    });
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => this.onPublish(p));
    connection.onNotification('window/logMessage', (p: LogMessageParams) => {
      this.logs.push(p);
    });
  }

  /** Starts the built host and runs the initialize / initialized handshake. */
  static async start(opts: StartOptions = {}): Promise<LspClient> {
    if (!fs.existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} does not exist: run \`npm run build\` first`);
    const child = spawn(process.execPath, [SERVER_JS, '--stdio'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, connection);
    connection.listen();
    client.initializeResult = await client.request<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        textDocument: {
          synchronization: { dynamicRegistration: false },
          completion: { completionItem: { snippetSupport: false, documentationFormat: ['markdown', 'plaintext'] } },
          hover: { contentFormat: ['markdown', 'plaintext'] },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
          publishDiagnostics: { versionSupport: true },
        },
      },
      initializationOptions: opts.initializationOptions ?? {},
      workspaceFolders: null,
    });
    await client.notify('initialized', {});
    return client;
  }

  get alive(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  private onPublish(p: PublishDiagnosticsParams): void {
    const pub: Publish = { ...p, seq: this.seq++ };
    let list = this.publishes.get(p.uri);
    if (!list) this.publishes.set(p.uri, (list = []));
    list.push(pub);
    const index = list.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (w.uri !== p.uri || index < w.from || !w.match(pub)) return true;
      w.resolve(pub);
      return false;
    });
  }

  /** All publishes received so far for a URI. */
  publishesFor(uri: string): Publish[] {
    return this.publishes.get(uri) ?? [];
  }

  /** A cursor for {@link waitForDiagnostics}: publishes from now on. */
  mark(uri: string): number {
    return this.publishesFor(uri).length;
  }

  /**
   * The first publish for `uri` at or after index `from` (default: any received) that matches:
   * `version` (when given) or the predicate. Resolves at once when one has already arrived.
   */
  waitForDiagnostics(
    uri: string,
    opts: { version?: number; from?: number; match?: (p: Publish) => boolean; timeoutMs?: number } = {},
  ): Promise<Publish> {
    const from = opts.from ?? 0;
    const match = (p: Publish): boolean => (opts.version === undefined || p.version === opts.version) && (!opts.match || opts.match(p));
    const existing = this.publishesFor(uri).slice(from).find(match);
    if (existing) return Promise.resolve(existing);
    let waiter: Waiter | undefined;
    const p = new Promise<Publish>((resolve) => {
      waiter = { uri, from, match, resolve };
      this.waiters.push(waiter);
    });
    const what = `publishDiagnostics for ${uri}${opts.version !== undefined ? ` version ${opts.version}` : ''} (received: ${JSON.stringify(this.publishesFor(uri).map((x) => x.version))}, host alive: ${this.alive}, stderr: ${this.stderr.slice(-500)})`;
    return withTimeout(p, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, what).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  /** A request with a timeout; rejects on an error response. */
  request<R>(method: string, params: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<R> {
    return withTimeout(this.connection.sendRequest<R>(method, params), timeoutMs, `the answer to ${method}`);
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.connection.sendNotification(method, params);
  }

  // ---- documents --------------------------------------------------------------------------

  open(uri: string, text: string, version = 1, languageId = 'yaml'): Promise<void> {
    return this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  change(uri: string, version: number, contentChanges: TextDocumentContentChangeEvent[]): Promise<void> {
    return this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  /** Replaces the whole text (still an incremental-sync change: a range covering everything). */
  replaceAll(uri: string, version: number, text: string): Promise<void> {
    return this.change(uri, version, [{ text }]);
  }

  close(uri: string): Promise<void> {
    return this.notify('textDocument/didClose', { textDocument: { uri } });
  }

  /** didOpen and the publish for that version. */
  async openAndWait(uri: string, text: string, version = 1, languageId = 'yaml'): Promise<Publish> {
    const from = this.mark(uri);
    await this.open(uri, text, version, languageId);
    return this.waitForDiagnostics(uri, { version, from });
  }

  // ---- features ---------------------------------------------------------------------------

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const r = await this.request<CompletionItem[] | CompletionList | null>('textDocument/completion', { textDocument: { uri }, position });
    if (!r) return [];
    return Array.isArray(r) ? r : r.items;
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
  }

  documentSymbols(uri: string): Promise<DocumentSymbol[] | SymbolInformation[] | null> {
    return this.request<DocumentSymbol[] | SymbolInformation[] | null>('textDocument/documentSymbol', { textDocument: { uri } });
  }

  codeLenses(uri: string): Promise<CodeLens[] | null> {
    return this.request<CodeLens[] | null>('textDocument/codeLens', { textDocument: { uri } });
  }

  /** Errors the host logged (its handlers turn a crash into a logged error and an empty answer). */
  errorLogs(): string[] {
    return this.logs.filter((l) => l.type === 1).map((l) => l.message);
  }

  // ---- shutdown ---------------------------------------------------------------------------

  /** Kills the host at once (for a host that hangs); the client is unusable afterwards. */
  async kill(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGKILL');
      await withTimeout(this.exitPromise, 3_000, 'the host to die').catch(() => undefined);
    }
    this.connection.dispose();
  }

  /** shutdown + exit, then a kill when the host is still alive after a grace period. */
  async stop(): Promise<void> {
    if (this.alive) {
      try {
        await this.request('shutdown', null, 5_000);
        await this.notify('exit', null);
      } catch {
        // A host that does not answer is killed below.
      }
      await withTimeout(this.exitPromise, 3_000, 'the host to exit').catch(() => undefined);
      if (this.alive) {
        this.child.kill('SIGKILL');
        await withTimeout(this.exitPromise, 3_000, 'the host to die').catch(() => undefined);
      }
    }
    this.connection.dispose();
  }
}

// ---- text helpers -------------------------------------------------------------------------

/**
 * The document's lines as LSP sees them: `\r\n`, `\n` and a lone `\r` all end a line
 * (as in vscode-languageserver-textdocument).
 */
export function lspLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** The position of the `n`-th (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, n = 0): Position {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at === -1) throw new Error(`'${needle}' (occurrence ${n}) not in the text`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export function range(line: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line, character: startChar }, end: { line: endLine, character: endChar } };
}

/** A diagnostic's message as text (LSP 3.18 also allows markup). */
export function messageOf(d: Diagnostic): string {
  const m: unknown = d.message;
  if (typeof m === 'string') return m;
  return m && typeof m === 'object' && 'value' in m ? String(m.value) : '';
}

/** `code@l:c-l:c` for readable, exact comparisons of diagnostics. */
export function summarize(d: Diagnostic): string {
  const r = d.range;
  return `${String(d.code)}@${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

export function hoverText(h: Hover | null): string {
  if (!h) return '';
  const c = h.contents;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((x) => (typeof x === 'string' ? x : x.value)).join('\n');
  return c.value;
}

let uriCounter = 0;
/** A fresh workflow URI (the host only handles workflow file names). */
export function freshUri(stem: string): string {
  return `file:///tmp/orchestrator-host-test/${stem}-${process.pid}-${uriCounter++}.workflow.yaml`;
}
