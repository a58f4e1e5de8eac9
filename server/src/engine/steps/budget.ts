/**
 * Budgets of agent calls: `budget: { tokens, cost, turns, time }` on a step (over its attempts),
 * on an agent (over all its steps in the session) and on the workflow (the whole session).
 *
 * A BudgetWatch follows one agent call as it runs: tokens and turns from the provider's usage
 * reports (AgentRequest.onUsage), output tokens estimated from the streamed text (4 characters a
 * token) until the provider reports more, cost from `prices:` (agents/prices.ts; else the cost the
 * tool reports), time from the clock. What finished calls spent comes from the session state
 * (spend.ts, rebuilt from the log, so it survives a resume); calls running side by side in this
 * runner see each other. Over a limit, `trip` is called once with the reason (the caller aborts
 * the call), and every other running call that shares the spent agent or session budget is
 * stopped too. A call never starts when an agent or session budget is already spent.
 */
import { costAt, priceOf, type Prices } from '../../agents/prices';
import type { AgentProgress, AgentUsage } from '../../agents/provider';
import type { BudgetDef } from '../../workflow/schema';
import { parseDuration } from '../../workflow/durations';
import { addSpend, formatCount, formatMs, formatUsd, noSpend, type Spend } from '../spend';
import { loadPrices } from '../../agents/prices';
import { spendOf } from '../spend';
import type { SessionState, StepState } from '../types';
import type { ExecuteInput } from './executeStep';

type CallRecord = NonNullable<StepState['agent']>;

interface Scope {
  /** `budget exceeded`, `agent 'x' budget exceeded`, `session budget exceeded`. */
  label: string;
  kind: 'step' | 'agent' | 'session';
  limits: BudgetDef;
  /** Spent by finished calls before this one. */
  before: Spend;
}

export interface BudgetOptions {
  session: SessionState;
  step: StepState;
  agent: string;
  /** The model asked for (the one answering replaces it once the provider names it). */
  model?: string;
  prices: Prices;
  budgets: { step?: BudgetDef; agent?: BudgetDef; session?: BudgetDef };
  /** Called once, with the reason, when a budget is exceeded mid-call. */
  trip: (reason: string) => void;
}

/** Calls running now, per session (so that side-by-side calls count against shared budgets). */
const live = new Map<string, Set<BudgetWatch>>();

const CHARS_PER_TOKEN = 4;

export class BudgetWatch {
  private readonly scopes: Scope[] = [];
  private readonly t0 = Date.now();
  private reported: AgentProgress = {};
  private streamedChars = 0;
  private model: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private tripped: string | undefined;

  constructor(private readonly o: BudgetOptions) {
    this.model = o.model;
    const { step, agent, session } = o.budgets;
    if (step) this.scopes.push({ label: 'budget exceeded', kind: 'step', limits: step, before: o.step.spent ?? noSpend() });
    if (agent) this.scopes.push({ label: `agent '${o.agent}' budget exceeded`, kind: 'agent', limits: agent, before: o.session.spent?.agents[o.agent] ?? noSpend() });
    if (session) this.scopes.push({ label: 'session budget exceeded', kind: 'session', limits: session, before: o.session.spent?.total ?? noSpend() });
  }

  /** Why the call was stopped, once a budget tripped. */
  get reason(): string | undefined {
    return this.tripped;
  }

  /**
   * The call's record with what it spent: its cost, and where the provider gave no usage (a cut
   * call, or a plain command agent under a budget) the usage counted as it streamed, marked
   * `estimated`. With the warning for a cost budget that could not be checked.
   */
  settle(rec: CallRecord, cut: boolean): { rec: CallRecord; warning?: string; over?: string } {
    const out: CallRecord = { ...rec, agent: this.o.agent };
    if ((cut || (!rec.usage && this.active)) && this.streamedOrReported()) {
      out.usage = { ...rec.usage, ...this.liveUsage() };
      if (this.reported.turns !== undefined) out.turns = this.reported.turns;
      out.estimated = true;
    }
    const cost = out.usage ? this.cost(out.usage, out.model) : undefined;
    if (cost) out.cost = cost;
    const warning = this.uncheckedCost(out.model, cost !== undefined);
    const over = cut ? undefined : this.final(spendOf(out));
    return { rec: out, ...(warning ? { warning } : {}), ...(over ? { over } : {}) };
  }

  private streamedOrReported(): boolean {
    return this.streamedChars > 0 || Object.keys(this.reported).length > 0;
  }

  /** Warnings about `prices:` in the config files. */
  get priceWarnings(): string[] {
    return this.o.prices.warnings;
  }

  get active(): boolean {
    return this.scopes.length > 0;
  }

  /** Why the call must not start (a budget already spent), else undefined; then the watch runs. */
  start(): string | undefined {
    for (const s of this.scopes) {
      const over = exceeded(s.limits, s.before, true);
      if (over) return `${s.label}: ${over}${s.kind === 'step' ? ' by earlier attempts' : ''}: no further agent call starts`;
    }
    if (!this.active) return undefined;
    let set = live.get(this.o.session.id);
    if (!set) live.set(this.o.session.id, (set = new Set()));
    set.add(this);
    this.arm();
    return undefined;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    const set = live.get(this.o.session.id);
    set?.delete(this);
    if (set?.size === 0) live.delete(this.o.session.id);
  }

  /** Streamed answer text (not notes). */
  text(s: string): void {
    this.streamedChars += s.length;
    this.check();
  }

