/**
 * Workflow commands in a step's stdout (workflow-format.md, Expressions), in the style of GitHub
 * Actions' `::warning file=...::message`:
 *
 *     ::finding severity=high file=src/a.ts line=12 rule=sql-injection::message
 *     ::heartbeat::
 *
 * Properties are `key=value`, separated by spaces and/or commas; a value may be double-quoted to
 * hold spaces, commas or `::` (inside quotes `\"` and `\\` escape). As in GitHub Actions, the
 * message and property values are percent-decoded: `%25` → `%`, `%0A` → newline, `%0D` → CR, and
 * in properties also `%3A` → `:` and `%2C` → `,`.
 *
 * Choices:
 * - Severity is case-insensitive and accepts common aliases from other tools (error → high,
 *   warning → medium, note/notice → low, none → info, see SEVERITY_ALIASES). An unknown or missing
 *   severity does not drop the finding (a security report must not vanish over a typo): it is kept
 *   as `info` and the line also yields a warning (`warnings` on the finding result).
 * - `line`, `col`/`column` and `end_line`/`endLine` must be positive integers; a bad value drops
 *   that property with a warning, the finding is kept. `end_column`/`endColumn` and `title` are
 *   accepted and ignored (a RawFinding has no such field); other keys are ignored with a warning.
 * - A `::finding` line that cannot be parsed (no `::` before the message, a broken property, an
 *   empty message) is a `warning` result and no finding.
 * - Command names are case-insensitive. Leading whitespace and a trailing CR are ignored. Other
 *   `::command::` lines (e.g. GitHub's `::group::`) are ordinary lines: `undefined`.
 */
import { parseVerdict } from './findingsFile';
import { SEVERITIES, type FindingSeverity, type RawFinding } from '../types';

export type AnnotationResult =
  | { kind: 'finding'; finding: RawFinding; warnings?: string[] }
  | { kind: 'heartbeat' }
  | { kind: 'warning'; message: string };

/** Accepted spellings (lower case) of each severity, besides the severity itself. */
export const SEVERITY_ALIASES: Readonly<Record<string, FindingSeverity>> = {
  crit: 'critical',
  error: 'high',
  moderate: 'medium',
  warning: 'medium',
  warn: 'medium',
  note: 'low',
  notice: 'low',
  informational: 'info',
  information: 'info',
  none: 'info',
};

/** A severity (case-insensitive, aliases accepted), or undefined when it is none we know. */
export function parseSeverity(s: string): FindingSeverity | undefined {
  const v = s.trim().toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(v)) return v as FindingSeverity;
  return Object.hasOwn(SEVERITY_ALIASES, v) ? SEVERITY_ALIASES[v] : undefined;
}

export function unknownSeverityWarning(given: string | undefined, where: string): string {
  const choices = SEVERITIES.join(', ');
  return given === undefined
    ? `${where}: the finding has no severity; it was recorded as info (give one of ${choices})`
    : `${where}: unknown severity ${JSON.stringify(given)}; the finding was recorded as info (use one of ${choices})`;
}

export function decodeMessage(s: string): string {
  return s.replace(/%(25|0A|0D)/gi, (m) => ({ '%25': '%', '%0A': '\n', '%0D': '\r' })[m.toUpperCase()]!);
}

export function decodeProperty(s: string): string {
  return s.replace(/%(25|0A|0D|3A|2C)/gi, (m) => ({ '%25': '%', '%0A': '\n', '%0D': '\r', '%3A': ':', '%2C': ',' })[m.toUpperCase()]!);
}

/** Parses `k=v k2="v 2",k3=v3::` from `s` at `start`: the properties and where the message starts. */
function parseProperties(s: string, start: number): { props: [string, string][]; messageAt: number } | { error: string } {
  const props: [string, string][] = [];
  let i = start;
  for (;;) {
    while (i < s.length && (s[i] === ' ' || s[i] === ',' || s[i] === '\t')) i++;
    if (s.startsWith('::', i)) return { props, messageAt: i + 2 };
    if (i >= s.length) return { error: 'no "::" before the message' };
    const key = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(s.slice(i))?.[0];
    if (!key) return { error: `expected a property name at column ${i + 1}` };
    i += key.length;
    if (s[i] !== '=') return { error: `property ${JSON.stringify(key)} has no "=value"` };
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i];
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return { error: `the quoted value of ${JSON.stringify(key)} is not closed` };
    } else {
      while (i < s.length && s[i] !== ' ' && s[i] !== ',' && s[i] !== '\t' && !s.startsWith('::', i)) value += s[i++];
    }
    props.push([key, decodeProperty(value)]);
  }
}

const IGNORED_KEYS = new Set(['end_column', 'endcolumn', 'title']);

/**
 * Reads one line of a step's stdout. `step` is the step instance id the finding is attributed to.
 * Returns undefined for an ordinary line.
 */
export function parseAnnotation(line: string, step: string): AnnotationResult | undefined {
  const s = line.replace(/\r$/, '').trimStart();
  if (!s.startsWith('::')) return undefined;
  const cmd = /^::([A-Za-z_-]+)/.exec(s)?.[1]?.toLowerCase();
  if (cmd === 'heartbeat') return s.startsWith('::', 11) ? { kind: 'heartbeat' } : undefined;
  if (cmd !== 'finding') return undefined;
  const after = s.slice(9);
  if (after !== '' && !after.startsWith('::') && !/^[ \t]/.test(after)) return undefined; // e.g. ::findings::

  const usage = 'write ::finding severity=high file=path line=12 rule=id::message';
  const parsed = parseProperties(s, 9);
  if ('error' in parsed) return { kind: 'warning', message: `malformed ::finding line (${parsed.error}): ${usage}` };
  const message = decodeMessage(s.slice(parsed.messageAt)).trim();
  if (message === '') return { kind: 'warning', message: `::finding line without a message: ${usage}` };

  const warnings: string[] = [];
  const finding: RawFinding = { severity: 'info', message, step, source: 'annotation' };
  let severity: string | undefined;
  const int = (key: string, v: string): number | undefined => {
    if (/^\d+$/.test(v.trim()) && Number(v) >= 1) return Number(v);
    warnings.push(`::finding: ${key}=${JSON.stringify(v)} is not a positive integer; it was ignored`);
    return undefined;
  };
  for (const [key, value] of parsed.props) {
    switch (key.toLowerCase()) {
      case 'severity':
        severity = value;
        break;
      case 'file':
        if (value !== '') finding.file = value;
        break;
      case 'rule':
        if (value !== '') finding.rule = value;
        break;
      case 'line':
        finding.line = int(key, value);
        break;
      case 'col':
      case 'column':
        finding.column = int(key, value);
        break;
      case 'end_line':
      case 'endline':
        finding.end_line = int(key, value);
        break;
      case 'verdict': {
        const v = parseVerdict(value);
        if (v) finding.verdict = v;
        else warnings.push(`::finding: unknown verdict ${JSON.stringify(value)} was ignored (use fixed or false-positive)`);
        break;
      }
      default:
        if (!IGNORED_KEYS.has(key.toLowerCase())) warnings.push(`::finding: unknown property ${JSON.stringify(key)} was ignored (known: severity, file, line, col, end_line, rule, verdict)`);
    }
  }
  const sev = severity === undefined ? undefined : parseSeverity(severity);
  if (sev) finding.severity = sev;
  else warnings.push(unknownSeverityWarning(severity, '::finding'));
  for (const k of ['line', 'column', 'end_line'] as const) if (finding[k] === undefined) delete finding[k];
  return warnings.length ? { kind: 'finding', finding, warnings } : { kind: 'finding', finding };
}
