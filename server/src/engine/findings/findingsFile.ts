/**
 * Findings a step writes to files (workflow-format.md, Expressions and Findings):
 *
 * - `$ORCHESTRATOR_FINDINGS`: JSON lines, one finding object a line:
 *   `{"severity":"high","message":"...","file":"src/a.ts","line":12,"column":3,"end_line":14,"rule":"x"}`
 *   → parseFindingsJsonl. Source 'jsonl'.
 * - the step's `findings:` file → readFindingsFile: SARIF 2.1.0 (an object with `runs` and
 *   `version: "2.1.0"` or a `$schema` naming SARIF), or findings-JSON (a JSON array of finding
 *   objects, or JSON lines). Source 'sarif:<tool>' or 'jsonl'.
 *
 * Nothing here throws on bad content: an invalid line or item is skipped with a warning giving its
 * line (or item) number and the reason. Choices:
 * - Severity follows the `::finding` rules (annotations.ts): case-insensitive, aliases such as
 *   error/warning/note accepted; an unknown or missing severity keeps the finding as `info` with a
 *   warning, rather than dropping a report.
 * - `line`/`column`/`end_line` are positive integers (numeric strings such as "12" are accepted);
 *   `col` and `endLine` are accepted as aliases. Unknown keys are allowed and ignored (tools add
 *   their own), including `step`/`source`: the engine decides those.
 * - A blank line is skipped silently; an empty file has no findings and no warnings.
 * - An object with a `runs` array but neither marker is read as SARIF 2.1.0, with a warning.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Log } from 'sarif';
import { z } from 'zod';
import { parseSeverity, unknownSeverityWarning } from './annotations';
import { outsideRepo, outsideRepoRefusal, type AllowOutsideRepo } from '../../workflow/repoPaths';
import { sarifToFindings } from './sarif';
import type { RawFinding } from '../types';

export interface FindingsParse {
  findings: RawFinding[];
  warnings: string[];
  /** readFindingsFile only: set when the file does not exist (the warning says so). */
  missing?: true;
  /** readFindingsFile only: the file lies outside the repository and the workflow does not allow it (the reason). */
  refused?: string;
}

const POSITIVE = 'must be a positive integer';
const position = z.union([z.number().int(POSITIVE).positive(POSITIVE), z.string().regex(/^\s*[1-9]\d*\s*$/, POSITIVE).transform(Number)], { error: POSITIVE });

export const FindingObject = z.looseObject({
  severity: z.string({ error: 'must be a string such as "high"' }).optional(),
  message: z.string({ error: 'is required (a string)' }).trim().min(1, 'must not be empty'),
  file: z.string({ error: 'must be a string' }).optional(),
  line: position.optional(),
  column: position.optional(),
  col: position.optional(),
  end_line: position.optional(),
  endLine: position.optional(),
  rule: z.string({ error: 'must be a string' }).optional(),
  verdict: z.string({ error: 'must be a string' }).optional(),
});

/** `fixed`, `false-positive` (also `false_positive`, `falsepositive`), or undefined. */
export function parseVerdict(v: string | undefined): 'fixed' | 'false-positive' | undefined {
  const s = v?.toLowerCase().replace(/[\s_]/g, '-');
  if (s === 'fixed') return 'fixed';
  if (s === 'false-positive' || s === 'falsepositive' || s === 'not-a-problem') return 'false-positive';
  return undefined;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')} ${i.message}` : i.message)).join('; ');
}

/** One parsed JSON value (a line or an array item) as a finding, or a warning why not. */
function toFinding(value: unknown, step: string, where: string, warnings: string[]): RawFinding | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    warnings.push(`${where}: expected a JSON object {severity, message, file?, line?, column?, end_line?, rule?}`);
    return undefined;
  }
  const parsed = FindingObject.safeParse(value);
  if (!parsed.success) {
    warnings.push(`${where}: ${issues(parsed.error)}; the finding was skipped`);
    return undefined;
  }
  const o = parsed.data;
  let severity = o.severity === undefined ? undefined : parseSeverity(o.severity);
  if (!severity) {
    warnings.push(unknownSeverityWarning(o.severity, where));
    severity = 'info';
  }
  const f: RawFinding = { severity, message: o.message, step, source: 'jsonl' };
  if (o.file !== undefined && o.file !== '') f.file = o.file;
  if (o.line !== undefined) f.line = o.line;
  const column = o.column ?? o.col;
  if (column !== undefined) f.column = column;
  const endLine = o.end_line ?? o.endLine;
  if (endLine !== undefined) f.end_line = endLine;
  if (o.rule !== undefined && o.rule !== '') f.rule = o.rule;
  const verdict = parseVerdict(o.verdict);
  if (verdict) f.verdict = verdict;
  else if (o.verdict !== undefined && o.verdict.toLowerCase() !== 'confirmed') warnings.push(`${where}: unknown verdict ${JSON.stringify(o.verdict)} was ignored (use fixed or false-positive)`);
  return f;
}

