/**
 * Engine defaults that the environment may set (interfaces.md precedence: defaults, config files,
 * ORCHESTRATOR_* variables, flags). The editor sets them for the runners it starts from its
 * `orchestrator.defaults.*` settings. A workflow's own `concurrency` / `stuck_after` still wins.
 */
import { parseDuration } from '../workflow/durations';

export interface EnvDefaults {
  /** ORCHESTRATOR_CONCURRENCY: steps at once when the workflow sets no `concurrency`. */
  concurrency?: number;
  /** ORCHESTRATOR_STUCK_AFTER: `stuck_after` when neither the step nor `defaults` set one. */
  stuckAfterMs?: number;
}

export class SettingError extends Error {}

export function envDefaults(env: NodeJS.ProcessEnv = process.env): EnvDefaults {
  const out: EnvDefaults = {};
  const c = env.ORCHESTRATOR_CONCURRENCY?.trim();
  if (c) {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) throw new SettingError(`ORCHESTRATOR_CONCURRENCY is '${c}': set it to a whole number from 1, or unset it`);
    out.concurrency = n;
  }
  const s = env.ORCHESTRATOR_STUCK_AFTER?.trim();
  if (s) {
    const ms = parseDuration(s);
    if (ms === undefined || ms <= 0) throw new SettingError(`ORCHESTRATOR_STUCK_AFTER is '${s}': set it to a duration such as 90s, 5m or 1h, or unset it`);
    out.stuckAfterMs = ms;
  }
  return out;
}

/** The same, ignoring a malformed value (for read-only views such as `stuck`). */
export function envDefaultsLenient(env: NodeJS.ProcessEnv = process.env): EnvDefaults {
  try {
    return envDefaults(env);
  } catch {
    return {};
  }
}
