/**
 * Secrets (workflow-format.md `secrets.X`; sessions.md: secrets never reach the disk).
 *
 * resolveSecrets: from `ORCHESTRATOR_SECRET_<NAME>` environment variables, then files
 * `<repoRoot>/.orchestrator/secrets/<NAME>`, then `<homeDir>/.orchestrator/secrets/<NAME>`; the
 * first source that has a name wins (env > repo > home). Names are case-sensitive, as written.
 * A file's value is its content minus one trailing newline (`\n` or `\r\n`); env values are verbatim.
 * Only names matching `[A-Za-z_][A-Za-z0-9_-]*` are secrets (what `secrets.X` can name), so
 * `.gitignore`, `README.md` or editor backups (`KEY~`) in a secrets folder are not read. A missing
 * folder is no secret; any other read error (e.g. permissions) throws, naming the file. A file
 * other users can read is read, with a one-line warning on stderr (secretModes.ts).
 *
 * Masker: replaces every occurrence of each secret value with `***`, and of the forms a value
 * commonly takes in logs:
 * - base64, standard and URL-safe, padded and not, of the value and of the value plus "\n"
 *   (`echo $SECRET | base64`);
 * - the value inside a longer base64 text (e.g. `echo -n "user:$TOKEN" | base64` for basic auth):
 *   the part of its base64 that does not depend on its neighbours, for each of the 3 alignments
 *   (as the Azure Pipelines agent does). Only such fragments of 8+ characters are used: a shorter
 *   one would hit unrelated text too often;
 * - the value as escaped in a JSON string and percent-encoded (when those differ);
 * - each line (3+ characters, trimmed) of a multi-line value, since callers mask line by line.
 * Overlapping matches (one secret inside another, or two that overlap) are masked as one span
 * covering both, so no piece of either leaks; the result is the same whatever the order of the
 * values (longest forms are tried first). Plain string search: no regex, so any character is safe.
 *
 * - its hex forms (`xxd -p`, `od -An -tx1`, `hexdump -C`): lower and upper case, contiguous or
 *   with a space between bytes.
 *
 * Pieces of a value (mask(), for text: log lines, reasons, error messages, findings): an error
 * message may quote part of a value (JSON.parse quotes its first 10 characters), a line may hold
 * only part of it (a value split between stdout and stderr, or cut by `head -c`). So mask() also
 * masks every run of 6+ consecutive characters of a value (12+ of its contiguous hex form, 6+ bytes
 * of its spaced hex form) anywhere, and 3+ characters of it where a line ends with the start of a
 * value or starts with the end of one. maskValue() masks only the whole forms above: for data
 * that must keep working (identifiers, statuses, the compiled workflow, inputs); maskDeep uses it
 * for the keys that hold such data (see DATA_KEYS) and mask() for every other string.
 *
 * Values shorter than 3 characters are not searched inside text: masking `a` or `1` would turn
 * every log into asterisks and, worse, point at the secret's value by where the asterisks fall.
 * They (and their base64 forms) are still masked when they are a whole string on their own: a
 * complete line or a string value in maskDeep whose trimmed content equals one is `***`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureGitignore } from '../store/gitignore';
import { looseMode, warnLooseSecrets } from './secretModes';
import { PieceFinder } from './substrings';

export const SECRET_ENV_PREFIX = 'ORCHESTRATOR_SECRET_';
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Shorter values are masked only as whole strings (see above). */
export const MIN_SECRET_LENGTH = 3;
const MIN_FRAGMENT_LENGTH = 8;
/** Pieces of a value this long are masked anywhere in text (mask()); shorter ones only at a line's edge. */
export const MIN_PIECE_LENGTH = 6;
/**
 * Keys whose strings are data that must keep working, not text: identifiers, statuses, the
 * compiled workflow, inputs, outputs passed to later steps. maskDeep masks them with maskValue().
 */
export const DATA_KEYS: ReadonlySet<string> = new Set(['status', 'answer', 'instances', 'reset', 'from', 'workflow', 'inputs', 'id', 'stepId', 'step', 'severity', 'lastHeardAt', 'by']);
export const MASK = '***';

export interface SecretSources {
  env: Record<string, string | undefined>;
  repoRoot?: string;
  homeDir?: string;
}