/** `$ORCHESTRATOR_FINDINGS`: one JSON object a line. CRLF accepted. */
export function parseFindingsJsonl(text: string, step: string): FindingsParse {
  const findings: RawFinding[] = [];
  const warnings: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        warnings.push(`line ${i + 1}: not valid JSON (${(e as Error).message}); write one JSON object per line`);
        return;
      }
      const f = toFinding(value, step, `line ${i + 1}`, warnings);
      if (f) findings.push(f);
    });
  return { findings, warnings };
}

/** True when a parsed JSON value looks like a SARIF log. */
export function isSarif(value: unknown): value is Log {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  if (!Array.isArray(o.runs)) return false;
  return o.version === '2.1.0' || (typeof o.$schema === 'string' && /sarif/i.test(o.$schema));
}

/**
 * The text of a `findings:` file: SARIF 2.1.0, a JSON array of finding objects, or JSON lines.
 * `root` makes absolute SARIF paths relative (see sarif.ts).
 */
export function parseFindingsText(text: string, step: string, opts: { root?: string } = {}): FindingsParse {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return { findings: [], warnings: [] };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return parseFindingsJsonl(body, step); // Not one JSON document: JSON lines (which say what is wrong).
  }
  if (isSarif(value)) return sarifToFindings(value, step, opts);
  if (Array.isArray(value)) {
    const findings: RawFinding[] = [];
    const warnings: string[] = [];
    value.forEach((item, i) => {
      const f = toFinding(item, step, `item ${i + 1}`, warnings);
      if (f) findings.push(f);
    });
    return { findings, warnings };
  }
  if (value !== null && typeof value === 'object' && Array.isArray((value as { runs?: unknown }).runs)) {
    // "runs" without a 2.1.0 version or SARIF $schema: most likely SARIF all the same; read it so.
    const r = sarifToFindings(value as Log, step, opts);
    const said = r.warnings.some((w) => w.startsWith('SARIF version'));
    return said ? r : { findings: r.findings, warnings: ['the file has "runs" but no version "2.1.0" or SARIF $schema; it was read as SARIF 2.1.0', ...r.warnings] };
  }
  return parseFindingsJsonl(body, step); // A single object on one line is one JSON line.
}

export interface ReadFindingsOptions {
  /** The repository root: absolute SARIF paths are made relative to it, and the file must lie inside it. */
  root?: string;
  /** The step's working directory: a relative `file` is resolved against it (default the process's). */
  cwd?: string;
  /** The workflow's `allow_outside_repo` (repoPaths.ts). */
  allowOutside?: AllowOutsideRepo;
  /** How the path was declared, for the refusal (default `findings`). */
  key?: string;
}

/**
 * Reads the file a step declared with `findings:`. `file` is the path as declared (shown in
 * warnings); a relative one is resolved against `cwd`. A missing file is a warning, not an error.
 * With a `root`, a file outside it (symlinks resolved) is not read unless `allowOutside` allows
 * it: `refused` says why, and the step fails with that reason.
 */
export async function readFindingsFile(file: string, step: string, opts: ReadFindingsOptions = {}): Promise<FindingsParse> {
  const full = path.resolve(opts.cwd ?? process.cwd(), file);
  if (opts.root !== undefined) {
    const out = outsideRepo(opts.root, full, opts.allowOutside);
    if (out) return { findings: [], warnings: [], refused: outsideRepoRefusal(opts.key ?? 'findings', file, out, opts.root) };
  }
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const key = opts.key ?? 'findings';
      return { findings: [], warnings: [key === 'findings' ? `the step declared findings: ${file} but did not write it` : `${key}: ${file} does not exist (looked for ${full})`], missing: true };
    }
    return { findings: [], warnings: [`could not read the findings file ${file}: ${(e as Error).message}`] };
  }
  const parsed = parseFindingsText(text, step, { root: opts.root });
  return { findings: parsed.findings, warnings: parsed.warnings.map((w) => `${file}: ${w}`) };
}
