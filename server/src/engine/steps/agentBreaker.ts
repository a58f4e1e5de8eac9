/**
 * A step and its provider's circuit breaker (issue 11, item 10). When the breaker is open, a step
 * does not spend its attempts against it: it waits for the breaker's half-open time if that comes
 * within the step's own time left (and then makes the trial call, or waits for the trial another
 * step is making), or it fails once, not retryable, with the breaker's own reason.
 */
import { clock, type CircuitBreaker } from '../../agents/breaker';

export type BreakerWait = { ok: true } | { ok: false; reason: string; cancelled?: boolean };

/**
 * Waits until `breaker` lets a call through. `deadline` (epoch ms) is when the step's timeout
 * ends (undefined: no timeout); `waiting` is told each time the step starts waiting (for the log).
 */
export async function passBreaker(breaker: CircuitBreaker, signal: AbortSignal, deadline: number | undefined, waiting: (line: string) => void): Promise<BreakerWait> {
  for (;;) {
    const c = breaker.check();
    if (!c.open) return { ok: true };
    if (signal.aborted) return { ok: false, reason: 'cancelled while waiting for the provider', cancelled: true };
    const st = breaker.state();
    const trial = st.state === 'half-open';
    if (!trial && deadline !== undefined && c.retryAt > deadline) {
      return { ok: false, reason: `${c.message}; this step's timeout ends at ${clock(deadline)}, before that, so it was not called` };
    }
    waiting(trial ? `[breaker] ${c.message}: waiting for it` : `[breaker] ${c.message}: waiting until then`);
    const until = trial ? undefined : c.retryAt;
    const woke = await new Promise<'time' | 'change' | 'abort' | 'deadline'>((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const done = (why: 'time' | 'change' | 'abort' | 'deadline'): void => {
        for (const t of timers) clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        resolve(why);
      };
      const onAbort = (): void => done('abort');
      signal.addEventListener('abort', onAbort, { once: true });
      if (until !== undefined) timers.push(setTimeout(() => done('time'), Math.max(0, until - Date.now())));
      if (deadline !== undefined) timers.push(setTimeout(() => done('deadline'), Math.max(0, deadline - Date.now())));
      void breaker.changed().then(() => done('change'));
    });
    if (woke === 'abort') return { ok: false, reason: 'cancelled while waiting for the provider', cancelled: true };
    if (woke === 'deadline') return { ok: false, reason: `${breaker.check().open ? (breaker.state().lastError ? `provider '${breaker.name}' is still failing (last error: ${breaker.state().lastError})` : `provider '${breaker.name}' is still failing`) : `provider '${breaker.name}'`}; this step's timeout ended while it waited for the circuit breaker` };
  }
}
