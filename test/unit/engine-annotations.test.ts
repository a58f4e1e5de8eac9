import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, parseAnnotation, parseSeverity, type AnnotationResult } from '../../server/src/engine/findings/annotations';
import type { RawFinding } from '../../server/src/engine/types';

function finding(r: AnnotationResult | undefined): RawFinding {
  assert.equal(r?.kind, 'finding', JSON.stringify(r));
  return (r as { finding: RawFinding }).finding;
}

describe('parseAnnotation: ::finding', () => {
  it('reads the documented form', () => {
    const r = parseAnnotation('::finding severity=high file=src/a.ts line=12 rule=sql-injection::Query built from user input', 'scan');
    assert.deepEqual(r, {
      kind: 'finding',
      finding: { severity: 'high', message: 'Query built from user input', file: 'src/a.ts', line: 12, rule: 'sql-injection', step: 'scan', source: 'annotation' },
    });
  });

  it('accepts commas, quoted values, col/column and end_line/endLine', () => {
    const a = finding(parseAnnotation('::finding severity=low,file="src/my file.ts",line=3,col=5,endLine=7,rule="a::b, c"::m', 's'));
    assert.deepEqual(a, { severity: 'low', message: 'm', file: 'src/my file.ts', line: 3, column: 5, end_line: 7, rule: 'a::b, c', step: 's', source: 'annotation' });
    const b = finding(parseAnnotation('::finding severity=medium column=2 end_line=4 line=1::m', 's'));
    assert.equal(b.column, 2);
    assert.equal(b.end_line, 4);
  });

  it('quoted values may escape quotes and backslashes', () => {
    assert.equal(finding(parseAnnotation('::finding severity=info rule="say \\"hi\\" \\\\ bye"::m', 's')).rule, 'say "hi" \\ bye');
  });

  it('percent-decodes the message and properties like GitHub', () => {
    const f = finding(parseAnnotation('::finding severity=high file=a%2Cb%3Ac.ts::first%0Asecond %25 done%0D', 's'));
    assert.equal(f.message, 'first\nsecond % done');
    assert.equal(f.file, 'a,b:c.ts');
    assert.equal(decodeMessage('%2541'), '%41');
  });

  it('keeps :: inside the message', () => {
    assert.equal(finding(parseAnnotation('::finding severity=low::use std::move here', 's')).message, 'use std::move here');
  });

  it('accepts no properties at all (info, with a warning)', () => {
    const r = parseAnnotation('::finding::something odd', 's');
    assert.equal(finding(r).severity, 'info');
    assert.match((r as { warnings: string[] }).warnings[0], /no severity/);
  });

  it('severity is case-insensitive with aliases; an unknown one is kept as info with a warning', () => {
    assert.equal(finding(parseAnnotation('::finding severity=CRITICAL::m', 's')).severity, 'critical');
    assert.equal(finding(parseAnnotation('::finding severity=error::m', 's')).severity, 'high');
    assert.equal(finding(parseAnnotation('::finding severity=warning::m', 's')).severity, 'medium');
    assert.equal(finding(parseAnnotation('::finding severity=notice::m', 's')).severity, 'low');
    const r = parseAnnotation('::finding severity=urgent line=2::m', 's');
    assert.equal(finding(r).severity, 'info');
    assert.equal(finding(r).line, 2);
    assert.match((r as { warnings: string[] }).warnings[0], /unknown severity "urgent"; the finding was recorded as info \(use one of critical, high/);
    assert.equal(parseSeverity(' Moderate '), 'medium');
    assert.equal(parseSeverity('toString'), undefined);
  });

  it('drops a bad number or an unknown key with a warning, keeping the finding', () => {
    const r = parseAnnotation('::finding severity=high line=abc col=0 foo=bar title=T end_column=9::m', 's');
    const f = finding(r);
    assert.equal(f.line, undefined);
    assert.equal('line' in f, false);
    assert.equal(f.column, undefined);
    const w = (r as { warnings: string[] }).warnings;
    assert.equal(w.length, 3);
    assert.match(w[0], /line="abc" is not a positive integer/);
    assert.match(w[2], /unknown property "foo"/);
  });

  it('reports malformed lines as warnings', () => {
    for (const [line, why] of [
      ['::finding severity=high file=a.ts', /no "::" before the message/],
      ['::finding severity=high file="a.ts::oops', /quoted value of "file" is not closed/],
      ['::finding severity::m', /"severity" has no "=value"/],
      ['::finding severity=high ==x::m', /expected a property name/],
      ['::finding severity=high::   ', /without a message/],
    ] as const) {
      const r = parseAnnotation(line, 's');
      assert.equal(r?.kind, 'warning', line);
      assert.match((r as { message: string }).message, why);
      assert.match((r as { message: string }).message, /write ::finding severity=high/);
    }
  });

  it('tolerates CRLF and leading spaces; command names are case-insensitive', () => {
    assert.equal(finding(parseAnnotation('  ::Finding severity=low::m\r', 's')).message, 'm');
  });
});

describe('parseAnnotation: other lines', () => {
  it('::heartbeat:: is a heartbeat', () => {
    assert.deepEqual(parseAnnotation('::heartbeat::', 's'), { kind: 'heartbeat' });
    assert.deepEqual(parseAnnotation('::heartbeat::still working\r', 's'), { kind: 'heartbeat' });
  });

  it('ordinary lines and other commands are undefined', () => {
    for (const line of ['', 'hello', 'a ::finding severity=high::m', '::group::Build', '::findings::x', '::heartbeat', '::debug::x', ': :finding::x']) {
      assert.equal(parseAnnotation(line, 's'), undefined, line);
    }
  });
});
