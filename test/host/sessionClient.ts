/**
 * The session side of the host for tests: starts the REAL built host (through LspClient) on a
 * repository, collects the session notifications it pushes, and sends the session requests typed
 * by the protocol module's descriptors. Every wait has a deadline (a hang guard, far above what a
 * busy machine needs); nothing sleeps blindly.
 */
import {
  LogAppendedNotification,
  SessionChangedNotification,
  SessionRemovedNotification,
  StepStuckNotification,
  StepsChangedNotification,
  type LogText,
  type ParamsOf,
  type RequestDescriptor,
  type SessionSummary,
  type StepState,
} from '../../server/src/protocol';
import { LspClient } from './lspClient';

export interface StuckNote {
  id: string;
  step: string;
  lastHeardAt: string;
}
export interface StepsNote {
  id: string;
  steps: StepState[];
}
/** An orchestrator/logAppended notification. */
export type LogNote = LogText & { reset?: boolean };

interface Waiter {
  readonly from: number;
  readonly match: (s: SessionSummary) => boolean;
  readonly resolve: (s: SessionSummary) => void;
}

export class SessionsClient {
  /** Every orchestrator/sessionChanged notification, in arrival order. */
  readonly changes: SessionSummary[] = [];
  readonly stepsChanged: StepsNote[] = [];
  readonly stuck: StuckNote[] = [];
  /** Every orchestrator/logAppended notification, in arrival order. */
  readonly logAppended: LogNote[] = [];
  /** The ids of every orchestrator/sessionRemoved notification, in arrival order. */
  readonly removed: string[] = [];
  private waiters: Waiter[] = [];

  private constructor(readonly lsp: LspClient) {
    lsp.connection.onNotification(SessionChangedNotification.method, (s: SessionSummary) => {
      this.changes.push(s);
      const index = this.changes.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (index < w.from || !w.match(s)) return true;
        w.resolve(s);
        return false;
      });
    });
    lsp.connection.onNotification(StepsChangedNotification.method, (p: StepsNote) => {
      this.stepsChanged.push(p);
    });
    lsp.connection.onNotification(StepStuckNotification.method, (p: StuckNote) => {
      this.stuck.push(p);
    });
    lsp.connection.onNotification(LogAppendedNotification.method, (p: LogNote) => {
      this.logAppended.push(p);
    });
    lsp.connection.onNotification(SessionRemovedNotification.method, (p: { id: string }) => {
      this.removed.push(p.id);
    });
  }

  /** Starts the host on `repoRoot` (initializationOptions.repoRoot), trusted unless told otherwise. */
  static async start(
    repoRoot: string,
    opts: { trusted?: boolean; env?: Record<string, string>; initializationOptions?: Record<string, unknown> } = {},
  ): Promise<SessionsClient> {
    const lsp = await LspClient.start({
      initializationOptions: { ...opts.initializationOptions, repoRoot, trusted: opts.trusted ?? true },
      ...(opts.env ? { env: opts.env } : {}),
    });
    // Registered in the same tick as the handshake ends: no notification can arrive before.
    return new SessionsClient(lsp);
  }

  /** A protocol request, typed by its descriptor. */
  request<P, R>(req: RequestDescriptor<P, R>, params: ParamsOf<RequestDescriptor<P, R>>, timeoutMs?: number): Promise<R> {
    return this.lsp.request<R>(req.method, params, timeoutMs);
  }

  /** A cursor for waitForChange: notifications from now on. */
  mark(): number {
    return this.changes.length;
  }

  /** The notifications received for one session, in order. */
  changesOf(id: string, from = 0): SessionSummary[] {
    return this.changes.slice(from).filter((s) => s.id === id);
  }

  /**
   * The first sessionChanged at or after `from` (default 0: any received so far) for session `id`
   * that matches; resolves at once when one has already arrived.
   */
  waitForChange(id: string, match: (s: SessionSummary) => boolean, what: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<SessionSummary> {
    const from = opts.from ?? 0;
    const m = (s: SessionSummary): boolean => s.id === id && match(s);
    const hit = this.changes.slice(from).find(m);
    if (hit) return Promise.resolve(hit);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let waiter: Waiter | undefined;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<SessionSummary>((resolve, reject) => {
      waiter = { from, match: m, resolve };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        const seen = this.changesOf(id).map((s) => `${s.status} ${s.done}/${s.total}`);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for session ${id}: ${what} (notifications for it: ${JSON.stringify(seen)}; host alive: ${this.lsp.alive}; stderr: ${this.lsp.stderr.slice(-500)})`));
      }, timeoutMs);
    }).finally(() => {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  /** Waits for a stepStuck notification for (id, step). */
  async waitForStuck(id: string, step: string, timeoutMs = 60_000): Promise<StuckNote> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.stuck.find((s) => s.id === id && s.step === step);
      if (hit) return hit;
      if (Date.now() - t0 > timeoutMs) throw new Error(`no stepStuck notification for ${id} ${step} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The logAppended notifications for (id, step) from index `from` of `logAppended` on. */
  logsOf(id: string, step: string, from = 0): LogNote[] {
    return this.logAppended.slice(from).filter((n) => n.id === id && n.step === step);
  }

  /** Polls (every 20 ms) until `f` returns something other than undefined/false, or fails after `timeoutMs`. */
  async until<T>(f: () => T | undefined | false, what: string | (() => string), timeoutMs = 60_000): Promise<T> {
    const t0 = Date.now();
    for (;;) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()} (host alive: ${this.lsp.alive}; stderr: ${this.lsp.stderr.slice(-500)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for a sessionRemoved notification for `id` (at or after index `from` of `removed`). */
  waitForRemoved(id: string, from = 0, timeoutMs = 60_000): Promise<true> {
    return this.until(() => this.removed.slice(from).includes(id), () => `a sessionRemoved notification for ${id} (removed so far: ${JSON.stringify(this.removed)})`, timeoutMs);
  }

  get pid(): number {
    return this.lsp.child.pid ?? 0;
  }

  kill(): Promise<void> {
    return this.lsp.kill();
  }

  stop(): Promise<void> {
    return this.lsp.stop();
  }
}
