/**
 * SARIF 2.1.0 in (a step's `findings:` file, `uses: findings/sarif`) and out (a session's findings
 * for code-scanning tools).
 *
 * Reading, severity, first match wins:
 *   1. `security-severity` (a CVSS score, a number or a numeric string) in the result's properties:
 *      ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low, 0 info;
 *   2. `properties.severity` of the result when it is exactly one of ours (what findingsToSarif
 *      writes, so a round trip keeps critical vs high and low vs info);
 *   3. `security-severity` in the rule's properties (GitHub's convention);
 *   4. the result's `level`, else the rule's `defaultConfiguration.level`, else `warning` (the
 *      SARIF default): error → high, warning → medium, note → low, none → info.
 * Results that are not findings are skipped: `kind` pass / notApplicable, `baselineState` absent,
 * and results with an accepted suppression (a suppression without a status is accepted, per spec).
 * Other non-`fail` kinds (review, open, informational) without a level are `info`.
 *
 * Files: the first location's `artifactLocation` (or the run artifact it points at by `index`).
 * `file://` URIs become paths, percent-encoding is decoded, and absolute paths inside `root` become
 * relative to it (with `/`). `uriBaseId` is honoured minimally: it is resolved through the run's
 * `originalUriBaseIds` when given there; an unknown base (e.g. `%SRCROOT%` alone) is taken to be
 * the root, so the relative URI is kept as is. Non-file URIs (https:...) are kept verbatim.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ArtifactLocation, Log, ReportingDescriptor, Result, Run } from 'sarif';
import { SEVERITIES, type Finding, type FindingSeverity, type RawFinding } from '../types';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const FINGERPRINT_KEY = 'orchestratorFindingId/v1';
const SRCROOT = '%SRCROOT%';

const LEVEL_TO_SEVERITY: Record<string, FindingSeverity> = { error: 'high', warning: 'medium', note: 'low', none: 'info' };
const SEVERITY_TO_LEVEL: Record<FindingSeverity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'none' };

/** A CVSS-style score (GitHub's `security-severity`) as a severity; undefined when it is not a score. */
export function severityFromScore(v: unknown): FindingSeverity | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  return n >= 9 ? 'critical' : n >= 7 ? 'high' : n >= 4 ? 'medium' : n > 0 ? 'low' : 'info';
}

function propsOf(x: { properties?: Record<string, unknown> } | undefined): Record<string, unknown> {
  const p = x?.properties;
  return p && typeof p === 'object' ? p : {};
}

function resultSeverity(result: Result, rule: ReportingDescriptor | undefined): FindingSeverity {
  const own = propsOf(result);
  const fromScore = severityFromScore(own['security-severity']);
  if (fromScore) return fromScore;
  const ours = own.severity;
  if (typeof ours === 'string' && (SEVERITIES as readonly string[]).includes(ours)) return ours as FindingSeverity;
  const fromRule = severityFromScore(propsOf(rule)['security-severity']);
  if (fromRule) return fromRule;
  const level = result.level ?? rule?.defaultConfiguration?.level;
  if (level && Object.hasOwn(LEVEL_TO_SEVERITY, level)) return LEVEL_TO_SEVERITY[level];
  return result.kind && result.kind !== 'fail' ? 'info' : 'medium';
}

function findRule(run: Run, result: Result): ReportingDescriptor | undefined {
  const rules = run.tool?.driver?.rules ?? [];
  const index = result.ruleIndex ?? result.rule?.index;
  if (typeof index === 'number' && index >= 0 && index < rules.length) return rules[index];
  const id = result.ruleId ?? result.rule?.id;
  if (id === undefined) return undefined;
  for (const component of [run.tool?.driver, ...(run.tool?.extensions ?? [])]) {
    const hit = component?.rules?.find((r) => r.id === id);
    if (hit) return hit;
  }
  // Hierarchical ids ("CA2101/1"): the rule is the first component.
  const base = id.split('/')[0];
  return base !== id ? rules.find((r) => r.id === base) : undefined;
}

