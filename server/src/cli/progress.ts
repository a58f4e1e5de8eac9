/**
 * Live progress of a session for `orchestrator run`/`resume`: on a TTY, a status line redrawn in
 * place under the lines of finished steps; otherwise plain lines, one per transition.
 */
import { formatDuration } from '../workflow/durations';
import { progress } from '../engine/state';
import { countSteps, stepsText } from '../protocol/summary';
import { text, type SessionEvent, type SessionState } from '../engine/types';
import { painter, type Out } from './output';

const ICON: Record<string, string> = { succeeded: '✔', failed: '✖', timed_out: '⏱', cancelled: '■', skipped: '↷', waiting: '?' };

export class ProgressReporter {
  private readonly tty: boolean;
  private readonly paint: ReturnType<typeof painter>;
  private statusShown = false;
  private ticker?: NodeJS.Timeout;
  private last?: SessionState;

  constructor(private readonly out: Out, private readonly quiet = false) {
    this.tty = !!out.stdout.isTTY && process.env.TERM !== 'dumb';
    this.paint = painter(out.stdout);
    if (this.tty && !quiet) {
      this.ticker = setInterval(() => this.redraw(), 1000);
      this.ticker.unref();
    }
  }

  event(e: SessionEvent, state: SessionState): void {
    this.last = state;
    if (this.quiet) return;
    const line = this.describe(e, state);
    if (line) this.print(line);
    else this.redraw();
  }

  private describe(e: SessionEvent, state: SessionState): string | undefined {
    const s = e.step ? state.steps[e.step] : undefined;
    const d = e.data ?? {};
    switch (e.type) {
      case 'session.started':
        return `${this.paint('bold', `Session ${state.id}`)}: ${state.workflow.name} (${state.order.length} steps)`;
      case 'session.resumed':
        return `${this.paint('bold', `Resumed ${state.id}`)}: ${(d.reset as string[] | undefined)?.length ?? 0} step(s) to run again`;
      case 'step.started':
        return this.tty ? undefined : `  ▶ ${e.step}${(e.attempt ?? 1) > 1 ? ` (attempt ${e.attempt})` : ''}`;
      case 'step.finished': {
        if (!s) return undefined;
        const dur = s.startedAt && s.finishedAt ? ` ${formatDuration(Date.parse(s.finishedAt) - Date.parse(s.startedAt))}` : '';
        const color = s.status === 'succeeded' ? 'green' : s.status === 'skipped' ? 'dim' : 'red';
        return `  ${this.paint(color, ICON[s.status] ?? '·')} ${s.id} ${s.status}${dur}${s.reason && s.status !== 'succeeded' ? this.paint('dim', ` — ${s.reason}`) : ''}`;
      }
      case 'step.retrying':
        return `  ${this.paint('yellow', '↻')} ${e.step}: ${text(d.reason, 'retrying')}`;
      case 'step.stuck':
        return `  ${this.paint('yellow', '⚠')} ${e.step} is stuck: silent since ${text(d.lastHeardAt, '?')}`;
      case 'approval.requested':
        return `  ${this.paint('cyan', '?')} ${e.step} waits for approval: ${text(d.question)}\n    orchestrator approve ${state.id} ${e.step}   |   orchestrator reject ${state.id} ${e.step} --reason "..."`;
      case 'approval.answered':
        return `  ${e.step}: ${text(d.answer)}${d.by ? ` by ${text(d.by)}` : ''}`;
      case 'session.paused':
        return `${this.paint('yellow', 'Paused')}: resume with orchestrator resume ${state.id}`;
      case 'session.finished': {
        const color = state.status === 'succeeded' ? 'green' : 'red';
        const dur = formatDuration(Date.parse(state.finishedAt ?? e.time) - Date.parse(state.startedAt));
        const steps = stepsText(countSteps(Object.values(state.steps)), state.order.length, { atRest: true, steps: true });
        return `${this.paint(color, `Session ${state.status}`)} in ${dur}: ${steps}${state.reason ? ` — ${state.reason}` : ''}`;
      }
      default:
        return undefined;
    }
  }

  private statusLine(): string {
    const st = this.last;
    if (!st) return '';
    const p = progress(st);
    const running = st.order.filter((id) => st.steps[id].status === 'running');
    return `${this.paint('cyan', '⟳')} ${p.done}/${p.total} done${running.length ? ` · running: ${running.slice(0, 4).join(', ')}${running.length > 4 ? ` +${running.length - 4}` : ''}` : ''}`;
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.out.stdout.write('\r\u001b[2K');
      this.statusShown = false;
    }
  }

  private print(line: string): void {
    this.clearStatus();
    this.out.stdout.write(line + '\n');
    this.redraw();
  }

  private redraw(): void {
    if (!this.tty || this.quiet || !this.last || this.last.status !== 'running') return;
    this.clearStatus();
    this.out.stdout.write(this.statusLine());
    this.statusShown = true;
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.clearStatus();
  }
}
