/**
 * Merging the findings of a session (workflow-format.md, Findings).
 *
 * Findings with the same (file, line, rule), all three present, are one finding: the first report
 * is the base (its message, step, source), every report is kept in `sources`, the highest severity
 * wins, and a disagreement on severity is kept in `conflict`. Findings lacking file, line or rule
 * are never merged.
 *
 * Choices:
 * - The file is compared after light normalisation (`\` → `/`, leading `./` removed), so
 *   `./src/a.ts` and `src/a.ts` are the same place; the base's spelling is kept.
 * - `column` and `end_line` missing on the base are taken from the first later report that has them.
 * - Ids: sha256 hex (16 chars) of `file\0line\0rule` (normalised file) for located findings, of
 *   `step\0message\0file\0line` (missing parts empty) otherwise. Two unmerged findings with the same
 *   key (the same step printing the same unlocated message twice) would share an id, so the n-th
 *   (n ≥ 2) gets the hash of the key plus `\0n`: ids are unique and stable for a given input order.
 * - Order: severity (critical first), then file (findings without a file last), line (without a
 *   line first: whole-file findings head their file), then column, rule, message and id, compared
 *   by code unit (not locale), so the order is total and does not depend on the input order.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES, type Decision, type Finding, type FindingSeverity, type NegotiationPolicy, type RawFinding } from '../types';

const RANK: Record<FindingSeverity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<FindingSeverity, number>;

/** Negative when a is more severe than b. */
export function compareSeverity(a: FindingSeverity, b: FindingSeverity): number {
  return RANK[a] - RANK[b];
}

export function findingHash(parts: (string | number | undefined)[]): string {
  return createHash('sha256')
    .update(parts.map((p) => (p === undefined ? '' : String(p))).join('\0'))
    .digest('hex')
    .slice(0, 16);
}

export function normalizeFile(file: string): string {
  return file.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

function locatedKey(f: RawFinding): string | undefined {
  if (!f.file || f.line === undefined || !f.rule) return undefined;
  return [normalizeFile(f.file), f.line, f.rule].join('\0');
}

function cmpStr(a: string | undefined, b: string | undefined, missingLast: boolean): number {
  if (a === b) return 0;
  if (a === undefined) return missingLast ? 1 : -1;
  if (b === undefined) return missingLast ? -1 : 1;
  return a < b ? -1 : 1;
}

function cmpNum(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a - b;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareSeverity(a.severity, b.severity) ||
    cmpStr(a.file === undefined ? undefined : normalizeFile(a.file), b.file === undefined ? undefined : normalizeFile(b.file), true) ||
    cmpNum(a.line, b.line) ||
    cmpNum(a.column, b.column) ||
    cmpStr(a.rule, b.rule, true) ||
    cmpStr(a.message, b.message, false) ||
    cmpStr(a.id, b.id, false)
  );
}

function startFinding(f: RawFinding, id: string): Finding {
  const { severity, message, file, line, column, end_line, rule, step, source } = f;
  const out: Finding = { id, severity, message, step, source, sources: [{ step, source, severity, message, ...(f.verdict ? { verdict: f.verdict } : {}) }] };
  if (file !== undefined) out.file = file;
  if (line !== undefined) out.line = line;
  if (column !== undefined) out.column = column;
  if (end_line !== undefined) out.end_line = end_line;
  if (rule !== undefined) out.rule = rule;
  return out;
}

export function mergeFindings(raw: RawFinding[], policy: NegotiationPolicy = 'highest-severity', decisions: Record<string, Decision> = {}): Finding[] {
  const merged: Finding[] = [];
  const byKey = new Map<string, Finding>();
  const idCount = new Map<string, number>();

  for (const f of raw) {
    const key = locatedKey(f);
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) {
      existing.sources.push({ step: f.step, source: f.source, severity: f.severity, message: f.message, ...(f.verdict ? { verdict: f.verdict } : {}) });
      if (compareSeverity(f.severity, existing.severity) < 0) existing.severity = f.severity;
      if (existing.column === undefined && f.column !== undefined) existing.column = f.column;
      if (existing.end_line === undefined && f.end_line !== undefined) existing.end_line = f.end_line;
      continue;
    }
    const idKey = key ?? [f.step, f.message, f.file === undefined ? '' : normalizeFile(f.file), f.line ?? ''].join('\0');
    const n = (idCount.get(idKey) ?? 0) + 1;
    idCount.set(idKey, n);
    const finding = startFinding(f, findingHash(n === 1 ? [idKey] : [idKey, n]));
    merged.push(finding);
    if (key !== undefined) byKey.set(key, finding);
  }

  for (const f of merged) negotiate(f, policy, decisions[f.id]);
  return merged.sort(compareFindings);
}

/**
 * Settles a disputed finding: its reports disagree on severity, or some say it is fixed or a false
 * positive. Every opinion stays in `sources`; `decision` says what was decided and why.
 * - highest-severity (default): the highest reported severity; a report keeps it open.
 * - majority: the severity most reports give (a tie goes to the higher); dismissed when more
 *   reporters call it fixed / a false positive than report it.
 * - agent: an arbiter agent decides (its decision comes in `decided`); until then, as
 *   highest-severity.
 */
export function negotiate(f: Finding, policy: NegotiationPolicy, decided?: Decision): void {
  const reports = f.sources.filter((s) => !s.verdict);
  const dismissals = f.sources.filter((s) => s.verdict);
  const distinct = [...new Set(f.sources.map((s) => s.severity))].sort(compareSeverity);
  const disputed = distinct.length > 1 || (dismissals.length > 0 && reports.length > 0);
  if (!disputed) {
    if (dismissals.length && !reports.length) {
      f.status = 'dismissed';
      f.decision = { policy: 'highest-severity', severity: f.severity, status: 'dismissed', reason: `every reporter says ${dismissals.map((d) => d.verdict).join(', ')}` };
    }
    return;
  }
  const highest = distinct[0];
  let decision: Decision;
  if (typeof policy === 'object' && decided) decision = decided;
  else if (policy === 'majority') {
    const counts = new Map<FindingSeverity, number>();
    for (const s of reports.length ? reports : f.sources) counts.set(s.severity, (counts.get(s.severity) ?? 0) + 1);
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || compareSeverity(a[0], b[0]))[0][0];
    const dismissed = dismissals.length > reports.length;
    decision = {
      policy: 'majority',
      severity: best,
      status: dismissed ? 'dismissed' : 'open',
      reason: dismissed
        ? `${dismissals.length} of ${f.sources.length} reporters say ${[...new Set(dismissals.map((d) => d.verdict))].join(' or ')}`
        : `${counts.get(best)} of ${reports.length || f.sources.length} reports say ${best}${dismissals.length ? `; ${dismissals.length} say ${[...new Set(dismissals.map((d) => d.verdict))].join(' or ')}` : ''}`,
    };
  } else {
    const pending = typeof policy === 'object' ? ` (waiting for agent ${policy.agent})` : '';
    decision = {
      policy: 'highest-severity',
      severity: highest,
      status: reports.length ? 'open' : 'dismissed',
      reason: `highest severity wins${dismissals.length ? `; ${dismissals.length} reporter(s) say ${[...new Set(dismissals.map((d) => d.verdict))].join(' or ')}, but a report keeps it open` : ''}${pending}`,
    };
  }
  f.severity = decision.severity;
  f.status = decision.status;
  f.decision = decision;
  if (distinct.length > 1) f.conflict = { severities: distinct, resolution: decision.reason };
}
