/**
 * Inline YAML with the expected problem ranges marked: `[[` and `]]` around each range, in
 * document order. Returns the clean text and the marked spans (offsets in the clean text).
 */
import assert from 'node:assert/strict';
import { LineIndex, type ProblemCode } from '../../server/src/workflow/problems';
import { validateWorkflow, type ValidateOptions, type Validation } from '../../server/src/workflow/validate';

export interface Marked {
  text: string;
  spans: { start: number; end: number }[];
}

export function mark(source: string): Marked {
  let text = '';
  const spans: { start: number; end: number }[] = [];
  const open: number[] = [];
  for (let i = 0; i < source.length; i++) {
    if (source.startsWith('[[', i) && source[i + 2] !== '[') {
      open.push(text.length);
      i++;
    } else if (source.startsWith(']]', i) && open.length) {
      spans.push({ start: open.pop()!, end: text.length });
      i++;
    } else text += source[i];
  }
  assert.equal(open.length, 0, 'unbalanced [[ ]] markers');
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  return { text, spans };
}

/** Strips the common indentation of a template literal (so tests can indent YAML). */
export function yaml(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/**
 * Validates the marked YAML and asserts that the problems are exactly `codes`, in document
 * order, each at its marked range. Returns the validation for further checks.
 */
export function expectProblems(source: string, codes: ProblemCode[], opts: ValidateOptions = {}): Validation {
  const m = mark(yaml(source));
  const v = validateWorkflow(m.text, opts);
  assert.deepEqual(v.internalErrors, [], 'no check may crash');
  const idx = new LineIndex(m.text);
  const fmt = (s: { start: number; end: number }) => {
    const a = idx.position(s.start);
    const b = idx.position(s.end);
    return `${a.line + 1}:${a.character + 1}-${b.line + 1}:${b.character + 1} "${m.text.slice(s.start, s.end)}"`;
  };
  const actual = v.problems.map((p) => `${p.code} ${fmt(p.span)}`);
  const expected = codes.map((c, i) => `${c} ${m.spans[i] ? fmt(m.spans[i]) : '(no marker)'}`);
  assert.deepEqual(actual, expected, `problems differ:\n${v.problems.map((p) => `  ${p.code} ${fmt(p.span)} ${p.message}`).join('\n')}`);
  return v;
}

export function messages(v: Validation): string[] {
  return v.problems.map((p) => p.message);
}
