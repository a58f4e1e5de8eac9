/**
 * The lexer behind shellChecks.ts: it follows quotes, `$( )`, backquotes, `${ }`, arithmetic,
 * here-documents, comments and command boundaries, and records where each `${{ }}` lands when
 * that place defeats the engine's variable passing (single quotes, a quoted here-document,
 * arithmetic). Not a shell parser; on text it does not understand it records nothing.
 */
export type ShellContext = 'single-quoted' | 'quoted-heredoc' | 'arithmetic';

export interface ShellPlace {
  readonly context: ShellContext;
  /** The construct, for the message: `'…'`, `$(( ))`, `let`, `[[ … -eq … ]]`, `<<'EOF'`, … */
  readonly construct: string;
}

interface Word {
  readonly raw: string;
  readonly exprs: number[];
}

const ARITH_TEST_OPS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
/** Words after which a command still starts. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', '{', '}', 'fi', 'done', 'esac']);
/** Builtins whose arguments may be `name[subscript]=value` assignments. */
const DECLARE = new Set(['declare', 'local', 'typeset', 'readonly', 'export']);
const SUBSCRIPT_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\[/;

export class Scanner {
  readonly found = new Map<number, ShellPlace>();
  private readonly byStart = new Map<number, number>();
  private pendingHeredocs: { delim: string; quoted: boolean; stripTabs: boolean; construct: string }[] = [];

  constructor(
    private readonly s: string,
    private readonly exprs: readonly { start: number; end: number }[],
  ) {
    exprs.forEach((e, i) => this.byStart.set(e.start, i));
  }

  private mark(k: number, context: ShellContext, construct: string): void {
    if (!this.found.has(k)) this.found.set(k, { context, construct });
  }

  /** Indices of the expressions starting in [from, to) (they are sorted: a binary search, so long scripts stay linear). */
  private within(from: number, to: number): number[] {
    let lo = 0;
    let hi = this.exprs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.exprs[mid].start < from) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let k = lo; k < this.exprs.length && this.exprs[k].start < to; k++) out.push(k);
    return out;
  }

  /** Marks every expression starting in [from, to). */
  private markRange(from: number, to: number, context: ShellContext, construct: string): void {
    for (const k of this.within(from, to)) this.mark(k, context, construct);
  }

  /** Commands from `i` until `close` (`)` of `$(`, a backquote) or the end; returns the index after it. */
  commands(i: number, close: ')' | '`' | undefined): number {
    const s = this.s;
    let cmdStart = true;
    let mode = 'normal' as 'normal' | 'let' | 'test';
    let command: string | undefined;
    let prevWord: string | undefined;
    let testWords: Word[] = [];
    let wordStart = -1;
    let depth = 0;

    const endCommand = (): void => {
      cmdStart = true;
      mode = 'normal';
      command = undefined;
    };
    const endWord = (end: number): void => {
      if (wordStart < 0) return;
      const raw = s.slice(wordStart, end);
      const start = wordStart;
      // Every expression in the word, quoted or not, and in its $( ) too.
      const exprs = this.within(start, end);
      wordStart = -1;
      if (mode === 'test') {
        if (raw === ']]') {
          testWords.forEach((w, n) => {
            if (w.exprs.length && (ARITH_TEST_OPS.has(testWords[n - 1]?.raw ?? '') || ARITH_TEST_OPS.has(testWords[n + 1]?.raw ?? ''))) {
              const op = ARITH_TEST_OPS.has(testWords[n - 1]?.raw ?? '') ? testWords[n - 1].raw : testWords[n + 1].raw;
              for (const k of w.exprs) this.mark(k, 'arithmetic', `[[ … ${op} … ]]`);
            }
          });
          mode = 'normal';
          testWords = [];
        } else testWords.push({ raw, exprs });
        prevWord = raw;
        return;
      }
      if ((cmdStart || (command !== undefined && DECLARE.has(command))) && SUBSCRIPT_ASSIGNMENT.test(raw)) {
        const close = raw.search(/\]\+?=/);
        if (close > 0) {
          for (const k of exprs) if (this.exprs[k].start < start + close) this.mark(k, 'arithmetic', 'an array subscript');
          prevWord = raw;
          return; // an assignment: the command has not started yet
        }
      }
      if (cmdStart) {
        if (raw === 'let') {
          mode = 'let';
          cmdStart = false;
        } else if (raw === '[[') {
          mode = 'test';
          testWords = [];
          cmdStart = false;
        } else if (!KEYWORDS.has(raw) && !/^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(raw)) {
          cmdStart = false;
          command = raw;
        }
      }
      prevWord = raw;
    };
    const inWord = (at: number): void => {
      if (wordStart < 0) wordStart = at;
    };

    while (i < s.length) {
      const k = this.byStart.get(i);
      if (k !== undefined) {
        inWord(i);
        if (mode === 'let') this.mark(k, 'arithmetic', 'let');
        i = this.exprs[k].end;
        continue;
      }
      const c = s[i];
      if (c === '\\') {
        inWord(i);
        i += 2;
        continue;
      }
      if (c === "'") {
        inWord(i);
        const end = s.indexOf("'", i + 1);
        const stop = end < 0 ? s.length : end;
        this.markRange(i + 1, stop, 'single-quoted', "'…'");
        i = stop + 1;
        continue;
      }
      if (c === '$' && s[i + 1] === "'") {
        inWord(i);
        let j = i + 2;
        while (j < s.length && s[j] !== "'") j += s[j] === '\\' ? 2 : 1;
        this.markRange(i + 2, j, 'single-quoted', "$'…'");
        i = j + 1;
        continue;
      }
      if (c === '"') {
        inWord(i);
        i = this.double(i + 1, undefined, mode === 'let' ? 'let' : undefined);
        continue;
      }
      if (c === '`' && close === '`') {
        endWord(i);
        return i + 1;
      }
      if (c === '$' || c === '`') {
        inWord(i);
        i = this.expansion(i, false);
        continue;
      }
      if (c === '#' && wordStart < 0) {
        const nl = s.indexOf('\n', i);
        i = nl < 0 ? s.length : nl;
        continue;
      }
      if (c === ' ' || c === '\t') {
        endWord(i);
        i++;
        continue;
      }
      if (c === '\n') {
        endWord(i);
        if (mode !== 'test') endCommand();
        i = this.heredocBodies(i + 1);
        continue;
      }
      if (mode === 'test' && c !== ']') {
        // Inside [[ ]], operators (&&, ||, <, >, parentheses) are words of the test, not command ends.
        if ('&|<>()'.includes(c)) {
          endWord(i);
          let j = i + 1;
          while (j < s.length && s[j] === c) j++;
          wordStart = i;
          endWord(j);
          i = j;
          continue;
        }
      }
      if (c === ';' || c === '&' || c === '|') {
        endWord(i);
        endCommand();
        i++;
        continue;
      }
      if (c === '(') {
        endWord(i);
        if (s[i + 1] === '(' && (cmdStart || prevWord === 'for')) {
          i = this.arithmetic(i + 2, '))', prevWord === 'for' ? 'for (( ))' : '(( ))');
          cmdStart = false;
          continue;
        }
        depth++;
        endCommand();
        i++;
        continue;
      }
      if (c === ')') {
        endWord(i);
        if (close === ')' && depth === 0) return i + 1;
        depth = Math.max(0, depth - 1);
        cmdStart = false;
        i++;
        continue;
      }
      if (c === '<' && s[i + 1] === '<' && s[i + 2] !== '<') {
        endWord(i);
        i = this.heredocStart(i + 2);
        continue;
      }
      if (c === '<' || c === '>') {
        endWord(i);
        i++;
        continue;
      }
      inWord(i);
      i++;
    }
    endWord(i);
    return i;
  }

  /** `$…` or a backquote at `i` (not an expression): returns the index after it. */
  private expansion(i: number, quoted: boolean): number {
    const s = this.s;
    if (s[i] === '`') return this.commands(i + 1, '`');
    if (s.startsWith('$((', i)) return this.arithmetic(i + 3, '))', '$(( ))');
    if (s.startsWith('$[', i)) return this.arithmetic(i + 2, ']', '$[ ]');
    if (s.startsWith('$(', i)) return this.commands(i + 2, ')');
    if (s.startsWith('${', i)) return this.parameter(i + 2, quoted);
    return i + 1;
  }

  /** Arithmetic from `i` to its `close` (parentheses or brackets nested): every expression inside is arithmetic. */
  private arithmetic(i: number, close: '))' | ']', construct: string): number {
    const s = this.s;
    const open = close === ']' ? '[' : '(';
    const shut = close === ']' ? ']' : ')';
    let depth = 0;
    const from = i;
    while (i < s.length) {
      const k = this.byStart.get(i);
      if (k !== undefined) {
        i = this.exprs[k].end;
        continue;
      }
      if (depth === 0 && s.startsWith(close, i)) break;
      if (s[i] === open) depth++;
      else if (s[i] === shut) depth = Math.max(0, depth - 1);
      i++;
    }
    this.markRange(from, i, 'arithmetic', construct);
    return Math.min(s.length, i + close.length);
  }

  /** `${…}` from after `${`: a subscript `${name[…]}` is arithmetic. Returns the index after `}`. */
  private parameter(i: number, quoted: boolean): number {
    const s = this.s;
    const sub = /^[#!]?[A-Za-z_][A-Za-z0-9_]*\[/.exec(s.slice(i, i + 200));
    if (sub) i = this.arithmetic(i + sub[0].length, ']', 'an array subscript');
    while (i < s.length) {
      const k = this.byStart.get(i);
      if (k !== undefined) {
        i = this.exprs[k].end;
        continue;
      }
      const c = s[i];
      if (c === '}') return i + 1;
      if (c === '\\') i += 2;
      else if (c === '"') i = this.double(i + 1, undefined, undefined);
      else if (c === "'" && !quoted) {
        const end = s.indexOf("'", i + 1);
        const stop = end < 0 ? s.length : end;
        this.markRange(i + 1, stop, 'single-quoted', "'…'");
        i = stop + 1;
      } else if (c === '$' || c === '`') i = this.expansion(i, quoted);
      else i++;
    }
    return i;
  }

  /**
   * Double-quoted text from `i` to the closing `"` (or, for an unquoted here-document body, to
   * `end`): expansions happen, quotes do not nest. Returns the index after it.
   */
  private double(i: number, end: number | undefined, arith: string | undefined): number {
    const s = this.s;
    const stop = end ?? s.length;
    while (i < stop) {
      const k = this.byStart.get(i);
      if (k !== undefined) {
        if (arith) this.mark(k, 'arithmetic', arith);
        i = this.exprs[k].end;
        continue;
      }
      const c = s[i];
      if (c === '"' && end === undefined) return i + 1;
      if (c === '\\') i += 2;
      else if (c === '$' || c === '`') i = this.expansion(i, true);
      else i++;
    }
    return Math.min(i, s.length);
  }

  /** After `<<`: the delimiter word; the body follows the end of the line. Returns the index after the word. */
  private heredocStart(i: number): number {
    const s = this.s;
    let stripTabs = false;
    if (s[i] === '-') {
      stripTabs = true;
      i++;
    }
    while (s[i] === ' ' || s[i] === '\t') i++;
    const m = /^[^\s;&|<>()]+/.exec(s.slice(i));
    if (!m) return i;
    const word = m[0];
    const quoted = /['"\\]/.test(word);
    const delim = word.replace(/['"\\]/g, '');
    this.pendingHeredocs.push({ delim, quoted, stripTabs, construct: `<<${stripTabs ? '-' : ''}${word}` });
    return i + word.length;
  }

  /** At the start of a line: the bodies of the here-documents its previous line opened. Returns where commands resume. */
  private heredocBodies(i: number): number {
    const s = this.s;
    for (const h of this.pendingHeredocs.splice(0)) {
      const bodyStart = i;
      let bodyEnd = s.length;
      let next = s.length;
      for (let line = i; line < s.length; ) {
        const nl = s.indexOf('\n', line);
        const lineEnd = nl < 0 ? s.length : nl;
        const text = s.slice(line, lineEnd);
        if ((h.stripTabs ? text.replace(/^\t+/, '') : text) === h.delim) {
          bodyEnd = line;
          next = Math.min(s.length, lineEnd + 1);
          break;
        }
        line = lineEnd + 1;
      }
      if (h.quoted) this.markRange(bodyStart, bodyEnd, 'quoted-heredoc', h.construct);
      else this.double(bodyStart, bodyEnd, undefined);
      i = next;
    }
    return i;
  }
}
