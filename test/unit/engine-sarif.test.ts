import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Log } from 'sarif';
import { z } from 'zod';
import { mergeFindings } from '../../server/src/engine/findings/merge';
import { assertValidSarif } from '../helpers/sarif';
import { findingsToSarif, sarifToFindings, severityFromScore } from '../../server/src/engine/findings/sarif';
import type { Finding, RawFinding } from '../../server/src/engine/types';

/** The parts of SARIF 2.1.0 (sarif-schema-2.1.0.json) our output relies on, checked structurally. */
const positiveInt = z.number().int().min(1);
const Message = z.object({ text: z.string().optional(), markdown: z.string().optional(), id: z.string().optional() }).refine((m) => m.text !== undefined || m.id !== undefined, 'message needs text or id');
const SarifLog = z.strictObject({
  $schema: z.literal('https://json.schemastore.org/sarif-2.1.0.json'),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.strictObject({
        tool: z.strictObject({
          driver: z.strictObject({
            name: z.string().min(1),
            version: z.string().optional(),
            informationUri: z.url().optional(),
            rules: z.array(z.looseObject({ id: z.string().min(1), name: z.string().optional() })).optional(),
          }),
        }),
        originalUriBaseIds: z.record(z.string(), z.object({ uri: z.string().regex(/^file:\/\/.*\/$/) })).optional(),
        results: z.array(
          z.strictObject({
            ruleId: z.string().optional(),
            ruleIndex: z.number().int().min(-1).optional(),
            level: z.enum(['none', 'note', 'warning', 'error']),
            message: Message,
            locations: z
              .array(
                z.strictObject({
                  physicalLocation: z.strictObject({
                    artifactLocation: z.strictObject({ uri: z.string().min(1), uriBaseId: z.string().optional() }),
                    region: z.strictObject({ startLine: positiveInt, startColumn: positiveInt.optional(), endLine: positiveInt.optional() }).optional(),
                  }),
                }),
              )
              .optional(),
            partialFingerprints: z.record(z.string(), z.string()),
            properties: z.record(z.string(), z.unknown()),
          }),
        ),
      }),
    )
    .length(1),
});

function raw(f: Partial<RawFinding> & Pick<RawFinding, 'severity' | 'message'>): RawFinding {
  return { step: 'scan', source: 'annotation', ...f };
}

const FINDINGS: Finding[] = mergeFindings([
  raw({ severity: 'critical', message: 'SQL injection', file: 'src/db.ts', line: 12, column: 5, end_line: 14, rule: 'sql-injection' }),
  raw({ severity: 'medium', message: 'SQL injection (lint)', file: 'src/db.ts', line: 12, rule: 'sql-injection', step: 'lint' }),
  raw({ severity: 'high', message: 'XSS', file: 'src/view with space.tsx', line: 3, rule: 'xss' }),
  raw({ severity: 'medium', message: 'weak hash', file: 'src/crypto.ts', line: 40, rule: 'weak-hash' }),
  raw({ severity: 'low', message: 'TODO left', file: 'src/a.ts', line: 1, rule: 'todo' }),
  raw({ severity: 'info', message: 'general remark' }),
  raw({ severity: 'low', message: 'second sql thing', file: 'src/other.ts', line: 9, rule: 'sql-injection' }),
]);

