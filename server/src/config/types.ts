/** The types of the configuration API (docs/configuration.md, "For code"); load.ts re-exports them. */
import type { PriceSettingsValue, ProviderSettingsValue } from './schema';

export type ConfigSourceKind = 'default' | 'file' | 'env' | 'flag';

/** Where a value came from: `default`, `/abs/.orchestrator/config.yaml:12`, `env ORCHESTRATOR_RETENTION_KEEP`, `flag --keep`. */
export interface ConfigSource {
  kind: ConfigSourceKind;
  at: string;
}

/**
 * Unknown keys (warning, with a did-you-mean), bad values and YAML that does not parse (errors).
 * Outside a file (a variable, a flag) `file` is the source (`env ORCHESTRATOR_X`, `flag --x`),
 * `line` and `col` are 0, and the message names the variable or flag.
 */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Offsets of the problem's text in its file, and what kind of problem it is (for the editor). */
export interface SpanProblem extends ConfigProblem {
  start: number;
  end: number;
  code: 'unknown-key' | 'bad-value' | 'yaml';
}

/** `max_age` a duration like 30d; `max_size` a size like 2GB (a number written in the file becomes its string). */
export interface RetentionConfig {
  keep?: number;
  max_age?: string;
  max_size?: string;
}

export interface EffectiveConfig {
  /** Steps at once for a workflow without `concurrency` (default: one per CPU core). */
  concurrency: number;
  /** `stuck_after` for steps that set none (default 5m). */
  stuck_after: string;
  retention: RetentionConfig;
  providers: Record<string, ProviderSettingsValue>;
  prices: Record<string, PriceSettingsValue>;
}

export interface LoadedConfig {
  config: EffectiveConfig;
  /** Dotted key (`retention.keep`, `providers.local.model`) → where its value came from. */
  sources: Record<string, ConfigSource>;
  problems: ConfigProblem[];
  /** The config files that exist and were read, lowest precedence first. */
  files: string[];
}

export interface LoadOptions {
  repoRoot: string;
  homeDir?: string;
  env?: NodeJS.ProcessEnv;
  /** The flag layer: dotted key → value (a string is read as the variables are). */
  flags?: Record<string, unknown>;
  /** The flag each dotted key came from, for provenance (default `--` + its last part, `_` → `-`). */
  flagNames?: Record<string, string>;
}

/** A problem as one line: `file:line:col: message` (a variable's or flag's message names it already). */
export function problemText(p: ConfigProblem): string {
  return p.line > 0 ? `${p.file}:${p.line}:${p.col}: ${p.message}` : p.message;
}
