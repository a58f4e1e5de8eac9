/**
 * The orchestrator host: an LSP server over stdio for workflow files, plus the custom
 * `orchestrator/*` requests of the protocol module. The only code that imports
 * vscode-languageserver; everything it does is a call into the workflow engine.
 */
import * as fs from 'node:fs';
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { PlanRequest, ValidateRequest, type RequestDescriptor } from '../protocol';
import { ConfigDocuments } from './configDocuments';
import { DocumentValidator, filePathOf, isWorkflowUri, type Logger } from './documents';
import type { FeatureRequest, FeatureResult } from './features';
import { SessionHost } from './sessions';
import { registerDoctorRequests } from './doctor';
import { registerSetupRequests } from './setup';
import { findRepoRoot } from '../engine/sessions';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];

/**
 * `workerEntry`: the script the validation worker runs (this bundle: see server.ts at the root);
 * without it, every document is validated on the main thread.
 */
export function startServer(connection: Connection = createConnection(ProposedFeatures.all), workerEntry?: string): Connection {
  const documents = new TextDocuments(TextDocument);
  let level: Level = 'info';
  let trusted = true;
  const log: Logger = {
    error: (m) => connection.console.error(m),
    warn: (m) => LEVELS.indexOf(level) >= 1 && connection.console.warn(m),
    info: (m) => LEVELS.indexOf(level) >= 2 && connection.console.info(m),
    debug: (m) => LEVELS.indexOf(level) >= 3 && connection.console.log(m),
  };

  const validator = new DocumentValidator(
    (uri, version, diagnostics) => void connection.sendDiagnostics({ uri, version, diagnostics }),
    log,
    workerEntry ? { workerEntry } : {},
  );

  const configs = new ConfigDocuments((uri, version, diagnostics) => void connection.sendDiagnostics({ uri, version, diagnostics }));
  const handles = (doc: TextDocument): boolean => doc.languageId === 'orchestrator-workflow' || isWorkflowUri(doc.uri);

  /** Runs a handler; a bug becomes a logged error and an empty answer, never a crash. */
  function safe<T>(what: string, fallback: T, f: () => T): T {
    try {
      return f();
    } catch (e) {
      log.error(`internal error in ${what} (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  }

  /** Runs an async handler; a bug becomes a logged error and an empty answer, never a crash. */
  async function safeAsync<T>(what: string, fallback: T, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      log.error(`internal error in ${what} (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return fallback;
    }
  }

  /** The answer about an open workflow document, or undefined when it is not one. */
  const featureOf = async <R extends FeatureRequest>(uri: string, req: R): Promise<FeatureResult<R> | undefined> => {
    const doc = documents.get(uri);
    if (!doc || !handles(doc)) return undefined;
    return validator.feature(uri, doc.version, doc.getText(), req);
  };

  let sessions: SessionHost | undefined;
  let repoRoot: string | undefined;
  connection.onInitialize((params): InitializeResult => {
    const opts = (params.initializationOptions ?? {}) as { logLevel?: string; trusted?: boolean; repoRoot?: string; defaults?: { concurrency?: number; stuckAfter?: string } };
    if (LEVELS.includes(opts.logLevel as Level)) level = opts.logLevel as Level;
    if (typeof opts.trusted === 'boolean') trusted = opts.trusted;
    const folder = opts.repoRoot ?? params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const dir = folder ? (folder.startsWith('file:') ? filePathOf(folder) : folder) : undefined;
    if (dir) {
      repoRoot = findRepoRoot(dir);
      sessions = new SessionHost(connection, { repoRoot: findRepoRoot(dir), trusted: () => trusted, log, runnerEnv: runnerEnv(opts.defaults) });
    }
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['.', ' ', ':', '[', ',', '-'] },
        hoverProvider: true,
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'orchestrator-host', version: '0.1.0' },
    };
  });

  documents.onDidOpen((e) => {
    if (safe('config validation', false, () => configs.update(e.document))) return;
    if (!handles(e.document)) return;
    safe('validation', undefined, () => validator.open(e.document.uri, e.document.version, e.document.getText()));
  });
  documents.onDidChangeContent((e) => {
    if (safe('config validation', false, () => configs.update(e.document))) return;
    if (!handles(e.document)) return;
    // onDidChangeContent also fires for open (after onDidOpen): open validated at once.
    const known = validator.versionOf(e.document.uri);
    if (known === undefined || known === e.document.version) return;
    validator.schedule(e.document.uri, e.document.version, () => {
      const d = documents.get(e.document.uri);
      return d ? { version: d.version, text: d.getText() } : undefined;
    });
  });
  documents.onDidClose((e) => {
    validator.close(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onCompletion((p) => safeAsync('completion', [], async () => configs.completion(documents.get(p.textDocument.uri), p.position) ?? (await featureOf(p.textDocument.uri, { kind: 'completion', position: p.position })) ?? []));
  connection.onHover((p) => safeAsync('hover', null, async () => configs.hover(documents.get(p.textDocument.uri), p.position) ?? (await featureOf(p.textDocument.uri, { kind: 'hover', position: p.position })) ?? null));
  connection.onDocumentSymbol((p) => safeAsync('documentSymbol', [], async () => (await featureOf(p.textDocument.uri, { kind: 'symbols' })) ?? []));
  connection.onCodeLens((p) =>
    safeAsync('codeLens', [], async () => (await featureOf(p.textDocument.uri, { kind: 'codeLens', uri: p.textDocument.uri, trusted })) ?? []),
  );

  /** The answer about the open document, or else about the file on disk. */
  const featureOfFile = async <R extends FeatureRequest>(uri: string, req: R): Promise<FeatureResult<R>> => {
    const open = await featureOf(uri, req);
    if (open !== undefined) return open;
    const file = filePathOf(uri);
    if (!file) throw new Error(`not a file: ${uri}`);
    return validator.fileFeature(uri, fs.readFileSync(file, 'utf8'), req);
  };

  /** Registers a handler for a protocol request, typed by its descriptor. */
  const handle = <P, R>(req: RequestDescriptor<P, R>, f: (params: P) => R | Promise<R>): void => {
    connection.onRequest(req.method, async (params: P): Promise<R> => f(params));
  };

  handle(ValidateRequest, async (p) => ({ uri: p.uri, problems: await featureOfFile(p.uri, { kind: 'problems' }) }));
  handle(PlanRequest, (p) => featureOfFile(p.uri, { kind: 'plan' }));
  registerDoctorRequests(connection, { repoRoot: () => repoRoot, trusted: () => trusted, log });
  registerSetupRequests(connection, () => sessions?.watcher.repoRoot, log);

  connection.onInitialized(() => {
    try {
      sessions?.start();
    } catch (e) {
      log.error(`cannot follow the sessions of this workspace: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  connection.onShutdown(() => {
    sessions?.stop();
    validator.stop();
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}

/** The editor's `orchestrator.defaults.*` settings, as the ORCHESTRATOR_* variables runners read. */
function runnerEnv(d: { concurrency?: number; stuckAfter?: string } | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (d?.concurrency && Number.isInteger(d.concurrency) && d.concurrency > 0) env.ORCHESTRATOR_CONCURRENCY = String(d.concurrency);
  if (d?.stuckAfter && d.stuckAfter.trim()) env.ORCHESTRATOR_STUCK_AFTER = d.stuckAfter.trim();
  return env;
}
