/**
 * Values of the expression language and how they convert, following GitHub Actions
 * (its runner and the `actions/languageservices` expressions package):
 * number parsing, number-to-text (15 significant digits), truthiness, loose equality
 * and ordering, and ordinal case-insensitive string comparison.
 */

export type Value = null | boolean | number | string | Value[] | { [k: string]: Value };
export type ValueObject = { [k: string]: Value };

export function isObject(v: Value): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Null, booleans, numbers and strings; arrays and objects are not primitive. */
export function isPrimitive(v: Value): v is null | boolean | number | string {
  return v === null || typeof v !== 'object';
}

/** false, 0, -0, NaN, '' and null are falsy; everything else (incl. [] and {}) is truthy. */
export function truthy(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return true;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const OCTAL = /^0o[0-7]+$/;

/**
 * The number a trimmed, non-empty text spells, or NaN. The forms GitHub accepts, in literals
 * and in strings compared with numbers: decimals with an optional sign, fraction and exponent
 * (`-1`, `+1`, `.5`, `5.`, `1.2e-2`); `0x` hexadecimal and `0o` octal (lowercase prefix, no
 * sign); `Infinity`, `+Infinity`, `-Infinity`. Everything else (`0b1`, `0X1F`, `-0x1`, `1_000`,
 * `inf`) is not a number.
 */
export function parseNumberText(s: string): number {
  if (DECIMAL.test(s) || HEX.test(s) || OCTAL.test(s)) return Number(s);
  if (s === 'Infinity' || s === '+Infinity') return Infinity;
  if (s === '-Infinity') return -Infinity;
  return NaN;
}

/** GitHub's number coercion: null → 0, booleans → 1/0, blank string → 0, numeric strings parsed, else NaN. */
export function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    return s === '' ? 0 : parseNumberText(s);
  }
  return NaN;
}

/** Significant digits GitHub keeps when a number becomes text (.NET's `G15` format). */
const DIGITS = 15;

/**
 * A number as text, like GitHub: at most 15 significant digits, trailing zeros dropped;
 * `0` for -0; `NaN`, `Infinity`, `-Infinity`; exponent form (`1E+15`, `1.5E-07`) when the
 * decimal exponent is 15 or more, or below -4.
 */
export function formatNumber(n: number): string {
  if (n === 0) return '0';
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const sign = n < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(n).toExponential(DIGITS - 1).split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '').replace(/0+$/, '');
  if (exp >= DIGITS || exp < -4) {
    const frac = digits.slice(1);
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${frac ? `.${frac}` : ''}E${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * A primitive as GitHub converts it to a string (format(), contains(), ...): null → '',
 * `true`/`false`, numbers by `formatNumber`; an array is `Array` and an object `Object`.
 */
export function toStringValue(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatNumber(v);
  return Array.isArray(v) ? 'Array' : 'Object';
}

/**
 * Text of a value pasted into a template (`x ${{ expr }}`): like `toStringValue`, except that
 * arrays and objects become compact JSON (GitHub would paste `Array` / `Object`).
 */
export function toText(v: Value): string {
  return isPrimitive(v) ? toStringValue(v) : JSON.stringify(v);
}

const DOTLESS_I = 'ı';

/**
 * Ordinal, culture-invariant case folding, as GitHub's OrdinalIgnoreCase: each character
 * becomes its simple uppercase form. A character whose uppercase form is longer (`ß` → `SS`)
 * stays as it is, and so does the dotless `ı` (it is not `I`); no Turkish or other locale rules.
 */
export function foldCase(s: string): string {
  if (!/[^\x20-\x7e]/.test(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) {
    if (ch === DOTLESS_I) {
      out += ch;
      continue;
    }
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: Value): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

/** `==`: same kind compares directly (strings ignoring case, objects by identity); else both become numbers. */
export function looseEquals(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === kb) {
    if (typeof a === 'string' && typeof b === 'string') return foldCase(a) === foldCase(b);
    return a === b;
  }
  if (ka === 'array' || ka === 'object' || kb === 'array' || kb === 'object') return false;
  return toNumber(a) === toNumber(b);
}

/** Ordering for `<` and `>`: negative, zero, positive, or undefined when not comparable. */
export function compareValues(a: Value, b: Value): number | undefined {
  if (!isPrimitive(a) || !isPrimitive(b)) return undefined;
  if (typeof a === 'string' && typeof b === 'string') {
    const fa = foldCase(a);
    const fb = foldCase(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  }
  const na = toNumber(a);
  const nb = toNumber(b);
  if (Number.isNaN(na) || Number.isNaN(nb)) return undefined;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
