/**
 * Finding the pieces of one string (a secret, or one of its encodings) inside text: every run of
 * at least `min` consecutive characters of the text that also occurs somewhere in the source.
 *
 * A suffix automaton of the source (linear in its length to build) gives, in one pass over the
 * text, the longest substring of the source ending at each position of the text (the "matching
 * statistics"). No list of all substrings is made, so a long secret (a PEM key) costs O(length),
 * not O(length²). Characters are UTF-16 code units, as string indexes are.
 */
export class SubstringIndex {
  private readonly next: Map<string, number>[] = [new Map()];
  private readonly link: number[] = [-1];
  private readonly len: number[] = [0];

  constructor(readonly source: string) {
    let last = 0;
    for (let i = 0; i < source.length; i++) last = this.extend(last, source[i]);
  }

  private add(len: number, link: number, next: Map<string, number>): number {
    this.len.push(len);
    this.link.push(link);
    this.next.push(next);
    return this.len.length - 1;
  }

  private extend(last: number, c: string): number {
    const cur = this.add(this.len[last] + 1, 0, new Map());
    let p = last;
    while (p !== -1 && !this.next[p].has(c)) {
      this.next[p].set(c, cur);
      p = this.link[p];
    }
    if (p === -1) return cur;
    const q = this.next[p].get(c)!;
    if (this.len[p] + 1 === this.len[q]) {
      this.link[cur] = q;
      return cur;
    }
    const clone = this.add(this.len[p] + 1, this.link[q], new Map(this.next[q]));
    while (p !== -1 && this.next[p].get(c) === q) {
      this.next[p].set(c, clone);
      p = this.link[p];
    }
    this.link[q] = clone;
    this.link[cur] = clone;
    return cur;
  }

  /** [start, end) spans of the text that occur in the source, each at least `min` long (overlapping spans are not merged). */
  spans(text: string, min: number, into: [number, number][] = []): [number, number][] {
    if (min < 1 || this.source.length < min) return into;
    let v = 0;
    let l = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      while (v !== 0 && !this.next[v].has(c)) {
        v = this.link[v];
        l = this.len[v];
      }
      const to = this.next[v].get(c);
      if (to === undefined) {
        v = 0;
        l = 0;
        continue;
      }
      v = to;
      l++;
      // Only the longest run ending here, and only where it does not continue at i + 1 (else the next one covers it).
      if (l >= min && (i + 1 === text.length || !this.next[v].has(text[i + 1]))) into.push([i + 1 - l, i + 1]);
    }
    return into;
  }
}
