/**
 * Validation of open documents: at once on open, debounced on change; a result is published
 * only if the document has not changed since (stale runs are dropped). Keeps the latest
 * validation per document for completion, hover, symbols and code lenses.
 */
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { findRepoRoot } from '../engine/sessions';
import { ChunkCache } from '../workflow/chunked';
import { LineIndex } from '../workflow/problems';
import { fileExists, validateWorkflow, type Validation } from '../workflow/validate';

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

export function validateDocument(uri: string, text: string, log: Logger, cache?: ChunkCache): { validation: Validation; index: LineIndex } {
  const file = filePathOf(uri);
  const validation = validateWorkflow(text, { ...(file ? { file, repoRoot: findRepoRoot(path.dirname(file)), fileExists } : {}), ...(cache ? { cache } : {}) });
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

export class DocumentValidator {
  private readonly states = new Map<string, DocState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Parsed chunks per document, so an edit re-parses only what changed. */
  private readonly caches = new Map<string, ChunkCache>();

  constructor(
    private readonly publish: (state: DocState) => void,
    private readonly log: Logger,
    private readonly debounceMs = debounceFromEnv(),
  ) {}

  get(uri: string): DocState | undefined {
    return this.states.get(uri);
  }

  /** Validates now (open, or an explicit request). */
  validateNow(uri: string, version: number, text: string): DocState {
    this.cancel(uri);
    const { validation, index } = validateDocument(uri, text, this.log, this.cacheOf(uri));
    const state = { uri, version, validation, index };
    this.states.set(uri, state);
    this.publish(state);
    return state;
  }

  /** Validates after the debounce; a newer change restarts the wait. */
  schedule(uri: string, version: number, getText: () => { version: number; text: string } | undefined): void {
    this.cancel(uri);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        const doc = getText();
        if (!doc || doc.version !== version) return; // stale: a newer change is on its way
        const { validation, index } = validateDocument(uri, doc.text, this.log, this.cacheOf(uri));
        const now = getText();
        if (!now || now.version !== version) return; // changed while validating: drop
        const state = { uri, version, validation, index };
        this.states.set(uri, state);
        this.publish(state);
      }, this.debounceMs),
    );
  }

  /** The validation for completion/hover: the latest, re-run when the text moved on. */
  current(uri: string, version: number, text: string): DocState {
    const s = this.states.get(uri);
    if (s && s.version === version) return s;
    const { validation, index } = validateDocument(uri, text, this.log, this.cacheOf(uri));
    return { uri, version, validation, index };
  }

  close(uri: string): void {
    this.cancel(uri);
    this.states.delete(uri);
    this.caches.delete(uri);
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