describe('findingsToSarif', () => {
  const log = findingsToSarif(FINDINGS, { toolName: 'Synapse Orchestrator', version: '0.1.0', informationUri: 'https://example.invalid/orchestrator' });

  it('is valid SARIF 2.1.0 (the official schema) and has the structure we rely on', () => {
    assertValidSarif(JSON.parse(JSON.stringify(log)));
    const parsed = SarifLog.safeParse(JSON.parse(JSON.stringify(log)));
    assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues, null, 2));
  });

  it('has one rule per distinct rule id and results pointing at them', () => {
    const run = log.runs[0];
    assert.deepEqual(run.tool.driver.rules!.map((r) => r.id).sort(), ['sql-injection', 'todo', 'weak-hash', 'xss']);
    for (const r of run.results!) {
      if (r.ruleId === undefined) continue;
      assert.equal(run.tool.driver.rules![r.ruleIndex!].id, r.ruleId);
    }
  });

  it('maps severities to levels and keeps ours, the sources and the conflict in properties', () => {
    const run = log.runs[0];
    assert.deepEqual(run.results!.map((r) => [r.properties!.severity as string, r.level]), [
      ['critical', 'error'],
      ['high', 'error'],
      ['medium', 'warning'],
      ['low', 'note'],
      ['low', 'note'],
      ['info', 'none'],
    ]);
    const merged = run.results![0];
    assert.equal((merged.properties!.sources as unknown[]).length, 2);
    assert.deepEqual(merged.properties!.conflict, { severities: ['critical', 'medium'], resolution: 'highest severity wins' });
    assert.equal(merged.partialFingerprints!['orchestratorFindingId/v1'], FINDINGS[0].id);
    assert.deepEqual(merged.locations![0].physicalLocation!.region, { startLine: 12, startColumn: 5, endLine: 14 });
    assert.equal(run.results![5].locations, undefined);
    assert.equal(run.results![5].ruleId, undefined);
    assert.equal('conflict' in run.results![1].properties!, false);
  });

  it('percent-encodes file URIs; with a root, uses %SRCROOT% and relative paths', () => {
    assert.equal(log.runs[0].results![1].locations![0].physicalLocation!.artifactLocation!.uri, 'src/view%20with%20space.tsx');
    const withRoot = findingsToSarif(
      [{ ...FINDINGS[0], file: '/repo/src/db.ts' }, { ...FINDINGS[1], file: '/elsewhere/x.ts' }],
      { toolName: 't', version: '1', root: '/repo' },
    );
    const [a, b] = withRoot.runs[0].results!.map((r) => r.locations![0].physicalLocation!.artifactLocation);
    assert.deepEqual(a, { uri: 'src/db.ts', uriBaseId: '%SRCROOT%' });
    assert.deepEqual(b, { uri: 'file:///elsewhere/x.ts' });
    assert.deepEqual(withRoot.runs[0].originalUriBaseIds, { '%SRCROOT%': { uri: 'file:///repo/' } });
    assert.ok(SarifLog.safeParse(JSON.parse(JSON.stringify(withRoot))).success);
    assertValidSarif(JSON.parse(JSON.stringify(withRoot)));
  });

  it('an empty list is a valid log with no results', () => {
    const empty = findingsToSarif([], { toolName: 't', version: '1' });
    assert.deepEqual(empty.runs[0].results, []);
    assert.ok(SarifLog.safeParse(empty).success);
    assertValidSarif(JSON.parse(JSON.stringify(empty)));
  });
});

describe('round trip findings → SARIF → findings', () => {
  it('keeps severities, files, lines, columns and rules', () => {
    for (const root of [undefined, '/repo']) {
      const log = findingsToSarif(FINDINGS, { toolName: 'Synapse Orchestrator', version: '0.1.0', root });
      const back = sarifToFindings(JSON.parse(JSON.stringify(log)) as Log, 'import', { root });
      assert.deepEqual(back.warnings, []);
      const pick = (f: RawFinding) => [f.severity, f.file, f.line, f.column, f.end_line, f.rule, f.message];
      assert.deepEqual(back.findings.map(pick), FINDINGS.map(pick));
      assert.ok(back.findings.every((f) => f.source === 'sarif:Synapse Orchestrator' && f.step === 'import'));
      // The level alone keeps the buckets too (another tool's reader ignores our properties).
      for (const r of log.runs[0].results!) delete r.properties;
      const byLevel = sarifToFindings(log, 'import', { root }).findings.map((f) => f.severity);
      assert.deepEqual(byLevel, ['high', 'high', 'medium', 'low', 'low', 'info']);
    }
  });
});

