/**
 * Failure reasons from the output of agent CLIs: one clean line out of a noisy stderr/stdout tail,
 * and whether the failure it states is worth retrying.
 *
 * The tools' tails are noisy in known ways: ANSI colours and OSC titles (gemini, opencode), `\r`
 * progress lines, codex's echo of the whole prompt on stderr, banners (`OpenAI Codex v…`,
 * `--------`, `workdir: …`), Node stack frames (`    at …`). The line that states the error
 * (`Error:`, `API Error: 429 …`, `ERROR …`, an HTTP status, `… failed`) is preferred; otherwise the
 * last meaningful line.
 */

/** Longest reason returned by {@link cleanReason}; longer ones end in `…`. */
export const REASON_MAX_CHARS = 300;

// CSI (ESC [ … final byte, or the one-byte C1 form), OSC (ESC ] … BEL or ESC \), other two-byte
// escapes (ESC followed by one character: charset selection, keypad modes, ...).
// eslint-disable-next-line no-control-regex
const ANSI = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]/g;
// eslint-disable-next-line no-control-regex
const OTHER_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Removes ANSI/OSC escape sequences and other control characters (keeps `\n`, `\r`, `\t`). */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '').replace(OTHER_CONTROLS, '');
}

/** Banners, progress and framing that never state a cause. */
const NOISE: RegExp[] = [
  /^\s+at\s/, // stack frame (checked before trimming)
  /^\s{2,}[\w$]+: /, // a property of an error object Node printed (`  status: 429,`, `  code: 'UND_ERR_SOCKET',`)
  /[{[]$/, // the opening of an object or array Node printed
];
const NOISE_TRIMMED: RegExp[] = [
  /^[-=_*#~.·•─━═\s]+$/, // rules and separators
  /^[\u2800-\u28ff]\s/, // braille spinner glyph + text
  /^OpenAI Codex v/i,
  /^(workdir|model|provider|approval|sandbox|reasoning effort|reasoning summaries|session id):/i,
  /^(user|codex|thinking|exec)$/i, // codex human-mode section headers
  /^tokens used\b/i,
  /^Reading (prompt|additional input) from stdin/i,
  /^Loaded cached credentials/i,
  /^\^+$/, // the caret under a source line in a Node crash
  /^(throw|reject)\b.*;$/, // the source line of a Node crash (`throw err;`)
  /^(file|node):[^\s]*:\d+$/, // `file:///…/cli.js:123` above a Node crash
  /^Node\.js v\d/,
  /^\[STARTUP\]/, // gemini's start-up timing
  /^Warning: 256-color support not detected/,
  /^Ripgrep is not available/,
  /^[\]}),;\s]+$/, // closing brackets
  /^\{?\s*\}?$/, // lone braces
];

/** Lines that state an error, strongest first. */
const ERROR_LINE: RegExp[] = [
  /\bAPI Error\b|\w*Error:|\berror:|\bERROR\b|\bFATAL\b|\bfatal:/,
  /\berror\b/i,
  /\b(?:HTTP|status(?: code)?)[\s:=]*[1-5]\d\d\b|\b[45]\d\d (?:[A-Z][a-z]+)/,
  /\b(?:failed|failure|exception|refused|denied|invalid|unauthori[sz]ed|forbidden|not logged in|timed? ?out|terminated)\b/i,
];

