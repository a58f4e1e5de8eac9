/**
 * A circuit breaker per provider: after `failureThreshold` consecutive failures the provider is
 * not called for `coolDownMs` (calls fail fast with a message saying until when). After the
 * cool-down one trial call is let through (half-open): its success closes the circuit, its failure
 * opens it again for another cool-down. Time is injected (`now`) so tests need no sleeps.
 */

export interface CircuitBreakerOptions {
  /** The provider's name, for messages. */
  name?: string;
  failureThreshold?: number;
  coolDownMs?: number;
  now?: () => number;
}

export type CheckResult = { open: false } | { open: true; retryAt: number; message: string };

export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  openedAt?: number;
  retryAt?: number;
  lastError?: string;
}

export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function describe(error: unknown): string | undefined {
  if (error instanceof Error) return error.message;
  if (error === undefined || error === null) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** Cancellation says nothing about the provider's health. */
function isCancellation(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || /\brun cancell?ed\b/i.test(error.message));
}

export class CircuitBreaker {
  readonly name: string;
  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  private st: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  private openedAt?: number;
  private retryAt?: number;
  private lastError?: string;
  private trialInFlight = false;
  private waiters: (() => void)[] = [];

  constructor(opts: CircuitBreakerOptions = {}) {
    this.name = opts.name ?? 'provider';
    this.threshold = Math.max(1, opts.failureThreshold ?? 3);
    this.coolDownMs = Math.max(0, opts.coolDownMs ?? 30_000);
    this.now = opts.now ?? Date.now;
  }

  /** Call before each provider call: `{ open: true }` means don't call, fail with `message`. */
  check(): CheckResult {
    if (this.st === 'closed') return { open: false };
    const now = this.now();
    if (this.st === 'open' && now >= this.retryAt!) {
      this.st = 'half-open';
      this.trialInFlight = true;
      return { open: false };
    }
    if (this.st === 'half-open') {
      if (!this.trialInFlight) {
        this.trialInFlight = true;
        return { open: false };
      }
      return {
        open: true,
        retryAt: this.retryAt!,
        message: `provider '${this.name}' failed ${this.failures} times in a row; a trial call is in progress, not calling it again until that one succeeds (circuit half-open)`,
      };
    }
    const last = this.lastError ? `; last error: ${this.lastError}` : '';
    return {
      open: true,
      retryAt: this.retryAt!,
      message: `provider '${this.name}' failed ${this.failures} times in a row; not calling it until ${clock(this.retryAt!)} (circuit open)${last}`,
    };
  }

  /** Resolves at the next success or failure recorded (a step waiting for another's trial call). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  success(): void {
    this.wake();
    this.st = 'closed';
    this.failures = 0;
    this.openedAt = undefined;
    this.retryAt = undefined;
    this.lastError = undefined;
    this.trialInFlight = false;
  }

  /** Records a failed call. Cancellations (AbortError, "run cancelled") are not counted. */
  failure(error?: unknown): void {
    if (isCancellation(error)) {
      // A cancelled trial frees the slot for another trial.
      if (this.st === 'half-open') this.trialInFlight = false;
      this.wake();
      return;
    }
    this.failures++;
    this.lastError = describe(error);
    if (this.st === 'half-open' || (this.st === 'closed' && this.failures >= this.threshold)) this.open();
    this.wake();
  }

  state(): BreakerState {
    // An expired cool-down reads as half-open (the next check lets a trial through).
    const s = this.st === 'open' && this.now() >= this.retryAt! ? 'half-open' : this.st;
    return {
      state: s,
      consecutiveFailures: this.failures,
      ...(this.openedAt !== undefined ? { openedAt: this.openedAt, retryAt: this.retryAt } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  private open(): void {
    const now = this.now();
    this.st = 'open';
    this.openedAt = now;
    this.retryAt = now + this.coolDownMs;
    this.trialInFlight = false;
  }
}

/** One breaker per provider name, created on first use with the registry's settings. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  constructor(private readonly opts: Omit<CircuitBreakerOptions, 'name'> = {}) {}

  get(name: string): CircuitBreaker {
    let b = this.breakers.get(name);
    if (!b) {
      b = new CircuitBreaker({ ...this.opts, name });
      this.breakers.set(name, b);
    }
    return b;
  }

  check(name: string): CheckResult {
    return this.get(name).check();
  }

  success(name: string): void {
    this.get(name).success();
  }

  failure(name: string, error?: unknown): void {
    this.get(name).failure(error);
  }

  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const [name, b] of this.breakers) out[name] = b.state();
    return out;
  }

  /** Forgets one provider's history, or all of it. */
  reset(name?: string): void {
    if (name === undefined) this.breakers.clear();
    else this.breakers.delete(name);
  }
}
