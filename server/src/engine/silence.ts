/**
 * Silence watching for one running step or open approval (sessions.md, "Stuck"): once nothing has
 * been heard for `stuck_after`, the step is reported stuck, once, and keeps running; hearing from
 * it again clears that. Time comes from the injected clock, so tests drive it exactly.
 */
import { parseDuration } from '../workflow/durations';
import type { CompiledStep, CompiledWorkflow } from '../workflow/plan';
import type { Clock, Timer } from './clock';

/** A step's stuck_after: the step's own, else the workflow's defaults, else `fallbackMs`. */
export function stuckAfterMs(workflow: CompiledWorkflow, def: CompiledStep | undefined, fallbackMs: number): number {
  return parseDuration(def?.stuck_after) ?? parseDuration(workflow.definition.defaults?.stuck_after) ?? fallbackMs;
}

export interface SilenceEvents {
  /** Still watched? A check after the watch ended does nothing. */
  active(): boolean;
  /** Silent for `silentMs` since `lastHeard` (clock ms): reported once per silence. */
  stuck(lastHeard: number, silentMs: number): void;
  /** Heard from again after it was reported stuck. */
  heardAgain(): void;
}

export class SilenceWatch {
  private lastHeard: number;
  private reported = false;
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly afterMs: number,
    private readonly events: SilenceEvents,
  ) {
    this.lastHeard = clock.now();
    this.timer = clock.setTimeout(() => this.check(), afterMs);
  }

  heard(): void {
    this.lastHeard = this.clock.now();
    if (this.reported) {
      this.reported = false;
      this.events.heardAgain();
    }
  }

  stop(): void {
    this.timer?.cancel();
  }

  private check(): void {
    if (!this.events.active()) return;
    const silent = this.clock.now() - this.lastHeard;
    if (silent >= this.afterMs) {
      if (!this.reported) {
        this.reported = true;
        this.events.stuck(this.lastHeard, silent);
      }
      this.timer = this.clock.setTimeout(() => this.check(), this.afterMs);
    } else this.timer = this.clock.setTimeout(() => this.check(), this.afterMs - silent);
  }
}
