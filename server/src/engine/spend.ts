/**
 * What agent calls spent, as plain data and pure functions: the state reducer sums it per step,
 * per agent and per session (so it survives a resume: it is rebuilt from the log), budgets
 * (steps/budget.ts) compare it to their limits, and `show` and the editor print it.
 *
 * Tokens are input + output tokens as the provider reports them (cache reads are not added: they
 * are priced, not counted). Turns are model calls (an HTTP provider's call is one). Time is the
 * calls' duration, summed (two calls side by side both count).
 */

export interface Spend {
  tokens: number;
  /** US dollars of the calls whose cost is known. */
  costUsd: number;
  turns: number;
  timeMs: number;
  /** Agent calls made (attempts). */
  calls: number;
  /** Calls whose cost is not known (no price for the model, and the tool reported none). */
  uncosted: number;
}

/** The part of an agent step's record that spend is read from (engine/types.ts StepState['agent']). */
export interface SpendRecord {
  usage?: { inputTokens?: number; outputTokens?: number };
  turns?: number;
  durationMs: number;
  cost?: { usd: number; from: 'prices' | 'tool' };
}

export function noSpend(): Spend {
  return { tokens: 0, costUsd: 0, turns: 0, timeMs: 0, calls: 0, uncosted: 0 };
}

export function spendOf(r: SpendRecord): Spend {
  const tokens = (r.usage?.inputTokens ?? 0) + (r.usage?.outputTokens ?? 0);
  return { tokens, costUsd: r.cost?.usd ?? 0, turns: r.turns ?? (r.usage ? 1 : 0), timeMs: r.durationMs, calls: 1, uncosted: r.cost ? 0 : 1 };
}

/** a + b, as a new value. */
export function addSpend(a: Spend | undefined, b: Spend): Spend {
  const x = a ?? noSpend();
  return { tokens: x.tokens + b.tokens, costUsd: x.costUsd + b.costUsd, turns: x.turns + b.turns, timeMs: x.timeMs + b.timeMs, calls: x.calls + b.calls, uncosted: x.uncosted + b.uncosted };
}

/** 51200 → `51,200` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 0.5 → `$0.50`, 0.01234 → `$0.0123` */
export function formatUsd(usd: number): string {
  const s = usd.toFixed(4).replace(/0{1,2}$/, '');
  return `$${s}`;
}

/** 1500 → `1.5 s`, 95000 → `1m 35s` */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

/** `12,345 tokens, $0.0421, 3 turns` (cost `?` when no call's cost is known; `+?` when some are not). */
export function spendText(s: Spend): string {
  const cost = s.uncosted === s.calls ? 'cost unknown' : `${formatUsd(s.costUsd)}${s.uncosted ? ' + unknown' : ''}`;
  return `${formatCount(s.tokens)} tokens, ${cost}, ${s.turns} turn${s.turns === 1 ? '' : 's'}`;
}