function format(template: string, args: string[] | undefined): string {
  if (!args?.length) return template;
  return template.replace(/\{\{|\}\}|\{(\d+)\}/g, (m, n: string | undefined) => (n === undefined ? m[0] : (args[Number(n)] ?? m)));
}

function messageOf(result: Result, rule: ReportingDescriptor | undefined): string {
  const m = result.message ?? {};
  const fromRule = m.id ? rule?.messageStrings?.[m.id] : undefined;
  const text = m.text ?? fromRule?.text ?? m.markdown ?? fromRule?.markdown ?? rule?.shortDescription?.text ?? rule?.fullDescription?.text;
  return text ? format(text, m.arguments) : (result.ruleId ?? rule?.id ?? '(no message)');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/; // two characters at least: `C:` is a drive, not a scheme

/** Resolves a base id through originalUriBaseIds to an absolute URI or path; undefined when unknown. */
function baseUri(run: Run, id: string, depth = 0): string | undefined {
  const loc = run.originalUriBaseIds?.[id];
  if (!loc?.uri || depth > 8) return undefined;
  if (loc.uriBaseId) {
    const parent = baseUri(run, loc.uriBaseId, depth + 1);
    return parent ? joinUri(parent, loc.uri) : undefined;
  }
  return loc.uri;
}

function joinUri(base: string, rel: string): string {
  if (SCHEME.test(rel)) return rel;
  if (SCHEME.test(base)) return new URL(rel, base.endsWith('/') ? base : `${base}/`).href;
  return path.posix.join(base, rel);
}

/** The file of an artifact location as a path (relative to root when inside it). */
export function locationToFile(run: Run, loc: ArtifactLocation, root?: string): string | undefined {
  let uri = loc.uri;
  let baseId = loc.uriBaseId;
  if (uri === undefined && typeof loc.index === 'number') {
    const art = run.artifacts?.[loc.index]?.location;
    uri = art?.uri;
    baseId = baseId ?? art?.uriBaseId;
  }
  if (!uri) return undefined;
  if (baseId) {
    const base = baseUri(run, baseId);
    if (base) uri = joinUri(base, uri);
  }
  let file: string;
  if (/^file:/i.test(uri)) {
    try {
      file = fileURLToPath(uri);
    } catch {
      file = decode(uri.replace(/^file:(\/\/[^/]*)?/i, ''));
    }
  } else if (SCHEME.test(uri)) {
    return uri;
  } else {
    file = decode(uri);
  }
  if (root && path.isAbsolute(file)) {
    const rel = path.relative(root, file);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) file = rel.split(path.sep).join('/');
  }
  return file.replace(/^(\.\/)+/, '');
}

function skipped(result: Result): boolean {
  if (result.kind === 'pass' || result.kind === 'notApplicable') return true;
  if (result.baselineState === 'absent') return true;
  return (result.suppressions ?? []).some((s) => s.status === undefined || s.status === 'accepted');
}

const positive = (n: unknown): number | undefined => (typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined);

