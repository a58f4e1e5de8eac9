/** Hand-written lexer for the expression language. Never throws. */
import type { ExprError } from './ast';
import { parseNumberText } from './coerce';

export type TokenKind =
  | 'number'
  | 'string'
  | 'ident'
  | 'true'
  | 'false'
  | 'null'
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | '.'
  | '!'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Absolute offsets (the lexer adds `base`). */
  start: number;
  end: number;
  /** Source text of the token. */
  text: string;
  /** Decoded value of a string or number literal. */
  value?: string | number;
}

export interface LexResult {
  tokens: Token[];
  errors: ExprError[];
}

/** Ends a number literal, as in GitHub: `.` does not (so `1.2.3` is one bad literal). */
const NUMBER_END = /[()[\],!<>=&|\s]/;
/** Words that are number literals unless they follow `.` (then they are property names). */
const NUMBER_WORDS: Record<string, number> = { NaN: NaN, Infinity: Infinity };
/** Words that are literals unless they follow `.`. */
const LITERAL_WORDS = new Set(['true', 'false', 'null']);
const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const PUNCT = new Set(['(', ')', '[', ']', ',', '.']);
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0',
  '\\': '\\', '"': '"', "'": "'", '/': '/',
};

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : undefined;
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** Splits `text` into tokens; offsets are `base` + index into `text`. */
export function lex(text: string, base = 0): LexResult {
  const tokens: Token[] = [];
  const errors: ExprError[] = [];
  const push = (kind: TokenKind, start: number, end: number, value?: string | number): void => {
    tokens.push({ kind, start: base + start, end: base + end, text: text.slice(start, end), value });
  };
  const fail = (message: string, start: number, end: number): void => {
    errors.push({ message, start: base + start, end: base + end });
  };

  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = matchAt(IDENT, text, i) ?? ch;
      const afterDot = tokens.at(-1)?.kind === '.';
      if (!afterDot && Object.hasOwn(NUMBER_WORDS, word)) push('number', i, i + word.length, NUMBER_WORDS[word]);
      else push(!afterDot && LITERAL_WORDS.has(word) ? (word as TokenKind) : 'ident', i, i + word.length);
      i += word.length;
    } else if (startsNumber(text, i, tokens.at(-1)?.kind)) {
      let end = i + 1;
      while (end < text.length && !NUMBER_END.test(text[end])) end++;
      const lexeme = text.slice(i, end);
      const value = parseNumberText(lexeme);
      if (Number.isNaN(value)) fail(invalidNumber(lexeme), i, end);
      else push('number', i, end, value);
      i = end;
    } else if (ch === "'" || ch === '"') {
      i = lexString(text, i, push, fail);
    } else if (PUNCT.has(ch)) {
      push(ch as TokenKind, i, i + 1);
      i++;
    } else if (ch === '=' || ch === '!') {
      const op = ch === '=' ? '==' : '!=';
      if (next === '=' && text[i + 2] === '=') {
        fail(`'${ch}==' is not an operator: use '${op}' (comparisons are always loose)`, i, i + 3);
        i += 3;
      } else if (next === '=') {
        push(op, i, i + 2);
        i += 2;
      } else if (ch === '!') {
        push('!', i, i + 1);
        i++;
      } else {
        fail("unexpected token '='. Did you mean '=='?", i, i + 1);
        i++;
      }
    } else if (ch === '<' || ch === '>') {
      const len = next === '=' ? 2 : 1;
      push(text.slice(i, i + len) as TokenKind, i, i + len);
      i += len;
    } else if (ch === '&' || ch === '|') {
      if (next === ch) {
        push(ch === '&' ? '&&' : '||', i, i + 2);
        i += 2;
      } else {
        fail(`unexpected token '${ch}'. Did you mean '${ch}${ch}'?`, i, i + 1);
        i++;
      }
    } else if (ch === '$' && text.startsWith('{{', i + 1)) {
      fail("nested '${{': an expression cannot contain another '${{'; write the inner expression directly", i, i + 3);
      i += 3;
    } else if (ch === '*' && (tokens.at(-1)?.kind === '.' || tokens.at(-1)?.kind === '[')) {
      fail("the '.*' and '[*]' filters of GitHub Actions are not supported: index the value by name or number", i, i + 1);
      i++;
    } else if (ch === '-' || ch === '+' || ch === '*' || ch === '/' || ch === '%') {
      const hint = ch === '-' ? " ('-' may only start a number literal such as -1)" : '';
      fail(`unexpected character '${ch}': arithmetic is not supported${hint}`, i, i + 1);
      i++;
    } else {
      const cp = String.fromCodePoint(text.codePointAt(i) ?? 0);
      fail(`unexpected character '${cp}'`, i, i + cp.length);
      i += cp.length;
    }
  }
  push('eof', text.length, text.length);
  return { tokens, errors };
}

/**
 * Whether a number literal starts at `i`: a digit; a sign before a digit, `.` or `Infinity`
 * (`-1`, `+1`, `-.5`, `-Infinity`); or `.` before a digit where it cannot be a property
 * access (`.5`, `(.5)`, `== .5`), as in GitHub.
 */
function startsNumber(text: string, i: number, prev: TokenKind | undefined): boolean {
  const ch = text[i];
  const next = text[i + 1];
  if (isDigit(ch)) return true;
  if (ch === '-' || ch === '+') return isDigit(next) || next === '.' || text.startsWith('Infinity', i + 1);
  return ch === '.' && isDigit(next) && prev !== 'ident' && prev !== ')' && prev !== ']';
}

function invalidNumber(lexeme: string): string {
  let hint = 'write a number such as 42, -1, .5, 1.5e3, 0x1F, 0o17 or Infinity';
  if (/^[+-]0[xXoObB]/.test(lexeme)) hint = 'hexadecimal and octal literals take no sign; write the negative number in decimal';
  else if (/^[+-]?0[XOB]|^[+-]?0b/.test(lexeme)) hint = "only '0x' (hexadecimal) and '0o' (octal) prefixes exist, in lowercase";
  return `invalid number '${lexeme}': ${hint}`;
}

type Push = (kind: TokenKind, start: number, end: number, value?: string | number) => void;
type Fail = (message: string, start: number, end: number) => void;

/** Lexes a string literal starting at `start`; returns the index after it. */
function lexString(text: string, start: number, push: Push, fail: Fail): number {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === quote) {
      if (quote === "'" && text[i + 1] === "'") {
        value += "'";
        i += 2;
        continue;
      }
      push('string', start, i + 1, value);
      return i + 1;
    }
    if (ch === '\\' && quote === '"') {
      const esc = text[i + 1];
      const hex = esc === 'u' ? /^[0-9a-fA-F]{4}$/.exec(text.slice(i + 2, i + 6)) : null;
      if (esc !== undefined && Object.hasOwn(SIMPLE_ESCAPES, esc)) {
        value += SIMPLE_ESCAPES[esc];
        i += 2;
      } else if (hex) {
        value += String.fromCharCode(parseInt(hex[0], 16));
        i += 6;
      } else if (esc === undefined) {
        i++;
      } else {
        fail(`invalid escape '\\${esc}' in string: use '\\\\' for a backslash, or a single-quoted string`, i, i + 2);
        i += 2;
      }
      continue;
    }
    value += ch;
    i++;
  }
  fail(`unterminated string: add a closing ${quote}`, start, text.length);
  return text.length;
}
