/**
 * Problems found in a workflow file. Positions stay as offsets (UTF-16 code units into the
 * document text) until the edge: the host and the CLI convert them with a LineIndex.
 */

/** Every diagnostic code of workflow-format.md, and `not-checked` (docs/workflow-language.md, Limits). */
export const PROBLEM_CODES = [
  'yaml-syntax',
  'schema',
  'duplicate-id',
  'unknown-need',
  'dependency-cycle',
  'unknown-agent',
  'step-kind',
  'bad-duration',
  'bad-expression',
  'not-upstream',
  'unknown-input',
  'missing-file',
  'unreachable',
  'unknown-action',
  'unknown-argument',
  'outside-repo',
  'shell-expression',
  'not-checked',
  'no-git-repo',
  'worktree-needs-git',
  'ignored-key',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];
export type Severity = 'error' | 'warning';

export const SEVERITY_OF: Record<ProblemCode, Severity> = {
  'yaml-syntax': 'error',
  schema: 'error',
  'duplicate-id': 'error',
  'unknown-need': 'error',
  'dependency-cycle': 'error',
  'unknown-agent': 'error',
  'step-kind': 'error',
  'bad-duration': 'error',
  'bad-expression': 'error',
  'not-upstream': 'error',
  'unknown-input': 'error',
  'missing-file': 'warning',
  unreachable: 'warning',
  'unknown-action': 'error',
  'unknown-argument': 'warning',
  'outside-repo': 'warning',
  'shell-expression': 'warning',
  'not-checked': 'warning',
  'no-git-repo': 'warning',
  'worktree-needs-git': 'error',
  'ignored-key': 'warning',
};

/** A half-open range of offsets [start, end). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Problem {
  readonly code: ProblemCode;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
}

/** Longer messages keep their start and end (the advice) around an ellipsis: output stays linear. */
export const MAX_MESSAGE_LENGTH = 1_000;

export function problem(code: ProblemCode, span: Span, message: string): Problem {
  const m = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 200)} … ${message.slice(-190)}` : message;
  return { code, severity: SEVERITY_OF[code], message: m, span: { start: span.start, end: Math.max(span.start, span.end) } };
}

/**
 * The message problem() keeps for the concatenation of `parts`, made without building that
 * concatenation: a list of thousands of names shared by thousands of messages costs each message
 * its capped length, not the list's.
 */
export function cappedMessage(parts: readonly string[]): string {
  let length = 0;
  for (const p of parts) length += p.length;
  if (length <= MAX_MESSAGE_LENGTH) return parts.join('');
  const headLength = MAX_MESSAGE_LENGTH - 200;
  const tailLength = 190;
  let head = '';
  for (let i = 0; i < parts.length && head.length < headLength; i++) head += parts[i].slice(0, headLength - head.length);
  let tail = '';
  for (let i = parts.length - 1; i >= 0 && tail.length < tailLength; i--) tail = parts[i].slice(-(tailLength - tail.length)) + tail;
  return `${head} … ${tail}`;
}

/** The first line of the text: where a problem about the whole file is reported. */
export function topOfFile(text: string): Span {
  const eol = text.search(/\r|\n/);
  return { start: 0, end: eol === -1 ? text.length : eol };
}

/** A 0-based line and character (UTF-16), as LSP uses them. */
export interface Position {
  readonly line: number;
  readonly character: number;
}

/** Converts offsets to line/character. Built once per text, O(log lines) per lookup. */
export class LineIndex {
  private readonly starts: number[];

  constructor(readonly text: string) {
    // Lines end at \n, \r\n or a lone \r, as LSP counts them.
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.starts = starts;
  }

  /** Offset of the end of a line's content (before its line break). */
  private contentEnd(line: number): number {
    if (line + 1 >= this.starts.length) return this.text.length;
    let e = this.starts[line + 1];
    if (this.text.charCodeAt(e - 1) === 10) e--;
    if (this.text.charCodeAt(e - 1) === 13) e--;
    return e;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    // An offset inside a line break (between \r and \n) is the end of the line.
    return { line: lo, character: Math.min(o, this.contentEnd(lo)) - this.starts[lo] };
  }

  offset(pos: Position): number {
    if (pos.line < 0) return 0;
    if (pos.line >= this.starts.length) return this.text.length;
    const start = this.starts[pos.line];
    return Math.min(start + Math.max(0, pos.character), this.contentEnd(pos.line));
  }

  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))];
  }
}

/** Sorts problems by position, then code, for stable output. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end || a.code.localeCompare(b.code));
}