/** What an ESLint SARIF formatter writes (abridged, hand-written). */
const ESLINT_SARIF = {
  version: '2.1.0',
  $schema: 'http://json.schemastore.org/sarif-2.1.0-rtm.5',
  runs: [
    {
      tool: {
        driver: {
          name: 'ESLint',
          informationUri: 'https://eslint.org',
          rules: [
            {
              id: 'no-unused-vars',
              shortDescription: { text: 'Disallow unused variables' },
              helpUri: 'https://eslint.org/docs/latest/rules/no-unused-vars',
              properties: { category: 'Variables' },
            },
            {
              id: 'no-eval',
              shortDescription: { text: 'Disallow the use of `eval()`' },
              helpUri: 'https://eslint.org/docs/latest/rules/no-eval',
              properties: { category: 'Best Practices' },
            },
          ],
          version: '8.57.0',
        },
      },
      artifacts: [{ location: { uri: 'file:///abs/path/src/a.js' } }, { location: { uri: 'file:///abs/path/src/my%20dir/b.js' } }],
      results: [
        {
          level: 'warning',
          message: { text: "'x' is assigned a value but never used." },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///abs/path/src/a.js', index: 0 }, region: { startLine: 3, startColumn: 7, endLine: 3, endColumn: 8 } } }],
          ruleId: 'no-unused-vars',
          ruleIndex: 0,
        },
        {
          level: 'error',
          message: { text: 'eval can be harmful.' },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///abs/path/src/my%20dir/b.js', index: 1 }, region: { startLine: 10, startColumn: 1, endLine: 10, endColumn: 12 } } }],
          ruleId: 'no-eval',
          ruleIndex: 1,
        },
        {
          level: 'error',
          message: { text: 'Parsing error: Unexpected token }' },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///other/place/c.js' }, region: { startLine: 1, startColumn: 2 } } }],
        },
      ],
      invocations: [{ toolConfigurationNotifications: [], executionSuccessful: true }],
    },
  ],
} as unknown as Log;