  usage(p: AgentProgress): void {
    this.reported = p;
    if (p.model) this.model = p.model;
    this.check();
  }

  /** This call's usage so far: reported input, output the larger of reported and estimated. */
  liveUsage(): AgentUsage {
    const estimate = Math.ceil(this.streamedChars / CHARS_PER_TOKEN);
    const { turns: _t, toolCalls: _c, model: _m, ...u } = this.reported;
    return { ...u, outputTokens: Math.max(u.outputTokens ?? 0, estimate) };
  }

  /** What the usage costs: at the model's price, else as the tool says, else unknown. */
  cost(u: AgentUsage, model = this.model): { usd: number; from: 'prices' | 'tool' } | undefined {
    const price = priceOf(this.o.prices, model);
    if (price) return { usd: costAt(price, u), from: 'prices' };
    return u.costUsd !== undefined ? { usd: u.costUsd, from: 'tool' } : undefined;
  }

  /** The warning for a cost budget that could not be checked (no price, no cost from the tool). */
  uncheckedCost(model: string | undefined, known: boolean): string | undefined {
    if (known || !this.scopes.some((s) => s.limits.cost !== undefined)) return undefined;
    return `cost budget not checked: no price for model ${model ?? '(the provider default)'} in prices: (.orchestrator/config.yaml), and the tool reported no cost`;
  }

  /** This call's spend so far. */
  current(): Spend {
    const u = this.liveUsage();
    const c = this.cost(u);
    return { tokens: (u.inputTokens ?? 0) + (u.outputTokens ?? 0), costUsd: c?.usd ?? 0, turns: this.reported.turns ?? 1, timeMs: Date.now() - this.t0, calls: 1, uncosted: c ? 0 : 1 };
  }

  /** After the call: whether what it spent in the end (the provider's final figures) is over a budget. */
  final(spend: Spend): string | undefined {
    for (const s of this.scopes) {
      const over = exceeded(s.limits, addSpend(s.before, spend), false);
      if (over) return `${s.label}: ${over}`;
    }
    return undefined;
  }

  private siblings(kind: Scope['kind']): BudgetWatch[] {
    if (kind === 'step') return [];
    return [...(live.get(this.o.session.id) ?? [])].filter((w) => w !== this && (kind === 'session' || w.o.agent === this.o.agent));
  }

  private total(s: Scope): Spend {
    let t = addSpend(s.before, this.current());
    for (const w of this.siblings(s.kind)) t = addSpend(t, w.current());
    return t;
  }

  private check(): void {
    if (this.tripped) return;
    for (const s of this.scopes) {
      const over = exceeded(s.limits, this.total(s), false);
      if (!over) continue;
      const reason = `${s.label}: ${over}`;
      this.trip(reason);
      for (const w of this.siblings(s.kind)) w.trip(reason);
      return;
    }
  }

  private trip(reason: string): void {
    if (this.tripped) return;
    this.tripped = reason;
    if (this.timer) clearTimeout(this.timer);
    this.o.trip(reason);
  }

  /** A timer for the nearest time limit (shared time runs down faster with calls side by side). */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    let wait = Number.POSITIVE_INFINITY;
    for (const s of this.scopes) {
      const limit = parseDuration(s.limits.time);
      if (limit === undefined) continue;
      const left = limit - this.total(s).timeMs;
      wait = Math.min(wait, left / (1 + this.siblings(s.kind).length));
    }
    if (!Number.isFinite(wait)) return;
    this.timer = setTimeout(() => {
      this.check();
      if (!this.tripped) this.arm();
    }, Math.max(1, Math.ceil(wait)));
    this.timer.unref();
  }
}

/** `51,200 of 50,000 tokens` when a limit is passed (reached, with `reached`), else undefined. */
export function exceeded(limits: BudgetDef, s: Spend, reached: boolean): string | undefined {
  const over = (n: number, limit: number | undefined): boolean => limit !== undefined && (reached ? n >= limit : n > limit);
  if (over(s.tokens, limits.tokens)) return `${formatCount(s.tokens)} of ${formatCount(limits.tokens!)} tokens`;
  if (over(s.costUsd, limits.cost)) return `${formatUsd(s.costUsd)} of ${formatUsd(limits.cost!)}`;
  if (over(s.turns, limits.turns)) return `${s.turns} of ${limits.turns!} turns`;
  const time = parseDuration(limits.time);
  if (time !== undefined && s.timeMs >= time) return `${formatMs(s.timeMs)} of ${formatMs(time)} of agent time`;
  return undefined;
}

const pricesCache = new Map<string, Prices>();

/** The watch for one agent call of a step (prices read once per repository). */
export function budgetFor(x: ExecuteInput, agent: string, model: string | undefined, stop: () => void): BudgetWatch {
  let prices = pricesCache.get(x.repoRoot);
  if (!prices) pricesCache.set(x.repoRoot, (prices = loadPrices(x.repoRoot)));
  const wf = x.session.workflow.compiled.definition;
  const budgets = { step: x.def.budget, agent: wf.agents?.[agent]?.budget, session: wf.budget };
  return new BudgetWatch({ session: x.session, step: x.step, agent, ...(model ? { model } : {}), prices, budgets, trip: stop });
}

/** Forgets the prices read (tests that write a config.yaml per case). */
export function forgetPrices(): void {
  pricesCache.clear();
}