function readSecretDir(dir: string, into: Map<string, string>, loose: { file: string; mode: number }[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw e;
  }
  for (const name of names.sort()) {
    if (!SECRET_NAME_PATTERN.test(name) || into.has(name)) continue;
    const file = path.join(dir, name);
    try {
      const st = statSync(file);
      if (!st.isFile()) continue;
      into.set(name, readFileSync(file, 'utf8').replace(/\r?\n$/, ''));
      if (looseMode(st.mode)) loose.push({ file, mode: st.mode });
    } catch (e) {
      throw new Error(`cannot read the secret ${name} from ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
}

export function resolveSecrets({ env, repoRoot, homeDir }: SecretSources): Map<string, string> {
  const secrets = new Map<string, string>();
  const loose: { file: string; mode: number }[] = [];
  for (const key of Object.keys(env).sort()) {
    const value = env[key];
    if (!key.startsWith(SECRET_ENV_PREFIX) || value === undefined) continue;
    const name = key.slice(SECRET_ENV_PREFIX.length);
    if (SECRET_NAME_PATTERN.test(name)) secrets.set(name, value);
  }
  if (repoRoot) {
    const dir = path.join(repoRoot, '.orchestrator', 'secrets');
    if (existsSync(dir)) ensureGitignore(repoRoot); // secret files must not be committed by accident
    readSecretDir(dir, secrets, loose);
  }
  if (homeDir) readSecretDir(path.join(homeDir, '.orchestrator', 'secrets'), secrets, loose);
  warnLooseSecrets(loose); // one line on stderr (secretModes.ts)
  return secrets;
}

const toUrlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');
const unpad = (b64: string): string => b64.replace(/=+$/, '');

/** The base64 forms of a value (see the module comment). Fragments are the unaligned parts. */
export function base64Forms(value: string): { whole: string[]; fragments: string[] } {
  const whole = new Set<string>();
  for (const v of [value, `${value}\n`]) {
    const b64 = Buffer.from(v, 'utf8').toString('base64');
    for (const f of [b64, unpad(b64)]) {
      whole.add(f);
      whole.add(toUrlSafe(f));
    }
  }
  const fragments = new Set<string>();
  const bytes = Buffer.from(value, 'utf8');
  for (const shift of [0, 1, 2]) {
    const enc = unpad(Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64'));
    // Leading chars mixing filler bits: 0, 2 or 3. The last char mixes in the next byte unless aligned.
    const start = [0, 2, 3][shift];
    const end = (shift + bytes.length) % 3 === 0 ? enc.length : enc.length - 1;
    const frag = enc.slice(start, end);
    if (frag.length >= MIN_FRAGMENT_LENGTH) {
      fragments.add(frag);
      fragments.add(toUrlSafe(frag));
    }
  }
  return { whole: [...whole], fragments: [...fragments] };
}

/** The hex forms of a value: contiguous and with a space between bytes, lower and upper case. */
export function hexForms(value: string): { contiguous: string[]; spaced: string[] } {
  const hex = Buffer.from(value, 'utf8').toString('hex');
  const spaced = hex.replace(/(..)(?!$)/g, '$1 ');
  return { contiguous: [hex, hex.toUpperCase()], spaced: [spaced, spaced.toUpperCase()] };
}

export class Masker {
  /** Searched anywhere in text, longest first. */
  private readonly needles: string[];
  /** Masked only when a whole (trimmed) string equals one. */
  private readonly wholeOnly: Set<string>;
  /** Pieces of values and of their hex forms (mask() only). */
  private readonly pieces = new PieceFinder(MIN_PIECE_LENGTH);
  /** Values long enough for pieces: their starts and ends are masked at a line's edges. */
  private readonly edges: { starts: string[]; ends: string[] }[] = [];
  /** The longest text a match (needle or piece) can cover. */
  private readonly longest: number;

  constructor(values: Iterable<string>) {
    const needles = new Set<string>();
    const wholeOnly = new Set<string>();
    for (const value of new Set(values)) {
      if (value.trim() === '') continue;
      const b64 = base64Forms(value);
      if (value.length < MIN_SECRET_LENGTH) {
        for (const f of [value, ...b64.whole]) wholeOnly.add(f);
        continue;
      }
      const hex = hexForms(value);
      for (const f of [value, ...b64.whole, ...b64.fragments, ...hex.contiguous, ...hex.spaced, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) needles.add(f);
      if (/[\r\n]/.test(value)) {
        for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_SECRET_LENGTH) needles.add(line.trim());
      }
      if (value.length > MIN_PIECE_LENGTH) {
        this.pieces.add(value, MIN_PIECE_LENGTH);
        for (const h of hex.contiguous) this.pieces.add(h, 2 * MIN_PIECE_LENGTH);
        for (const h of hex.spaced) this.pieces.add(h, 3 * MIN_PIECE_LENGTH - 1);
        const lengths = Array.from({ length: MIN_PIECE_LENGTH - MIN_SECRET_LENGTH }, (_, i) => MIN_PIECE_LENGTH - 1 - i); // 5, 4, 3
        this.edges.push({ starts: lengths.map((k) => value.slice(0, k)), ends: lengths.map((k) => value.slice(value.length - k)) });
      }
    }
    this.needles = [...needles].filter((n) => n.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    this.wholeOnly = wholeOnly;
    this.longest = Math.max(this.needles[0]?.length ?? 0, this.pieces.longest);
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.needles.length === 0 && this.wholeOnly.size === 0;
  }

  /** Text (a log line, a reason, an error message): whole values, their forms, and pieces of them. */
  mask(text: string): string {
    return this.apply(text, true, true);
  }

  /** Data (an id, a status, an input): only whole values and their forms. */
  maskValue(text: string): string {
    return this.apply(text, false, false);
  }

  private apply(text: string, pieces: boolean, edges: boolean): string {
    if (text === '' || this.empty) return text;
    const core = text.trim();
    if (this.wholeOnly.has(core)) return text.replace(core, MASK);
    return replaceSpans(text, this.spans(text, pieces, edges));
  }

  /** Every match as [start, end) spans (overlapping, unsorted). */
  private spans(text: string, pieces: boolean, edges: boolean): [number, number][] {
    const spans: [number, number][] = [];
    for (const n of this.needles) {
      for (let at = text.indexOf(n); at >= 0; at = text.indexOf(n, at + 1)) spans.push([at, at + n.length]);
    }
    if (pieces) this.pieces.spans(text, spans);
    if (edges) {
      // A line that ends with the start of a value, or starts with its end (the rest went elsewhere).
      const start = text.length - text.trimStart().length;
      const end = text.trimEnd().length;
      for (const { starts, ends } of this.edges) {
        // Longest first: 5, 4, then 3 characters.
        const lineStart = ends.find((e) => e.length <= end - start && text.startsWith(e, start));
        if (lineStart) spans.push([start, start + lineStart.length]);
        const lineEnd = starts.find((b) => b.length <= end - start && text.endsWith(b, end));
        if (lineEnd) spans.push([end - lineEnd.length, end]);
      }
    }
    return spans;
  }

  /**
   * For text that continues (a long line cut into pieces): masks the longest prefix that no match
   * can straddle and returns the rest, to be put in front of the next piece. The rest is at most
   * the longest pattern's length (or a whole match that reaches into that tail). A match that
   * straddles the cut and reaches the end of the text is longer than any piece of a value, so it
   * is a whole value: the next piece cannot extend it.
   */
  maskPrefix(text: string): { masked: string; rest: string } {
    if (this.longest === 0) return { masked: text, rest: '' };
    let cut = text.length - (this.longest - 1);
    if (cut <= 0) return { masked: '', rest: text };
    const spans = this.spans(text, true, false).sort((a, b) => a[0] - b[0]);
    // A complete match across the cut moves the cut past it (it is masked with the prefix).
    for (const [s, e] of spans) if (s < cut && e > cut) cut = e;
    const head = text.slice(0, cut);
    return { masked: replaceSpans(head, spans.filter(([, e]) => e <= cut)), rest: text.slice(cut) };
  }

  /**
   * A copy of a JSON-like value with every string inside masked; keys are left as they are.
   * Strings under a key of DATA_KEYS (at any depth) are data: maskValue(); the others are text: mask().
   */
  maskDeep<T>(value: T): T {
    return this.deep(value, new WeakMap(), false) as T;
  }

  private deep(value: unknown, seen: WeakMap<object, unknown>, data: boolean): unknown {
    if (typeof value === 'string') return data ? this.maskValue(value) : this.mask(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return seen.get(value);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const v of value) out.push(this.deep(v, seen, data));
      return out;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value; // Dates, Buffers, class instances: as they are.
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    // defineProperty, not assignment: a key such as `__proto__` stays an ordinary key.
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: this.deep(v, seen, data || DATA_KEYS.has(k)), enumerable: true, writable: true, configurable: true });
    return out;
  }
}

/** Replaces each span (merged where they overlap or touch) with the mask. */
function replaceSpans(text: string, spans: [number, number][]): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let pos = 0;
  let [start, end] = spans[0];
  for (const [s, e] of spans.slice(1)) {
    if (s <= end) end = Math.max(end, e);
    else {
      out += text.slice(pos, start) + MASK;
      pos = end;
      [start, end] = [s, e];
    }
  }
  return out + text.slice(pos, start) + MASK + text.slice(end);
}