/** One clean line from a tool's stderr/stdout tail; '' if it holds nothing meaningful. */
export function cleanReason(text: string, opts: { prompt?: string } = {}): string {
  const promptLines = new Set<string>();
  const prompt = opts.prompt ? stripAnsi(opts.prompt) : '';
  for (const l of prompt.split(/\r?\n/)) {
    const t = l.trim();
    if (t) promptLines.add(t);
  }

  const lines: string[] = [];
  for (const raw of stripAnsi(text).split('\n')) {
    // `\r` progress: what stays on the screen is what was written after the last `\r`.
    const segments = raw.split('\r').filter((s) => s.trim() !== '');
    const line = segments.length > 0 ? segments[segments.length - 1] : '';
    if (!line.trim() || NOISE.some((re) => re.test(line))) continue;
    // gemini's pointer to its own error dump says nothing about the cause.
    const t = line.trim().replace(/\s*Full report available at: \S+/, '').replace(/\s+/g, ' ').trim();
    if (!t) continue;
    if (NOISE_TRIMMED.some((re) => re.test(t))) continue;
    if (promptLines.has(line.trim()) || (t.length >= 12 && prompt.includes(t))) continue;
    lines.push(t);
  }
  if (lines.length === 0) return '';

  let best: string | undefined;
  for (const re of ERROR_LINE) {
    for (let i = lines.length - 1; i >= 0 && best === undefined; i--) {
      // A bare lead-in ("An unexpected critical error occurred:") says less than what follows it.
      if (re.test(lines[i]) && !(/:$/.test(lines[i]) && i < lines.length - 1)) best = lines[i];
    }
    if (best !== undefined) break;
  }
  return cap(best ?? lines[lines.length - 1]);
}

function cap(s: string): string {
  return s.length <= REASON_MAX_CHARS ? s : `${s.slice(0, REASON_MAX_CHARS - 1).trimEnd()}…`;
}

const AUTH_STATUS = new Set([401, 403]);
const STATUS_PATTERNS: RegExp[] = [
  /\bAPI Error:?\s*\(?(\d{3})\b/i,
  /\b(?:HTTP(?:\/\d(?:\.\d)?)?|status(?:[ _]?code)?|statusCode|code)["']?\s*[:=]?\s*\(?(\d{3})\b/i,
  /\bunexpected status (\d{3})\b/i,
  /\b(\d{3}) (?:Too Many Requests|Unauthorized|Forbidden|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Overloaded|Request Timeout)\b/i,
  // Bare numbers only for statuses that rarely appear by chance (a bare 500 may be a token count).
  /\b(401|403|429|529)\b/,
];

/** The HTTP status a tool's message names, if any (`API Error: 429 …`, `status 503`, `"code":401`). */
export function statusFromText(text: string): number | undefined {
  for (const re of STATUS_PATTERNS) {
    const m = re.exec(text);
    if (m) {
      const n = Number(m[1]);
      if (n >= 400 && n <= 599) return n;
    }
  }
  return undefined;
}

const NOT_RETRYABLE_TEXT =
  /\b(?:authenticat\w*|unauthori[sz]ed|forbidden|permission[_ ]denied|invalid[_ ](?:x-)?api[_ -]?key|api key not valid|incorrect api key|no api key|missing api key|not logged in|please run \/login|login required|credit balance|billing|insufficient[_ ]quota|usage limit)\b|\binvalid auth\w*/i;
const RETRYABLE_TEXT =
  /rate[\s_-]?limit|too many requests|overloaded|resource[\s_-]?exhausted|has been exhausted|\bunavailable\b|internal server error|bad gateway|gateway timeout|\bECONNRESET\b|\bECONNREFUSED\b|\bETIMEDOUT\b|\bEPIPE\b|\bENOTFOUND\b|\bEAI_AGAIN\b|socket hang up|\bterminated\b|fetch failed|network error|connection (?:reset|refused|closed|error|lost)|stream (?:closed|ended|disconnected|error)|premature close|timed? ?out|try again|high demand|temporar(?:y|ily)\b/i;

/**
 * Whether the failure a tool's message states is worth retrying: 429, 529, 5xx, 408, rate limits,
 * overload, exhausted resources and network failures are; 401/403, bad or missing keys and login
 * problems are not; anything unrecognised is not.
 */
export function retryableFromText(text: string): { retryable: boolean; status?: number } {
  const plain = stripAnsi(text);
  const status = statusFromText(plain);
  const withStatus = (retryable: boolean): { retryable: boolean; status?: number } =>
    status === undefined ? { retryable } : { retryable, status };
  if (status !== undefined && AUTH_STATUS.has(status)) return withStatus(false);
  if (status !== undefined && (status === 408 || status === 429 || status >= 500)) return withStatus(true);
  if (NOT_RETRYABLE_TEXT.test(plain)) return withStatus(false);
  return withStatus(RETRYABLE_TEXT.test(plain));
}