describe('sarifToFindings', () => {
  it('reads an ESLint SARIF log, making paths inside the root relative', () => {
    const r = sarifToFindings(ESLINT_SARIF, 'lint', { root: '/abs/path' });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.findings, [
      { severity: 'medium', message: "'x' is assigned a value but never used.", file: 'src/a.js', line: 3, column: 7, end_line: 3, rule: 'no-unused-vars', step: 'lint', source: 'sarif:ESLint' },
      { severity: 'high', message: 'eval can be harmful.', file: 'src/my dir/b.js', line: 10, column: 1, end_line: 10, rule: 'no-eval', step: 'lint', source: 'sarif:ESLint' },
      { severity: 'high', message: 'Parsing error: Unexpected token }', file: '/other/place/c.js', line: 1, column: 2, step: 'lint', source: 'sarif:ESLint' },
    ]);
    assert.equal(sarifToFindings(ESLINT_SARIF, 'lint').findings[0].file, '/abs/path/src/a.js');
  });

  it('security-severity on the result or its rule decides over level', () => {
    const log: Log = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'CodeQL', rules: [{ id: 'js/sql', properties: { 'security-severity': '8.8' } }, { id: 'js/crit', properties: { 'security-severity': '9.1' } }] } },
          results: [
            { ruleId: 'js/sql', level: 'warning', message: { text: 'a' } },
            { ruleId: 'js/sql', ruleIndex: 0, level: 'note', message: { text: 'b' }, properties: { 'security-severity': 4.0 } },
            { ruleId: 'js/crit', message: { text: 'c' } },
            { ruleId: 'other', message: { text: 'd' }, properties: { 'security-severity': '0.5' } },
            { ruleId: 'other', message: { text: 'e' }, properties: { 'security-severity': 'n/a' }, level: 'none' },
          ],
        },
      ],
    };
    assert.deepEqual(sarifToFindings(log, 's').findings.map((f) => f.severity), ['high', 'medium', 'critical', 'low', 'info']);
    assert.deepEqual([10, 9, 8.9, 7, 6.9, 4, 3.9, 0.1, 0, -1, 'x'].map(severityFromScore), ['critical', 'critical', 'high', 'high', 'medium', 'medium', 'low', 'low', 'info', undefined, undefined]);
  });

  it('falls back to the rule: default level, messageStrings with arguments, short description', () => {
    const log: Log = {
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'T',
              rules: [{ id: 'R1', defaultConfiguration: { level: 'error' }, messageStrings: { default: { text: "'{0}' is bad ({1}) {{not}}" } }, shortDescription: { text: 'Rule one' } }],
            },
          },
          results: [
            { ruleIndex: 0, message: { id: 'default', arguments: ['x', 'y'] } },
            { ruleId: 'R1', message: {} },
            { ruleId: 'NOPE', message: { markdown: '**md**' } },
            { message: {}, kind: 'review' },
          ],
        },
      ],
    };
    const f = sarifToFindings(log, 's').findings;
    assert.deepEqual(f.map((x) => [x.severity, x.message, x.rule]), [
      ['high', "'x' is bad (y) {not}", 'R1'],
      ['high', 'Rule one', 'R1'],
      ['medium', '**md**', 'NOPE'],
      ['info', '(no message)', undefined],
    ]);
  });

  it('skips passes, absent baseline results and accepted suppressions', () => {
    const log: Log = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'T' } },
          results: [
            { message: { text: 'kept' } },
            { message: { text: 'pass' }, kind: 'pass' },
            { message: { text: 'gone' }, baselineState: 'absent' },
            { message: { text: 'suppressed' }, suppressions: [{ kind: 'inSource' }] },
            { message: { text: 'rejected suppression' }, suppressions: [{ kind: 'external', status: 'rejected' }] },
          ],
        },
      ],
    };
    assert.deepEqual(sarifToFindings(log, 's').findings.map((f) => f.message), ['kept', 'rejected suppression']);
  });

  it('honours uriBaseId through originalUriBaseIds, and keeps an unknown base relative', () => {
    const log: Log = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'T' } },
          originalUriBaseIds: { SRC: { uri: 'file:///repo/' }, PKG: { uri: 'pkg/', uriBaseId: 'SRC' } },
          results: [
            { message: { text: 'a' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'lib/x.ts', uriBaseId: 'SRC' } } }] },
            { message: { text: 'b' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'y%2By.ts', uriBaseId: 'PKG' } } }] },
            { message: { text: 'c' }, locations: [{ physicalLocation: { artifactLocation: { uri: './z.ts', uriBaseId: '%SRCROOT%' }, region: { startLine: 4 } } }] },
            { message: { text: 'd' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'https://example.test/x.js' } } }] },
            { message: { text: 'e' }, locations: [{ logicalLocations: [{ name: 'f' }] }] },
          ],
        },
      ],
    };
    const f = sarifToFindings(log, 's', { root: '/repo' }).findings;
    assert.deepEqual(f.map((x) => x.file), ['lib/x.ts', 'pkg/y+y.ts', 'z.ts', 'https://example.test/x.js', undefined]);
    assert.equal(f[2].line, 4);
  });

  it('warns on what is not SARIF rather than throwing', () => {
    assert.deepEqual(sarifToFindings({} as Log, 's'), { findings: [], warnings: ['not a SARIF log: it has no "runs" array'] });
    const odd = sarifToFindings({ version: '2.1.0', runs: [{ tool: { driver: { name: 'T', rules: [] } }, results: [{ ruleIndex: 3, message: { text: 'm' } }, null] }] } as unknown as Log, 's');
    assert.equal(odd.findings.length, 1);
    assert.equal(odd.warnings.length, 2);
    assert.match(odd.warnings[0], /ruleIndex 3 names no rule/);
  });
});
