/** "Did you mean" suggestions by edit distance (optimal string alignment). */

export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
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
    const d = cl === lower ? 0 : editDistance(lower, cl);
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
