/**
 * The main thread's side of the validation worker (validationWorker.ts): one worker thread,
 * started on first use, running the same bundle as the host. Requests are answered in order;
 * if the worker dies (a bug, or a document that exhausts its memory limit), every waiting request
 * fails with a clear error and the next request starts a new worker.
 *
 * Why a worker and not yielding: the YAML parse of a large file is one synchronous call that
 * cannot be split, and the later checks hold the whole tree; only another thread keeps the host
 * answering while it runs. Why only for large documents: a small one validates in milliseconds,
 * less than a round trip to the worker would cost.
 */
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from 'vscode-languageserver';
import type { Logger } from './documents';
import type { FeatureRequest, FeatureResult } from './features';

/** workerData.role of the worker: the host's entry starts the worker instead of a server. */
export const WORKER_ROLE = 'orchestrator-validation-worker';

export type ToWorker =
  | { readonly op: 'validate'; readonly id: number; readonly uri: string; readonly version: number; readonly text: string }
  /** keep: false for a file that is not open (read from disk): nothing is kept for it. */
  | { readonly op: 'feature'; readonly id: number; readonly uri: string; readonly version: number; readonly text: string; readonly req: FeatureRequest; readonly keep: boolean }
  | { readonly op: 'close'; readonly uri: string };

export interface LogLine {
  readonly level: keyof Logger;
  readonly message: string;
}

export type FromWorker =
  | { readonly id: number; readonly ok: true; readonly result: unknown; readonly logs: readonly LogLine[] }
  | { readonly id: number; readonly superseded: true }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly logs: readonly LogLine[] };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Heap limit of the worker: a document that needs more fails alone, the host lives on. */
const WORKER_HEAP_MB = 1024;

export class ValidationWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: FromWorker) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly entry: string,
    private readonly log: Logger,
  ) {}

  /** Validates and returns the diagnostics, or undefined when a newer text of the document superseded it. */
  async validate(uri: string, version: number, text: string): Promise<{ version: number; diagnostics: Diagnostic[] } | undefined> {
    const r = await this.send({ op: 'validate', uri, version, text });
    return 'superseded' in r ? undefined : (this.result(r) as { version: number; diagnostics: Diagnostic[] });
  }

  async feature<R extends FeatureRequest>(uri: string, version: number, text: string, req: R, keep = true): Promise<FeatureResult<R>> {
    const r = await this.send({ op: 'feature', uri, version, text, req, keep });
    if ('superseded' in r) throw new Error('superseded'); // never: only validations are superseded
    return this.result(r) as FeatureResult<R>;
  }

  close(uri: string): void {
    this.worker?.postMessage({ op: 'close', uri } satisfies ToWorker);
  }

  stop(): void {
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error('the host is shutting down'));
    this.pending.clear();
    void w?.terminate();
  }

  private result(r: Exclude<FromWorker, { superseded: true }>): unknown {
    for (const l of r.logs) this.log[l.level](l.message);
    if (!r.ok) throw new Error(`internal error in the validation worker: ${r.error}`);
    return r.result;
  }

  private send(m: DistributiveOmit<Exclude<ToWorker, { op: 'close' }>, 'id'>): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ensure().postMessage({ ...m, id });
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.entry, { workerData: { role: WORKER_ROLE }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    w.unref(); // the host exits when its connection ends, whatever the worker is doing
    w.on('message', (r: FromWorker) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      if (waiting.length) this.log.error(`the validation worker stopped (${why}); ${waiting.length} request(s) failed; the next one starts a new worker`);
      for (const p of waiting) p.reject(new Error(`the validation worker stopped: ${why}`));
    };
    w.on('error', (e) => fail(e instanceof Error ? e.message : String(e)));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    return w;
  }
}
