/**
 * The Sessions, Findings and Stuck tree views. Rows come from nodes.ts; the providers keep row
 * objects stable by key so that a pushed change refreshes just that row.
 */
import * as vscode from 'vscode';
import type { SessionModel } from '../model';
import { changeRows, fileRows, findingRow, sessionRow, severityRows, stepRow, stepRows, stuckRow, tickRows, type SessionRow, type StepRow, type TreeRow } from './nodes';
import { render } from './render';

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** What the three providers share: rows rendered in one place, a change event, disposables. */
abstract class RowProvider implements vscode.TreeDataProvider<TreeRow>, vscode.Disposable {
  protected readonly changed = new vscode.EventEmitter<TreeRow | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected readonly subs: vscode.Disposable[] = [this.changed];

  abstract getChildren(row?: TreeRow): TreeRow[] | Promise<TreeRow[]>;

  getTreeItem(row: TreeRow): vscode.TreeItem {
    return render(row, workspaceRoot());
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

export class SessionsProvider extends RowProvider {
  private readonly rows = new Map<string, SessionRow>();
  private readonly steps = new Map<string, Map<string, StepRow>>();

  /** Redraws running durations each second while a session is live (tickRows: only rows that changed). */
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly model: SessionModel) {
    super();
    this.subs.push(
      model.onDidChangeSession((c) => {
        this.updateTicker();
        if (!c) return this.changed.fire(undefined);
        const row = this.rows.get(c.summary.id);
        if (!row || !c.previous) return this.changed.fire(undefined); // a new session: the list changes
        Object.assign(row, sessionRow(c.summary));
        this.changed.fire(row);
        // Steps already shown: their rows' menus depend on the session's status.
        const d = model.cachedDetail(c.summary.id);
        const shown = this.steps.get(c.summary.id);
        if (d && shown) for (const [id, r] of shown) if (d.steps[id]) {
          Object.assign(r, stepRow(d.id, d.steps[id], d, Date.now(), this.branches(d.id)));
          this.changed.fire(r);
        }
      }),
      model.onDidChangeSteps((c) => {
        const shown = this.steps.get(c.id);
        const d = model.cachedDetail(c.id);
        if (!shown || !d) return;
        for (const st of c.steps) {
          const r = shown.get(st.id);
          if (!r) continue;
          Object.assign(r, stepRow(c.id, st, d, Date.now(), this.branches(c.id)));
          this.changed.fire(r);
        }
      }),
      model.onDidRemoveSession((id) => {
        this.rows.delete(id);
        this.steps.delete(id);
      }),
    );
  }

  getParent(row: TreeRow): TreeRow | undefined {
    if (row.kind === 'change') return this.steps.get(row.sessionId)?.get(row.stepId);
    return row.kind === 'step' ? this.rows.get(row.sessionId) : undefined;
  }

  async getChildren(row?: TreeRow): Promise<TreeRow[]> {
    if (!row) {
      if (!this.model.isLoaded) return [];
      const now = Date.now();
      const list = this.model.sessions();
      const keep = new Set(list.map((s) => s.id));
      for (const id of [...this.rows.keys()]) if (!keep.has(id)) this.rows.delete(id);
      return list.map((s) => {
        const fresh = sessionRow(s, now);
        const have = this.rows.get(s.id);
        if (have) return Object.assign(have, fresh);
        this.rows.set(s.id, fresh);
        return fresh;
      });
    }
    if (row.kind === 'step') return changeRows(row.sessionId, row.step);
    if (row.kind !== 'session') return [];
    const d = await this.model.detail(row.session.id);
    const shown = this.steps.get(d.id) ?? new Map<string, StepRow>();
    this.steps.set(d.id, shown);
    return stepRows(d, Date.now(), this.branches(d.id)).map((fresh) => {
      const have = shown.get(fresh.step.id);
      if (have) return Object.assign(have, fresh);
      shown.set(fresh.step.id, fresh);
      return fresh;
    });
  }

  /** The steps whose branch is still there, from the session's summary (undefined: not known, the steps' outputs decide). */
  private branches(id: string): readonly string[] | undefined {
    const s = this.model.summary(id);
    return s ? (s.git?.branches ?? []) : undefined;
  }

  /** The row of a session (for reveal). */
  sessionRow(id: string): SessionRow | undefined {
    return this.rows.get(id);
  }

  private updateTicker(): void {
    const live = this.model.sessions().some((s) => s.status === 'running' || s.status === 'waiting');
    if (live && !this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    else if (!live && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private tick(): void {
    const now = Date.now();
    const sessions = tickRows(this.rows.values(), (r) => {
      const s = this.model.summary(r.session.id);
      return s ? sessionRow(s, now) : undefined;
    });
    for (const r of sessions) this.changed.fire(r);
    for (const [id, shown] of this.steps) {
      const d = this.model.cachedDetail(id);
      if (!d) continue;
      const steps = tickRows(shown.values(), (r) => {
        const st = d.steps[r.step.id];
        return st ? stepRow(id, st, d, now, this.branches(id)) : undefined;
      });
      for (const r of steps) this.changed.fire(r);
    }
  }

  override dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    super.dispose();
  }

}

export class FindingsProvider extends RowProvider {

  constructor(private readonly model: SessionModel, private readonly view: () => vscode.TreeView<TreeRow> | undefined) {
    super();
    this.subs.push(model.onDidChangeFindings(() => this.update()));
  }

  private update(): void {
    const v = this.view();
    const f = this.model.findings();
    if (v) {
      const s = f ? this.model.summary(f.id) : undefined;
      v.description = f ? `${s?.workflow ?? ''} · ${f.id}` : undefined;
      v.badge = f && f.findings.length ? { value: f.findings.filter((x) => x.status !== 'dismissed').length, tooltip: `${f.findings.length} finding(s) in session ${f.id}` } : undefined;
    }
    this.changed.fire(undefined);
  }

  getChildren(row?: TreeRow): TreeRow[] {
    const f = this.model.findings();
    if (!f) return [];
    if (!row) return severityRows(f.id, f.findings);
    if (row.kind === 'severity') return fileRows(f.id, row);
    if (row.kind === 'file') return (row).findings.slice().sort((a, b) => (a.line ?? 0) - (b.line ?? 0)).map((x) => findingRow(f.id, x));
    return [];
  }

}

export class StuckProvider extends RowProvider {
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly model: SessionModel, private readonly view: () => vscode.TreeView<TreeRow> | undefined) {
    super();
    this.subs.push(model.onDidChangeStuck(() => this.update()));
  }

  private update(): void {
    const n = this.model.stuck().length;
    const v = this.view();
    if (v) v.badge = n ? { value: n, tooltip: `${n} stuck step(s)` } : undefined;
    // "last heard 4m ago" ages: redraw the labels each 30 s while something is stuck (nothing is fetched).
    if (n && !this.ticker) {
      this.ticker = setInterval(() => this.changed.fire(undefined), 30_000);
    } else if (!n && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
    this.changed.fire(undefined);
  }

  getChildren(row?: TreeRow): TreeRow[] {
    if (row) return [];
    const now = Date.now();
    return this.model.stuck().map((i) => stuckRow(i, now));
  }

  override dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    super.dispose();
  }
}
