/**
 * The validation worker (a worker thread of the host, see offThread.ts): validates large documents
 * and answers the editor's requests about them, so the host's main thread stays free for every
 * other document and request meanwhile.
 *
 * Stale work is dropped: before each job the worker takes every message already waiting, and a
 * `validate` of a document for which a newer text is waiting is answered "superseded" without
 * running (a burst of edits to a large file costs one validation, of the latest text).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ChunkCache } from '../workflow/chunked';
import type { LineIndex } from '../workflow/problems';
import type { Validation } from '../workflow/validate';
import { validateDocument, type Logger } from './documents';
import { answer, diagnosticsOf } from './features';
import type { FromWorker, LogLine, ToWorker } from './offThread';

interface Kept {
  readonly version: number;
  readonly text: string;
  readonly validation: Validation;
  readonly index: LineIndex;
}

export function startValidationWorker(port: MessagePort): void {
  const kept = new Map<string, Kept>();
  const caches = new Map<string, ChunkCache>();
  const queue: ToWorker[] = [];
  const drain = (): void => {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) queue.push(m.message as ToWorker);
  };

  const validated = (uri: string, version: number, text: string, keep: boolean, logger: Logger): Kept => {
    const have = kept.get(uri);
    if (keep && have && have.version === version && have.text === text) return have;
    let cache = caches.get(uri);
    if (!cache) {
      cache = new ChunkCache();
      if (keep) caches.set(uri, cache);
    }
    const { validation, index } = validateDocument(uri, text, logger, cache);
    const k = { version, text, validation, index };
    if (keep) kept.set(uri, k);
    return k;
  };

  const run = (m: ToWorker): void => {
    if (m.op === 'close') {
      kept.delete(m.uri);
      caches.delete(m.uri);
      return;
    }
    if (m.op === 'validate' && queue.some((q) => q.op !== 'close' && q.uri === m.uri && q.version > m.version)) {
      port.postMessage({ id: m.id, superseded: true } satisfies FromWorker);
      return;
    }
    const logs: LogLine[] = [];
    const logger: Logger = {
      error: (message) => logs.push({ level: 'error', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
      info: (message) => logs.push({ level: 'info', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    };
    try {
      const keep = m.op === 'validate' || m.keep;
      const k = validated(m.uri, m.version, m.text, keep, logger);
      const result = m.op === 'validate' ? { version: k.version, diagnostics: diagnosticsOf(k.validation, k.index) } : answer(k.validation, k.index, m.req);
      port.postMessage({ id: m.id, ok: true, result, logs } satisfies FromWorker);
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e), logs } satisfies FromWorker);
    }
  };

  port.on('message', (first: ToWorker) => {
    queue.push(first);
    drain();
    while (queue.length) {
      run(queue.shift()!);
      drain();
    }
  });
}
