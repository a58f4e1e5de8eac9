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
  private readonly next: Map<string, number>[] = [new Map<string, number>()];
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

/**
 * Pieces of several sources, each with its own minimum length (at least `gram`). Most text holds
 * none: a rolling hash of every `gram`-character run of the sources tells, in one pass over the
 * text (no strings made), which sources the text may share a piece with (a hash collision only
 * costs a walk), and only those are walked.
 */
export class PieceFinder {
  private readonly sources: { index: SubstringIndex; min: number }[] = [];
  private readonly grams = new Map<number, number[]>();
  /** A quick first test: whether some run of a source has a hash with these low 16 bits. */
  private readonly seen = new Uint8Array(1 << 16);
  /** B^(gram-1), to take the oldest character out of the rolling hash. */
  private readonly top: number;

  constructor(private readonly gram: number) {
    let top = 1;
    for (let i = 1; i < gram; i++) top = Math.imul(top, BASE);
    this.top = top;
  }

  /** Calls f with the hash of every `gram`-character run of the text and the run's end. */
  private roll(text: string, f: (hash: number) => boolean | void): void {
    let h = 0;
    for (let i = 0; i < text.length; i++) {
      if (i >= this.gram) h = (h - Math.imul(text.charCodeAt(i - this.gram), this.top)) | 0;
      h = (Math.imul(h, BASE) + text.charCodeAt(i)) | 0;
      if (i + 1 >= this.gram && f(h) === true) return;
    }
  }

  add(source: string, min: number): void {
    if (min < this.gram || source.length < min) return;
    const at = this.sources.push({ index: new SubstringIndex(source), min }) - 1;
    this.roll(source, (h) => {
      this.seen[h & 0xffff] = 1;
      const list = this.grams.get(h);
      if (!list) this.grams.set(h, [at]);
      else if (list[list.length - 1] !== at) list.push(at);
    });
  }

  /** The longest source. */
  get longest(): number {
    return Math.max(0, ...this.sources.map((s) => s.index.source.length));
  }

  /** [start, end) spans of the text that are pieces of a source (overlapping, unsorted). */
  spans(text: string, into: [number, number][] = []): [number, number][] {
    if (!this.sources.length || text.length < this.gram) return into;
    let hit: Set<number> | undefined;
    let h = 0;
    for (let i = 0; i < text.length; i++) {
      // The same rolling hash as roll(), inline: this runs for every line a step prints.
      if (i >= this.gram) h = (h - Math.imul(text.charCodeAt(i - this.gram), this.top)) | 0;
      h = (Math.imul(h, BASE) + text.charCodeAt(i)) | 0;
      if (i + 1 < this.gram || this.seen[h & 0xffff] === 0) continue;
      const list = this.grams.get(h);
      if (!list) continue;
      hit ??= new Set();
      for (const x of list) hit.add(x);
      if (hit.size === this.sources.length) break;
    }
    if (hit) for (const x of hit) this.sources[x].index.spans(text, this.sources[x].min, into);
    return into;
  }
}

const BASE = 0x01000193;
