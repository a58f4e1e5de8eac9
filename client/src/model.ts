/**
 * What the editor knows about the workspace's sessions, kept current by the host's pushed
 * notifications (no polling): summaries of every session, the steps of sessions the user opened,
 * the stuck list, and the findings of the session the Findings view shows.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import {
  FindingsRequest,
  GetSessionRequest,
  ListSessionsRequest,
  SessionChangedNotification,
  SessionRemovedNotification,
  StepsChangedNotification,
  StepStuckNotification,
  StuckRequest,
  type Finding,
  type SessionDetail,
  type SessionSummary,
  type StepState,
  type StuckItem,
} from './protocol';

export interface StepsChange {
  id: string;
  steps: StepState[];
}

export class SessionModel implements vscode.Disposable {
  private readonly summaries = new Map<string, SessionSummary>();
  private readonly details = new Map<string, SessionDetail>();
  private stuckItems: StuckItem[] = [];
  private findingsOf: { id: string; findings: Finding[] } | undefined;
  /** The session the user chose for the Findings view (else the newest with findings). */
  private pinnedFindings: string | undefined;
  private loaded = false;

  private readonly sessionChanged = new vscode.EventEmitter<{ summary: SessionSummary; previous?: SessionSummary } | undefined>();
  private readonly sessionRemoved = new vscode.EventEmitter<string>();
  private readonly stepsChanged = new vscode.EventEmitter<StepsChange>();
  private readonly stuckChanged = new vscode.EventEmitter<void>();
  private readonly findingsChanged = new vscode.EventEmitter<void>();
  private readonly stepStuck = new vscode.EventEmitter<{ id: string; step: string; lastHeardAt: string }>();
  /** A session's summary changed (`undefined`: everything was reloaded). */
  readonly onDidChangeSession = this.sessionChanged.event;
  readonly onDidRemoveSession = this.sessionRemoved.event;
  readonly onDidChangeSteps = this.stepsChanged.event;
  readonly onDidChangeStuck = this.stuckChanged.event;
  readonly onDidChangeFindings = this.findingsChanged.event;
  readonly onDidStepGetStuck = this.stepStuck.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timers = new Map<'stuck' | 'findings', NodeJS.Timeout>();

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      this.sessionChanged,
      this.sessionRemoved,
      this.stepsChanged,
      this.stuckChanged,
      this.findingsChanged,
      this.stepStuck,
      ctx.onDidStartHost(() => void this.reload()),
      ctx.onNotification(SessionChangedNotification, (s) => this.onSession(s)),
      ctx.onNotification(SessionRemovedNotification, (r) => this.onRemoved(r.id)),
      ctx.onNotification(StepsChangedNotification, (c) => this.onSteps(c)),
      ctx.onNotification(StepStuckNotification, (n) => {
        this.stepStuck.fire(n);
        this.refreshStuckSoon();
      }),
    );
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  sessions(): SessionSummary[] {
    return [...this.summaries.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }
  summary(id: string): SessionSummary | undefined {
    return this.summaries.get(id);
  }
  stuck(): StuckItem[] {
    return this.stuckItems;
  }
  findings(): { id: string; findings: Finding[] } | undefined {
    return this.findingsOf;
  }
  cachedDetail(id: string): SessionDetail | undefined {
    return this.details.get(id);
  }

  /** One session in full (steps), fetched once and then kept current by notifications. */
  async detail(id: string, fresh = false): Promise<SessionDetail> {
    const have = this.details.get(id);
    if (have && !fresh) return have;
    const d = await this.ctx.send(GetSessionRequest, { id });
    this.details.set(id, d);
    return d;
  }

  async reload(): Promise<void> {
    try {
      const list = await this.ctx.send(ListSessionsRequest, {});
      this.summaries.clear();
      for (const s of list) this.summaries.set(s.id, s);
      this.details.clear();
      this.loaded = true;
      this.sessionChanged.fire(undefined);
      await Promise.all([this.refreshStuck(), this.refreshFindings()]);
    } catch (e) {
      this.ctx.output.error(`could not load the sessions: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Shows this session's findings in the Findings view and the Problems panel. */
  async showFindingsOf(id: string): Promise<void> {
    this.pinnedFindings = id;
    await this.refreshFindings();
  }

  private findingsSessionId(): string | undefined {
    if (this.pinnedFindings && this.summaries.has(this.pinnedFindings)) return this.pinnedFindings;
    return this.sessions().find((s) => s.findings > 0)?.id;
  }

  async refreshFindings(): Promise<void> {
    const id = this.findingsSessionId();
    try {
      this.findingsOf = id ? { id, findings: await this.ctx.send(FindingsRequest, { id }) } : undefined;
    } catch (e) {
      this.ctx.output.warn(`could not load the findings of ${id ?? '?'}: ${e instanceof Error ? e.message : String(e)}`);
      this.findingsOf = undefined;
    }
    this.findingsChanged.fire();
  }

  async refreshStuck(): Promise<void> {
    try {
      this.stuckItems = await this.ctx.send(StuckRequest, {});
    } catch (e) {
      this.ctx.output.warn(`could not load the stuck steps: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.stuckChanged.fire();
  }

  /** Coalesces a burst of notifications into one request. */
  private soon(what: 'stuck' | 'findings', ms: number, f: () => Promise<void>): void {
    if (this.timers.has(what)) return;
    this.timers.set(
      what,
      setTimeout(() => {
        this.timers.delete(what);
        void f();
      }, ms),
    );
  }
  private refreshStuckSoon(): void {
    this.soon('stuck', 100, () => this.refreshStuck());
  }
  private refreshFindingsSoon(): void {
    this.soon('findings', 150, () => this.refreshFindings());
  }

  private onSession(s: SessionSummary): void {
    const previous = this.summaries.get(s.id);
    this.summaries.set(s.id, s);
    const d = this.details.get(s.id);
    if (d) Object.assign(d, { status: s.status, updatedAt: s.updatedAt, ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}), ...(s.reason ? { reason: s.reason } : {}) });
    this.sessionChanged.fire({ summary: s, ...(previous ? { previous } : {}) });
    if (!previous || previous.status !== s.status || previous.stuck !== s.stuck) this.refreshStuckSoon();
    const current = this.findingsOf?.id;
    if ((current === s.id && previous?.findings !== s.findings) || (!current && s.findings > 0) || (!this.pinnedFindings && current !== this.findingsSessionId())) this.refreshFindingsSoon();
    // A session at rest: fetch its final steps once (outputs, reasons) if someone looked at it.
    if (d && previous && previous.status !== s.status && (s.status !== 'running' && s.status !== 'waiting')) void this.detail(s.id, true).then(() => this.sessionChanged.fire({ summary: s, previous: s }));
  }

  private onRemoved(id: string): void {
    if (!this.summaries.delete(id)) return;
    this.details.delete(id);
    if (this.pinnedFindings === id) this.pinnedFindings = undefined;
    this.sessionRemoved.fire(id);
    this.sessionChanged.fire(undefined);
    if (this.findingsOf?.id === id) void this.refreshFindings();
    this.refreshStuckSoon();
  }

  private onSteps(c: StepsChange): void {
    const d = this.details.get(c.id);
    if (d) for (const st of c.steps) d.steps[st.id] = st;
    this.stepsChanged.fire(c);
    const stuckNow = new Set(this.stuckItems.filter((i) => i.session === c.id).map((i) => i.step));
    // A step that went quiet is announced by stepStuck; one that spoke again or ended leaves the list.
    if (c.steps.some((st) => (st.status === 'running' && !!st.stuck !== stuckNow.has(st.id)) || (st.status !== 'running' && st.status !== 'waiting' && stuckNow.has(st.id)))) this.refreshStuckSoon();
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}
