/**
 * Validation of open documents: at once on open, debounced on change; a result is published
 * only if the document has not changed since (stale runs are dropped). Keeps the latest
 * validation per document for completion, hover, symbols and code lenses.
 *
 * Where: a document of up to INLINE_MAX_LENGTH characters on the main thread (milliseconds);
 * a longer one in the validation worker (offThread.ts), which also answers the requests about
 * it, so that a large or hostile file never keeps the host from answering the others.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import type { Diagnostic } from 'vscode-languageserver';
import { findRepoRoot } from '../engine/sessions';
import { ChunkCache } from '../workflow/chunked';
import { LineIndex } from '../workflow/problems';
import { fileExists, isGitRepo, validateWorkflow, type Validation } from '../workflow/validate';
import { answer, diagnosticsOf, type FeatureRequest, type FeatureResult } from './features';
import { ValidationWorker } from './offThread';

export interface DocState {
  readonly uri: string;
  readonly version: number;
  readonly validation: Validation;
  readonly index: LineIndex;
}

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function filePathOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a URI names a workflow file (workflow-format.md's file patterns). */
export function isWorkflowUri(uri: string): boolean {
  const p = decodeURIComponent(uri.replace(/^[a-z]+:\/\//i, '/'));
  return /(^|\/)workflow\.ya?ml$/.test(p) || /\.workflow\.ya?ml$/.test(p) || /(^|\/)\.orchestrator\/workflows\/.+\.ya?ml$/.test(p);
}

/**
 * Tests only: with ORCHESTRATOR_TEST_HOLD_VALIDATION=<fifo>, validating a text that contains
 * HOLD_MARKER first reads that fifo while it exists, i.e. waits until the test writes to it (and
 * removes it). It lets a test observe the host while a validation is under way, without guessing
 * how long one takes.
 */
export const HOLD_MARKER = '# orchestrator-test: hold validation';

export function validateDocument(uri: string, text: string, log: Logger, cache?: ChunkCache): { validation: Validation; index: LineIndex } {
  const hold = process.env.ORCHESTRATOR_TEST_HOLD_VALIDATION;
  if (hold && text.includes(HOLD_MARKER) && fs.existsSync(hold)) fs.readFileSync(hold);
  const file = filePathOf(uri);
  const validation = validateWorkflow(text, { ...(file ? { file, repoRoot: findRepoRoot(path.dirname(file)), fileExists, isGitRepo } : {}), ...(cache ? { cache } : {}) });
  log.debug(`validated ${uri} in ${Object.values(validation.timings).reduce((a, b) => a + b, 0).toFixed(1)} ms (${validation.chunked ? 'chunked' : 'whole'} parse ${validation.timings.yaml?.toFixed(1)} ms): ${validation.problems.length} problem(s)`);
  for (const e of validation.internalErrors) {
    const err = e.error instanceof Error ? `${e.error.message}\n${e.error.stack ?? ''}` : String(e.error);
    log.error(`internal error in the '${e.check}' check of ${uri} (other checks still ran; please report it): ${err}`);
  }
  return { validation, index: new LineIndex(text) };
}

/** 200 ms, or ORCHESTRATOR_DEBOUNCE_MS (tests and the benchmark set it). */
function debounceFromEnv(): number {
  const v = Number(process.env.ORCHESTRATOR_DEBOUNCE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 200;
}

/** Longer texts are validated in the worker (when there is one). */
export const INLINE_MAX_LENGTH = 32 * 1024;

export type Publish = (uri: string, version: number, diagnostics: Diagnostic[]) => void;

export interface ValidatorOptions {
  readonly debounceMs?: number;
  /** The script a worker thread runs to validate large documents; without it, all run inline. */
  readonly workerEntry?: string;
}

export class DocumentValidator {
  /** The latest validation of each document validated inline. */
  private readonly states = new Map<string, DocState>();
  /** The latest version of each open document (what a result must match to be published). */
  private readonly versions = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Parsed chunks per document, so an edit re-parses only what changed. */
  private readonly caches = new Map<string, ChunkCache>();
  private readonly worker: ValidationWorker | undefined;
  private readonly debounceMs: number;

  constructor(
    private readonly publish: Publish,
    private readonly log: Logger,
    options: ValidatorOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? debounceFromEnv();
    this.worker = options.workerEntry ? new ValidationWorker(options.workerEntry, log) : undefined;
  }

  /** The latest version opened or changed (undefined: not open). */
  versionOf(uri: string): number | undefined {
    return this.versions.get(uri);
  }

  /** Validates now (open). */
  open(uri: string, version: number, text: string): void {
    this.cancel(uri);
    this.versions.set(uri, version);
    this.run(uri, version, text);
  }

  /** Validates after the debounce; a newer change restarts the wait. */
  schedule(uri: string, version: number, getText: () => { version: number; text: string } | undefined): void {
    this.cancel(uri);
    this.versions.set(uri, version);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        const doc = getText();
        if (!doc || doc.version !== version) return; // stale: a newer change is on its way
        this.run(uri, version, doc.text);
      }, this.debounceMs),
    );
  }

  /** An answer about an open document, from its validation at this version. */
  async feature<R extends FeatureRequest>(uri: string, version: number, text: string, req: R): Promise<FeatureResult<R>> {
    if (this.offThread(uri, text)) return this.worker!.feature(uri, version, text, req);
    const s = this.current(uri, version, text);
    return answer(s.validation, s.index, req);
  }

  /** An answer about a file that is not open (read from disk); nothing is kept. */
  async fileFeature<R extends FeatureRequest>(uri: string, text: string, req: R): Promise<FeatureResult<R>> {
    if (this.worker && text.length > INLINE_MAX_LENGTH) return this.worker.feature(uri, 0, text, req, false);
    const { validation, index } = validateDocument(uri, text, this.log);
    return answer(validation, index, req);
  }

  close(uri: string): void {
    this.cancel(uri);
    this.states.delete(uri);
    this.caches.delete(uri);
    this.versions.delete(uri);
    this.worker?.close(uri);
  }

  stop(): void {
    for (const uri of [...this.timers.keys()]) this.cancel(uri);
    this.worker?.stop();
  }

  private run(uri: string, version: number, text: string): void {
    if (this.offThread(uri, text)) {
      this.worker!.validate(uri, version, text).then(
        (r) => {
          if (r && this.versions.get(uri) === version) this.publish(uri, version, r.diagnostics);
        },
        (e: unknown) => this.log.error(`cannot validate ${uri}: ${e instanceof Error ? e.message : String(e)}`),
      );
      return;
    }
    const state = this.validateInline(uri, version, text);
    this.publish(uri, version, diagnosticsOf(state.validation, state.index));
  }

  /** Whether this text goes to the worker; a document that does forgets its inline state. */
  private offThread(uri: string, text: string): boolean {
    if (!this.worker || text.length <= INLINE_MAX_LENGTH) return false;
    this.states.delete(uri);
    this.caches.delete(uri);
    return true;
  }

  private validateInline(uri: string, version: number, text: string): DocState {
    const { validation, index } = validateDocument(uri, text, this.log, this.cacheOf(uri));
    const state = { uri, version, validation, index };
    this.states.set(uri, state);
    return state;
  }

  /** The validation for completion/hover: the latest, re-run when the text moved on. */
  private current(uri: string, version: number, text: string): DocState {
    const s = this.states.get(uri);
    if (s && s.version === version) return s;
    if (!this.versions.has(uri)) {
      const { validation, index } = validateDocument(uri, text, this.log, this.cacheOf(uri));
      return { uri, version, validation, index };
    }
    return this.validateInline(uri, version, text);
  }

  private cacheOf(uri: string): ChunkCache {
    let c = this.caches.get(uri);
    if (!c) this.caches.set(uri, (c = new ChunkCache()));
    return c;
  }

  private cancel(uri: string): void {
    const t = this.timers.get(uri);
    if (t) clearTimeout(t);
    this.timers.delete(uri);
  }
}
