import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOutputs } from '../../server/src/engine/steps/outputs';

describe('parseOutputs', () => {
  it('reads name=value lines; the value is everything after the first =, verbatim', () => {
    const r = parseOutputs('a=1\nurl=https://x.test/?q=1&r=2\nempty=\nspaced= keep  \n');
    assert.deepEqual(r.outputs, { a: '1', url: 'https://x.test/?q=1&r=2', empty: '', spaced: ' keep  ' });
    assert.deepEqual(r.warnings, []);
  });

  it('reads the multi-line form, blank lines inside included', () => {
    const r = parseOutputs('report<<EOF\nline 1\n\nline=3\nEOF\nafter=x\n');
    assert.deepEqual(r.outputs, { report: 'line 1\n\nline=3', after: 'x' });
    assert.deepEqual(r.warnings, []);
  });

  it('takes any delimiter, and an empty multi-line value', () => {
    const r = parseOutputs('a<<ghadelimiter_4f2\nx\nghadelimiter_4f2\nb<<END\nEND');
    assert.deepEqual(r.outputs, { a: 'x', b: '' });
  });

  it('later duplicates win', () => {
    assert.deepEqual(parseOutputs('a=1\nb<<E\nold\nE\na=2\nb=new\n').outputs, { a: '2', b: 'new' });
  });

  it('ignores blank lines and handles CRLF', () => {
    const r = parseOutputs('\r\na=1\r\n   \r\nm<<EOF\r\nx\r\ny\r\nEOF\r\n');
    assert.deepEqual(r.outputs, { a: '1', m: 'x\ny' });
    assert.deepEqual(r.warnings, []);
  });

  it('a = before << makes a plain value', () => {
    assert.deepEqual(parseOutputs('cmd=cat<<EOF\n').outputs, { cmd: 'cat<<EOF' });
  });

  it('reports a line without = with its number and the fix', () => {
    const r = parseOutputs('a=1\njust text\nb=2');
    assert.deepEqual(r.outputs, { a: '1', b: '2' });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /^line 2: "just text" is not an output: write name=value/);
  });

  it('reports invalid names', () => {
    const r = parseOutputs('1abc=x\n=y\nna me=z\n-x=1\nok-name_2=v');
    assert.deepEqual(r.outputs, { 'ok-name_2': 'v' });
    assert.deepEqual(r.warnings.map((w) => w.split(':')[0]), ['line 1', 'line 2', 'line 3', 'line 4']);
    assert.match(r.warnings[1], /name is empty/);
    assert.match(r.warnings[2], /"na me" is not a valid output name/);
  });

  it('an invalid heredoc name skips the body rather than reading it as outputs', () => {
    const r = parseOutputs('bad name<<EOF\nx=1\nEOF\ny=2');
    assert.deepEqual(r.outputs, { y: '2' });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /^line 1: .*up to line 3 was skipped/);
  });

  it('reports a heredoc that is never closed and does not set it', () => {
    const r = parseOutputs('a=1\nlog<<EOF\npartial\nb=2\n');
    assert.deepEqual(r.outputs, { a: '1' });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /^line 2: the multi-line value "log" is never closed: add a line containing only "EOF"/);
  });

  it('reports a heredoc start without a delimiter', () => {
    const r = parseOutputs('a<<\nb=1');
    assert.deepEqual(r.outputs, { b: '1' });
    assert.match(r.warnings[0], /^line 1: .*without a delimiter/);
  });

  it('the closing delimiter must be the whole line', () => {
    const r = parseOutputs('a<<EOF\n EOF\nEOF x\nEOF');
    assert.deepEqual(r.outputs, { a: ' EOF\nEOF x' });
  });

  it('names like __proto__ are ordinary keys', () => {
    const r = parseOutputs('__proto__=x\nconstructor=y');
    assert.equal(Object.getPrototypeOf(r.outputs), Object.prototype);
    assert.deepEqual(Object.keys(r.outputs), ['__proto__', 'constructor']);
    assert.equal(Object.getOwnPropertyDescriptor(r.outputs, '__proto__')?.value, 'x');
  });

  it('empty input, a BOM, and no final newline', () => {
    assert.deepEqual(parseOutputs(''), { outputs: {}, warnings: [] });
    assert.deepEqual(parseOutputs('\uFEFFa=1').outputs, { a: '1' });
  });
});
