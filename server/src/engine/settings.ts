/**
 * Engine defaults (interfaces.md precedence: defaults, config files, ORCHESTRATOR_* variables,
 * flags): `concurrency` and `stuck_after` of the effective configuration (config/load.ts). The
 * editor sets the variables for the runners it starts from its `orchestrator.defaults.*`
 * settings. A workflow's own `concurrency` / `stuck_after` still wins.
 */
import { loadEffectiveConfig } from '../config/load';
import { problemText } from '../config/types';
import { parseDuration } from '../workflow/durations';

export interface EnvDefaults {
  /** ORCHESTRATOR_CONCURRENCY: steps at once when the workflow sets no `concurrency`. */
  concurrency?: number;
  /** ORCHESTRATOR_STUCK_AFTER: `stuck_after` when neither the step nor `defaults` set one. */
  stuckAfterMs?: number;
  /** Problems of the config files (`file:line:col: message`): each key named is ignored. */
  configProblems?: string[];
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

export interface DefaultsOptions {
  readonly repoRoot: string;
  readonly homeDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** `concurrency` and `stuck_after` given on the command line (`--concurrency`, `--stuck-after`). */
  readonly flags?: { concurrency?: unknown; stuck_after?: unknown };
}

export const DEFAULTS_FLAGS = { concurrency: '--concurrency', stuck_after: '--stuck-after' } as const;

/**
 * The defaults from the config files, the variables and the flags. A bad variable or flag is a
 * SettingError that names it and says what to write; a bad value in a config file is left out
 * (the layer below stands; `orchestrator config show` and doctor report it).
 */
export function engineDefaults(opts: DefaultsOptions): EnvDefaults {
  const env = opts.env ?? process.env;
  envDefaults(env);
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  const loaded = loadEffectiveConfig({ repoRoot: opts.repoRoot, ...(opts.homeDir ? { homeDir: opts.homeDir } : {}), env, flags, flagNames: DEFAULTS_FLAGS });
  const bad = loaded.problems.find((p) => p.severity === 'error' && p.file.startsWith('flag '));
  if (bad) throw new SettingError(bad.message);
  const out: EnvDefaults = {};
  const inFiles = loaded.problems.filter((p) => loaded.files.includes(p.file));
  if (inFiles.length) out.configProblems = inFiles.map((p) => `${problemText(p)} (ignored; orchestrator doctor checks the config)`);
  if (loaded.sources.concurrency?.kind !== 'default') out.concurrency = loaded.config.concurrency;
  if (loaded.sources.stuck_after?.kind !== 'default') {
    const ms = parseDuration(loaded.config.stuck_after);
    if (ms !== undefined && ms > 0) out.stuckAfterMs = ms;
  }
  return out;
}