export function sarifToFindings(log: Log, step: string, opts: { root?: string } = {}): { findings: RawFinding[]; warnings: string[] } {
  const findings: RawFinding[] = [];
  const warnings: string[] = [];
  if (!log || !Array.isArray(log.runs)) return { findings, warnings: ['not a SARIF log: it has no "runs" array'] };
  if (log.version !== undefined && (log.version as string) !== '2.1.0') {
    warnings.push(`SARIF version ${JSON.stringify(log.version)} is not 2.1.0; it was read as 2.1.0`);
  }
  log.runs.forEach((run, r) => {
    const tool = run?.tool?.driver?.name || 'unknown';
    const source = `sarif:${tool}`;
    if (run?.results !== undefined && !Array.isArray(run.results)) {
      warnings.push(`run ${r + 1} (${tool}): "results" is not an array; it was ignored`);
      return;
    }
    (run?.results ?? []).forEach((result, i) => {
      if (!result || typeof result !== 'object') {
        warnings.push(`run ${r + 1} (${tool}), result ${i + 1}: not an object; it was ignored`);
        return;
      }
      if (skipped(result)) return;
      const rule = findRule(run, result);
      const index = result.ruleIndex ?? result.rule?.index;
      if (typeof index === 'number' && index >= 0 && !run.tool?.driver?.rules?.[index]) {
        warnings.push(`run ${r + 1} (${tool}), result ${i + 1}: ruleIndex ${index} names no rule of the driver`);
      }
      const finding: RawFinding = { severity: resultSeverity(result, rule), message: messageOf(result, rule), step, source };
      const physical = result.locations?.[0]?.physicalLocation;
      const file = physical?.artifactLocation ? locationToFile(run, physical.artifactLocation, opts.root) : undefined;
      if (file) finding.file = file;
      const region = physical?.region;
      const line = positive(region?.startLine);
      if (line !== undefined) {
        finding.line = line;
        const column = positive(region?.startColumn);
        if (column !== undefined) finding.column = column;
        const end = positive(region?.endLine);
        if (end !== undefined) finding.end_line = end;
      }
      const ruleId = result.ruleId ?? result.rule?.id ?? rule?.id;
      if (ruleId) finding.rule = ruleId;
      findings.push(finding);
    });
  });
  return { findings, warnings };
}

export interface ToSarifOptions {
  toolName: string;
  version: string;
  /** Absolute files inside root are written relative to it, with `uriBaseId: %SRCROOT%`. */
  root?: string;
  informationUri?: string;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function artifactLocation(file: string, root: string | undefined): ArtifactLocation {
  let f = file.replace(/\\/g, '/');
  if (root && path.isAbsolute(file)) {
    const rel = path.relative(root, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { uri: pathToFileURL(file).href };
    f = rel.split(path.sep).join('/');
  } else if (path.isAbsolute(file)) {
    return { uri: pathToFileURL(file).href };
  }
  if (SCHEME.test(f)) return { uri: f };
  return root ? { uri: encodePath(f), uriBaseId: SRCROOT } : { uri: encodePath(f) };
}

/** A SARIF 2.1.0 log of the findings: one run, one rule per distinct rule id (in order of first use). */
export function findingsToSarif(findings: Finding[], opts: ToSarifOptions): Log {
  const rules: ReportingDescriptor[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Result[] = findings.map((f) => {
    const result: Result = { level: SEVERITY_TO_LEVEL[f.severity], message: { text: f.message } };
    if (f.rule !== undefined) {
      let index = ruleIndex.get(f.rule);
      if (index === undefined) {
        index = rules.length;
        ruleIndex.set(f.rule, index);
        rules.push({ id: f.rule });
      }
      result.ruleId = f.rule;
      result.ruleIndex = index;
    }
    if (f.file) {
      const region =
        f.line !== undefined
          ? { startLine: f.line, ...(f.column !== undefined && { startColumn: f.column }), ...(f.end_line !== undefined && { endLine: f.end_line }) }
          : undefined;
      result.locations = [{ physicalLocation: { artifactLocation: artifactLocation(f.file, opts.root), ...(region && { region }) } }];
    }
    result.partialFingerprints = { [FINGERPRINT_KEY]: f.id };
    result.properties = { severity: f.severity, sources: f.sources, ...(f.conflict && { conflict: f.conflict }) };
    return result;
  });
  const run: Run = {
    tool: { driver: { name: opts.toolName, version: opts.version, ...(opts.informationUri && { informationUri: opts.informationUri }), rules } },
    results,
  };
  if (opts.root && results.some((r) => r.locations?.[0]?.physicalLocation?.artifactLocation?.uriBaseId === SRCROOT)) {
    const href = pathToFileURL(opts.root).href;
    run.originalUriBaseIds = { [SRCROOT]: { uri: href.endsWith('/') ? href : `${href}/` } };
  }
  return { $schema: SARIF_SCHEMA, version: '2.1.0', runs: [run] };
}
