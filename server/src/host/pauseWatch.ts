/**
 * `pausing` for the editor: a pause asked of a live session (from the editor or `orchestrator
 * pause` in a terminal) lands in its control.jsonl and changes nothing in its log until the running
 * steps end. The host watches the folders of live sessions for that file and pushes the summary
 * again, with `pausing: true`, as soon as the request is there.
 */
import * as fs from 'node:fs';
import { withPausing } from '../engine/pausing';
import { isAtRest } from '../engine/types';
import { sessionPaths } from '../store/sessionStore';
import type { SessionSummary } from '../store/sessionWatcher';

export class PauseWatch {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  /** The pausing flag last pushed, by session. */
  private readonly shown = new Map<string, boolean>();

  constructor(private readonly repoRoot: string, private readonly current: (id: string) => SessionSummary | undefined, private readonly push: (s: SessionSummary) => void) {}

  /** The summary as the client should see it; starts or stops watching the session's folder. */
  decorate(s: SessionSummary): SessionSummary {
    const d = withPausing(this.repoRoot, s);
    this.shown.set(s.id, !!d.pausing);
    if (isAtRest(s.status)) this.unwatch(s.id);
    else this.watch(s.id);
    return d;
  }

  private watch(id: string): void {
    if (this.watchers.has(id)) return;
    const paths = sessionPaths(this.repoRoot, id);
    const control = paths.control.slice(paths.dir.length + 1);
    try {
      const w = fs.watch(paths.dir, (_ev, name) => {
        if (name !== control) return;
        const s = this.current(id);
        if (!s || isAtRest(s.status)) return;
        const was = this.shown.get(id) ?? false;
        const d = this.decorate(s);
        if (!!d.pausing !== was) this.push(d);
      });
      w.unref();
      this.watchers.set(id, w);
    } catch {
      /* without inotify, `pausing` shows with the session's next change */
    }
  }

  unwatch(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
