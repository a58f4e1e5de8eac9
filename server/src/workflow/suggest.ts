/** "Did you mean" suggestions by edit distance (optimal string alignment). */

/** Rows of the distance table, reused by every call (grown when a word is longer). */
let rows = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * The distance, or any number above `max` once it is sure to exceed it (the smallest entry of a
 * row never decreases two rows later, so a row whose entries all exceed `max` ends the work).
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  if (rows[0].length <= n) rows = [new Int32Array(2 * n + 2), new Int32Array(2 * n + 2), new Int32Array(2 * n + 2)];
  let [prev2, prev, cur] = rows;
  for (let j = 0; j <= n; j++) prev[j] = j;
  let prevMin = 0;
  for (let i = 1; i <= m; i++) {
    const ai = a.charCodeAt(i - 1);
    const ai1 = i > 1 ? a.charCodeAt(i - 2) : -1;
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const bj = b.charCodeAt(j - 1);
      let v = prev[j - 1] + (ai === bj ? 0 : 1);
      const del = prev[j] + 1;
      if (del < v) v = del;
      const ins = cur[j - 1] + 1;
      if (ins < v) v = ins;
      if (j > 1 && ai === b.charCodeAt(j - 2) && ai1 === bj) {
        const t = prev2[j - 2] + 1;
        if (t < v) v = t;
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // A transposition reads two rows back, so stop only when two rows in a row exceed max.
    if (rowMin > max && prevMin > max) return rowMin;
    prevMin = rowMin;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[n];
}

/**
 * Edit-distance cells left for suggestions (Infinity outside withSuggestionBudget). A file with
 * thousands of misspelt names among thousands of steps would otherwise cost names × steps
 * distances; once the budget is spent, the remaining problems come without a suggestion.
 */
let cellsLeft = Infinity;

/** Runs f (synchronous) with at most `cells` edit-distance cells for all its suggestions. */
export function withSuggestionBudget<T>(cells: number, f: () => T): T {
  const previous = cellsLeft;
  cellsLeft = cells;
  try {
    return f();
  } finally {
    cellsLeft = previous;
  }
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (cellsLeft <= 0) return undefined;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const limit = Math.max(1, Math.floor(Math.max(word.length, c.length) / 3));
    const cl = c.toLowerCase();
    if (Math.abs(lower.length - cl.length) > limit) continue; // the distance is at least this
    const cost = (lower.length + 1) * (cl.length + 1);
    if (cellsLeft < cost) {
      cellsLeft = 0;
      break;
    }
    cellsLeft -= cost;
    // Only a distance within the limit and below the best so far matters: stop beyond it.
    const d = cl === lower ? 0 : editDistance(lower, cl, Math.min(limit, bestScore - 1));
    if (d <= limit && d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best;
}

/** " Did you mean 'x'?" or "" */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` Did you mean '${c}'?`;
}
