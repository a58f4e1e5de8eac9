import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { findingsToSarif } from '../../server/src/engine/findings/sarif';
import { isSarif, parseFindingsJsonl, parseFindingsText, readFindingsFile } from '../../server/src/engine/findings/findingsFile';
import { mergeFindings } from '../../server/src/engine/findings/merge';

describe('parseFindingsJsonl', () => {
  it('reads one finding a line, source jsonl', () => {
    const text = [
      '{"severity":"high","message":"SQL injection","file":"src/a.ts","line":12,"column":3,"end_line":14,"rule":"sql-injection"}',
      '',
      '{"severity":"info","message":"note this"}\r',
    ].join('\n');
    const r = parseFindingsJsonl(text, 'scan');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.findings, [
      { severity: 'high', message: 'SQL injection', file: 'src/a.ts', line: 12, column: 3, end_line: 14, rule: 'sql-injection', step: 'scan', source: 'jsonl' },
      { severity: 'info', message: 'note this', step: 'scan', source: 'jsonl' },
    ]);
  });

  it('accepts aliases, numeric strings and extra keys; step/source come from the engine', () => {
    const r = parseFindingsJsonl('{"severity":"Warning","message":"m","line":"7","col":2,"endLine":9,"step":"forged","source":"x","cwe":"CWE-89"}', 's');
    assert.deepEqual(r.findings, [{ severity: 'medium', message: 'm', line: 7, column: 2, end_line: 9, step: 's', source: 'jsonl' }]);
    assert.deepEqual(r.warnings, []);
  });

  it('reports invalid lines with their number and reason, keeping the valid ones', () => {
    const text = [
      '{"severity":"high","message":"ok"}',
      'not json',
      '[1,2]',
      '{"severity":"high"}',
      '{"severity":"high","message":"m","line":0}',
      '{"severity":"high","message":"m","line":1.5,"file":3}',
      '{"severity":"high","message":"  "}',
      '{"severity":"bogus","message":"kept"}',
      '{"message":"no severity"}',
    ].join('\n');
    const r = parseFindingsJsonl(text, 's');
    assert.deepEqual(r.findings.map((f) => [f.message, f.severity]), [['ok', 'high'], ['kept', 'info'], ['no severity', 'info']]);
    assert.equal(r.warnings.length, 8);
    assert.match(r.warnings[0], /^line 2: not valid JSON \(.*\); write one JSON object per line$/);
    assert.match(r.warnings[1], /^line 3: expected a JSON object/);
    assert.match(r.warnings[2], /^line 4: message is required \(a string\); the finding was skipped$/);
    assert.match(r.warnings[3], /^line 5: line must be a positive integer/);
    assert.match(r.warnings[4], /^line 6: file must be a string; line must be a positive integer; the finding was skipped$/);
    assert.match(r.warnings[5], /^line 7: message must not be empty/);
    assert.match(r.warnings[6], /^line 8: unknown severity "bogus"; the finding was recorded as info/);
    assert.match(r.warnings[7], /^line 9: the finding has no severity/);
  });
});

describe('parseFindingsText', () => {
  it('reads a JSON array of findings, with item numbers in warnings', () => {
    const r = parseFindingsText(JSON.stringify([{ severity: 'low', message: 'a', file: 'x.ts', line: 1 }, { severity: 'low' }, 'nope']), 's');
    assert.deepEqual(r.findings, [{ severity: 'low', message: 'a', file: 'x.ts', line: 1, step: 's', source: 'jsonl' }]);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0], /^item 2: message is required/);
    assert.match(r.warnings[1], /^item 3: expected a JSON object/);
  });

  it('detects SARIF by version or $schema, with runs', () => {
    const log = findingsToSarif(mergeFindings([{ severity: 'high', message: 'm', file: 'a.ts', line: 2, rule: 'r', step: 'x', source: 'annotation' }]), { toolName: 'Semgrep', version: '1' });
    assert.ok(isSarif(log));
    assert.ok(isSarif({ $schema: 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json', runs: [] }));
    assert.ok(!isSarif({ version: '2.1.0' }));
    assert.ok(!isSarif([{ runs: [] }]));
    const r = parseFindingsText(JSON.stringify(log, null, 2), 's');
    assert.deepEqual(r.findings, [{ severity: 'high', message: 'm', file: 'a.ts', line: 2, rule: 'r', step: 's', source: 'sarif:Semgrep' }]);
    const unmarked = parseFindingsText(JSON.stringify({ runs: log.runs }), 's');
    assert.equal(unmarked.findings.length, 1);
    assert.match(unmarked.warnings[0], /no version "2.1.0" or SARIF \$schema; it was read as SARIF 2.1.0/);
  });

  it('falls back to JSON lines; a single object is one line; empty is nothing', () => {
    assert.equal(parseFindingsText('{"severity":"low","message":"a"}\n{"severity":"low","message":"b"}\n', 's').findings.length, 2);
    assert.equal(parseFindingsText('{"severity":"low","message":"a"}', 's').findings.length, 1);
    assert.deepEqual(parseFindingsText('  \n', 's'), { findings: [], warnings: [] });
  });
});

describe('readFindingsFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-findings-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads SARIF, relative to cwd, making paths relative to root', async () => {
    const sarif = { version: '2.1.0', runs: [{ tool: { driver: { name: 'ESLint' } }, results: [{ level: 'error', message: { text: 'bad' }, locations: [{ physicalLocation: { artifactLocation: { uri: `file://${dir}/src/a.js` }, region: { startLine: 5 } } }] }] }] };
    writeFileSync(path.join(dir, 'out.sarif'), JSON.stringify(sarif));
    const r = await readFindingsFile('out.sarif', 'lint', { cwd: dir, root: dir });
    assert.deepEqual(r, { findings: [{ severity: 'high', message: 'bad', file: 'src/a.js', line: 5, step: 'lint', source: 'sarif:ESLint' }], warnings: [] });
  });

  it('reads JSON lines and prefixes warnings with the file', async () => {
    writeFileSync(path.join(dir, 'f.jsonl'), '{"severity":"low","message":"a"}\nbroken\n');
    const r = await readFindingsFile(path.join(dir, 'f.jsonl'), 's');
    assert.equal(r.findings.length, 1);
    assert.match(r.warnings[0], /f\.jsonl: line 2: not valid JSON/);
  });

  it('a missing file is a warning, not an error', async () => {
    const r = await readFindingsFile('reports/none.sarif', 's', { cwd: dir });
    assert.deepEqual(r, { findings: [], warnings: ['the step declared findings: reports/none.sarif but did not write it'], missing: true });
  });

  it('a directory is reported as unreadable', async () => {
    const r = await readFindingsFile('.', 's', { cwd: dir });
    assert.equal(r.findings.length, 0);
    assert.match(r.warnings[0], /^could not read the findings file \.: /);
  });
});
