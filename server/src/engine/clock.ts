/** Time, injected: the system clock in production, a fake one in tests (fast and exact). */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(f: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => {
    const t = setTimeout(f, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that moves only when told to. Timers fire in time order during advance(). */
export class FakeClock implements Clock {
  private t: number;
  private timers: { at: number; seq: number; f: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 10, 21, 10, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(f: () => void, ms: number): Timer {
    const timer = { at: this.t + Math.max(0, ms), seq: ++this.seq, f, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Moves time forward, firing due timers in order (and those they schedule, if due). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.f();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}
