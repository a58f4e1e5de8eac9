/** `orchestrator logs ID [STEP] [--follow]`: a step's output as it came, or the session's events. */
import * as fs from 'node:fs';
import { isAtRest, text, type SessionEvent } from '../engine/types';
import { readEvents } from '../store/eventLog';
import { loadSession, sessionPaths } from '../store/sessionStore';
import { UsageError, type Out } from './output';
import { repoRoot, resolveId } from './sessionCommands';

function describeEvent(e: SessionEvent): string {
  const d = e.data ?? {};
  const extra = e.type === 'step.finished' ? ` ${text(d.status)}${d.reason ? ` — ${text(d.reason)}` : ''}` : e.type === 'session.finished' ? ` ${text(d.status)}${d.reason ? ` — ${text(d.reason)}` : ''}` : e.type === 'step.retrying' ? ` ${text(d.reason)}` : e.type === 'approval.requested' ? ` ${text(d.question)}` : e.type === 'approval.answered' ? ` ${text(d.answer)}` : e.type === 'step.finding' ? ` ${String((d.finding as { message?: string } | undefined)?.message ?? '')}` : '';
  return `${e.time} ${e.type}${e.step ? ` ${e.step}` : ''}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${extra}`;
}

/** Waits until the file grows or the session is at rest; returns whether to keep following. */
function waitForChange(dir: string, root: string, id: string): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: boolean): void => {
      if (done) return;
      done = true;
      try {
        watcher.close();
      } catch {
        /* closed */
      }
      clearTimeout(timer);
      resolve(v);
    };
    const watcher = fs.watch(dir, { recursive: false }, () => finish(true));
    // fs.watch can miss changes in sub-folders: look again every second.
    const timer = setTimeout(() => finish(!isAtRest(loadSession(root, id).state.status)), 1000);
  });
}

export async function logsCommand(given: string, step: string | undefined, opts: { follow?: boolean; attempt?: string; json?: boolean }, out: Out): Promise<number> {
  const root = repoRoot();
  const id = resolveId(given, root);
  const loaded = loadSession(root, id);
  const paths = sessionPaths(root, id);
  if (!step) {
    let offset = 0;
    const drain = (): void => {
      const r = readEvents(paths.log, offset);
      for (const e of r.events) out.stdout.write((opts.json ? JSON.stringify(e) : describeEvent(e)) + '\n');
      offset = r.endOffset;
    };
    for (;;) {
      drain();
      if (!opts.follow) return 0;
      if (isAtRest(loadSession(root, id).state.status)) {
        drain(); // events written between the read above and the status check
        return 0;
      }
      await waitForChange(paths.dir, root, id);
    }
  }
  const st = loaded.state.steps[step];
  if (!st) throw new UsageError(`session ${id} has no step '${step}' (steps: ${loaded.state.order.join(', ')})`);
  const attempt = opts.attempt ? Number(opts.attempt) : Math.max(1, st.attempt);
  if (!Number.isInteger(attempt) || attempt < 1) throw new UsageError(`--attempt takes a number from 1`);
  const file = paths.stepLog(step, attempt);
  let pos = 0;
  for (;;) {
    if (fs.existsSync(file)) {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size > pos) {
          const buf = Buffer.alloc(Math.min(size - pos, 1 << 20));
          const n = fs.readSync(fd, buf, 0, buf.length, pos);
          out.stdout.write(buf.subarray(0, n));
          pos += n;
          if (pos < size) continue;
        }
      } finally {
        fs.closeSync(fd);
      }
    } else if (!opts.follow && st.attempt === 0) {
      out.stderr.write(`step ${step} has not run yet\n`);
      return 0;
    }
    if (!opts.follow) return 0;
    const now = loadSession(root, id).state;
    const s = now.steps[step];
    if (isAtRest(now.status) || (s && s.status !== 'running' && s.status !== 'pending' && s.status !== 'waiting' && (fs.existsSync(file) ? fs.statSync(file).size <= pos : true))) return 0;
    await waitForChange(paths.dir, root, id);
  }
}
