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
import { PlanRequest, ValidateRequest, type PlanResult, type RequestDescriptor, type WorkflowProblem } from '../protocol';
import { graphOfPlan } from '../workflow/graph';
import { compileWorkflow, formatPlan, planWorkflow } from '../workflow/plan';
import type { LineIndex } from '../workflow/problems';
import type { Validation } from '../workflow/validate';
import { DocumentValidator, filePathOf, isWorkflowUri, validateDocument, type Logger } from './documents';
import { SessionHost } from './sessions';
import { findRepoRoot } from '../engine/sessions';
import { codeLenses, completion, documentSymbols, hover, toDiagnostic, toRange } from './language';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];

export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): Connection {
  const documents = new TextDocuments(TextDocument);
  let level: Level = 'info';
  let trusted = true;
  const log: Logger = {
    error: (m) => connection.console.error(m),
    warn: (m) => LEVELS.indexOf(level) >= 1 && connection.console.warn(m),
    info: (m) => LEVELS.indexOf(level) >= 2 && connection.console.info(m),
    debug: (m) => LEVELS.indexOf(level) >= 3 && connection.console.log(m),
  };

  const validator = new DocumentValidator((state) => {
    void connection.sendDiagnostics({ uri: state.uri, version: state.version, diagnostics: state.validation.problems.map((p) => toDiagnostic(state.index, p)) });
  }, log);

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

  const stateOf = (uri: string) => {
    const doc = documents.get(uri);
    if (!doc || !handles(doc)) return undefined;
    return validator.current(uri, doc.version, doc.getText());
  };

  let sessions: SessionHost | undefined;
  connection.onInitialize((params): InitializeResult => {
    const opts = (params.initializationOptions ?? {}) as { logLevel?: string; trusted?: boolean; repoRoot?: string; defaults?: { concurrency?: number; stuckAfter?: string } };
    if (LEVELS.includes(opts.logLevel as Level)) level = opts.logLevel as Level;
    if (typeof opts.trusted === 'boolean') trusted = opts.trusted;
    const folder = opts.repoRoot ?? params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    const dir = folder ? (folder.startsWith('file:') ? filePathOf(folder) : folder) : undefined;
    if (dir) {
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
    if (!handles(e.document)) return;
    safe('validation', undefined, () => validator.validateNow(e.document.uri, e.document.version, e.document.getText()));
  });
  documents.onDidChangeContent((e) => {
    if (!handles(e.document)) return;
    // onDidChangeContent also fires for open; open was validated at once.
    const known = validator.get(e.document.uri);
    if (!known || known.version === e.document.version) return;
    validator.schedule(e.document.uri, e.document.version, () => {
      const d = documents.get(e.document.uri);
      return d ? { version: d.version, text: d.getText() } : undefined;
    });
  });
  documents.onDidClose((e) => {
    validator.close(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onCompletion((p) => safe('completion', [], () => {
    const s = stateOf(p.textDocument.uri);
    return s ? completion(s.validation, s.index, p.position) : [];
  }));
  connection.onHover((p) => safe('hover', null, () => {
    const s = stateOf(p.textDocument.uri);
    return s ? hover(s.validation, s.index, p.position) : null;
  }));
  connection.onDocumentSymbol((p) => safe('documentSymbol', [], () => {
    const s = stateOf(p.textDocument.uri);
    return s ? documentSymbols(s.validation, s.index) : [];
  }));
  connection.onCodeLens((p) => safe('codeLens', [], () => {
    const s = stateOf(p.textDocument.uri);
    return s ? codeLenses(s.validation, s.index, p.textDocument.uri, trusted) : [];
  }));

  /** The open document's validation, or the file on disk's. */
  const validationFor = (uri: string): { validation: Validation; index: LineIndex } => {
    const open = stateOf(uri);
    if (open) return open;
    const file = filePathOf(uri);
    if (!file) throw new Error(`not a file: ${uri}`);
    return validateDocument(uri, fs.readFileSync(file, 'utf8'), log);
  };
  const problemsOf = (v: Validation, index: LineIndex): WorkflowProblem[] =>
    v.problems.map((p) => ({ code: p.code, severity: p.severity, message: p.message, range: toRange(index, p.span) }));

  /** Registers a handler for a protocol request, typed by its descriptor. */
  const handle = <P, R>(req: RequestDescriptor<P, R>, f: (params: P) => R | Promise<R>): void => {
    connection.onRequest(req.method, async (params: P): Promise<R> => f(params));
  };

  handle(ValidateRequest, (p) => {
    const { validation, index } = validationFor(p.uri);
    return { uri: p.uri, problems: problemsOf(validation, index) };
  });
  handle(PlanRequest, (p): PlanResult => {
    const { validation, index } = validationFor(p.uri);
    if (validation.problems.some((x) => x.severity === 'error')) return { ok: false, problems: problemsOf(validation, index) };
    const compiled = compileWorkflow(validation);
    const plan = planWorkflow(compiled);
    return { ok: true, ...plan, text: formatPlan(plan), inputs: compiled.definition.inputs ?? {}, graph: graphOfPlan(plan, plan.workflow) };
  });

  connection.onInitialized(() => {
    try {
      sessions?.start();
    } catch (e) {
      log.error(`cannot follow the sessions of this workspace: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  connection.onShutdown(() => sessions?.stop());

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
