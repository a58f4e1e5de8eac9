/**
 * The layered layout of a DAG picture (graph.ts builds the nodes and edges).
 *
 * Layout (Sugiyama-style, all deterministic):
 * - level of a node = longest path from the roots (computed here from the edges; a cycle, which a
 *   validated workflow never has, is broken instead of looping);
 * - edges spanning several levels go through invisible dummy nodes, one per level crossed (within
 *   a budget proportional to the graph, shortest spans first), so they bend around the nodes;
 * - order within a level: barycenter heuristic, a few down/up sweeps, keeping the order with the
 *   fewest crossings (never worse than the input order);
 * - vertical position: each node pulled toward its neighbours, overlaps removed by isotonic
 *   regression (pool adjacent violators), so a level keeps its order and never overlaps.
 * Each sweep is O(V + E) plus sorting; crossing counts are O(E log V).
 */
import type { GraphDto, GraphEdge, GraphEdgeInput, GraphNode, GraphNodeInput, GraphPoint, LayoutOptions } from './graph';

export const NODE_HEIGHT = 46;
const MIN_WIDTH = 160;
const MAX_WIDTH = 280;
const CHAR_WIDTH = 7.2;
const LABEL_PADDING = 44;
const COLUMN_GAP = 72;
const ROW_GAP = 18;
const DUMMY_GAP = 10;
const MARGIN = 24;
const PLACEMENT_ROUNDS = 3;

/** Node width for a label (the webview truncates labels longer than fits). */
export function nodeWidth(label: string): number {
  return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, LABEL_PADDING + label.length * CHAR_WIDTH)));
}

export function layoutGraph(title: string, input: GraphNodeInput[], edgeInput: GraphEdgeInput[], options: LayoutOptions = {}): GraphDto {
  // ---- nodes and edges, deduplicated -------------------------------------------------------
  const index = new Map<string, number>();
  const real: GraphNodeInput[] = [];
  for (const n of input) {
    if (index.has(n.id)) continue;
    index.set(n.id, real.length);
    real.push(n);
  }
  const n = real.length;
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  const seen = new Set<string>();
  for (const e of edgeInput) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    const key = `${a},${b}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edgeFrom.push(a);
    edgeTo.push(b);
  }
  const m = edgeFrom.length;
  const outEdges: number[][] = Array.from({ length: n }, () => []);
  const indeg = new Int32Array(n);
  for (let e = 0; e < m; e++) {
    outEdges[edgeFrom[e]].push(e);
    indeg[edgeTo[e]]++;
  }

  // ---- levels: longest path (Kahn), breaking cycles by forcing the earliest stuck node ------
  const level = new Int32Array(n);
  const queued = new Uint8Array(n);
  const done = new Uint8Array(n);
  const backEdge = new Uint8Array(m);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) {
    if (indeg[i] === 0) {
      queue.push(i);
      queued[i] = 1;
    }
  }
  let head = 0;
  let next = 0;
  for (;;) {
    while (head < queue.length) {
      const u = queue[head++];
      done[u] = 1;
      for (const e of outEdges[u]) {
        const v = edgeTo[e];
        if (done[v]) {
          backEdge[e] = 1;
          continue;
        }
        if (level[u] + 1 > level[v]) level[v] = level[u] + 1;
        if (--indeg[v] === 0 && !queued[v]) {
          queue.push(v);
          queued[v] = 1;
        }
      }
    }
    if (queue.length === n) break;
    while (queued[next]) next++;
    queue.push(next);
    queued[next] = 1;
  }
  let levelCount = 0;
  for (let i = 0; i < n; i++) levelCount = Math.max(levelCount, level[i] + 1);

  // ---- dummy vertices for long edges (within a budget, shortest spans first) ---------------
  // Vertices 0..n-1 are the real nodes, n.. the dummies.
  const layerOf: number[] = Array.from(level);
  const preds: number[][] = Array.from({ length: n }, () => []);
  const succs: number[][] = Array.from({ length: n }, () => []);
  const chain: (number[] | undefined)[] = new Array<number[] | undefined>(m); // dummies of edge e, in order
  const long: number[] = [];
  for (let e = 0; e < m; e++) {
    if (backEdge[e]) continue;
    const span = level[edgeTo[e]] - level[edgeFrom[e]];
    if (span === 1) {
      succs[edgeFrom[e]].push(edgeTo[e]);
      preds[edgeTo[e]].push(edgeFrom[e]);
    } else long.push(e);
  }
  long.sort((a, b) => level[edgeTo[a]] - level[edgeFrom[a]] - (level[edgeTo[b]] - level[edgeFrom[b]]) || a - b);
  let budget = 4 * (n + m) + 1000;
  for (const e of long) {
    const span = level[edgeTo[e]] - level[edgeFrom[e]];
    if (span - 1 > budget) break;
    budget -= span - 1;
    const ids: number[] = [];
    let prev = edgeFrom[e];
    for (let l = level[edgeFrom[e]] + 1; l < level[edgeTo[e]]; l++) {
      const d = layerOf.length;
      layerOf.push(l);
      preds.push([prev]);
      succs.push([]);
      succs[prev].push(d);
      ids.push(d);
      prev = d;
    }
    succs[prev].push(edgeTo[e]);
    preds[edgeTo[e]].push(prev);
    chain[e] = ids;
  }
  const vCount = layerOf.length;

  // ---- order within layers: barycenter sweeps, keeping the best --------------------------
  let layers: number[][] = Array.from({ length: levelCount }, () => []);
  for (let v = 0; v < vCount; v++) layers[layerOf[v]].push(v);
  const rank = new Float64Array(vCount); // (index + 0.5) / layer size
  const key = new Float64Array(vCount);
  const setRanks = (layer: number[]) => layer.forEach((v, i) => (rank[v] = (i + 0.5) / layer.length));
  layers.forEach(setRanks);
  const reorder = (layer: number[], neighbours: number[][]) => {
    for (const v of layer) {
      const ns = neighbours[v];
      if (!ns.length) key[v] = rank[v];
      else {
        let sum = 0;
        for (const u of ns) sum += rank[u];
        key[v] = sum / ns.length;
      }
    }
    layer.sort((a, b) => key[a] - key[b] || rank[a] - rank[b]);
    setRanks(layer);
  };
  let best = layers.map((l) => l.slice());
  let bestCrossings = countLayerCrossings(layers, succs, vCount);
  const sweeps = options.sweeps ?? 4;
  for (let it = 0; it < sweeps && bestCrossings > 0; it++) {
    for (let l = 1; l < levelCount; l++) reorder(layers[l], preds);
    let c = countLayerCrossings(layers, succs, vCount);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((x) => x.slice());
    }
    for (let l = levelCount - 2; l >= 0; l--) reorder(layers[l], succs);
    c = countLayerCrossings(layers, succs, vCount);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((x) => x.slice());
    }
  }
  layers = best;

  // ---- vertical placement: pull toward neighbours, no overlaps ------------------------------
  const height = (v: number) => (v < n ? NODE_HEIGHT : 0);
  const sep = (a: number, b: number) => (height(a) + height(b)) / 2 + (a < n && b < n ? ROW_GAP : DUMMY_GAP);
  const center = new Float64Array(vCount);
  for (const layer of layers) {
    let c = 0;
    layer.forEach((v, i) => {
      if (i > 0) c += sep(layer[i - 1], v);
      center[v] = c;
    });
    for (const v of layer) center[v] -= c / 2;
  }
  const desired = new Float64Array(vCount);
  const place = (layer: number[], neighbourLists: number[][][]) => {
    for (const v of layer) {
      let sum = 0;
      let count = 0;
      for (const ns of neighbourLists) {
        for (const u of ns[v]) sum += center[u];
        count += ns[v].length;
      }
      desired[v] = count ? sum / count : center[v];
    }
    packInOrder(layer, desired, sep, center);
  };
  for (let round = 0; round < PLACEMENT_ROUNDS; round++) {
    for (let l = 1; l < levelCount; l++) place(layers[l], [preds]);
    for (let l = levelCount - 2; l >= 0; l--) place(layers[l], [succs]);
  }
  for (let l = 0; l < levelCount; l++) place(layers[l], [preds, succs]);

  // ---- coordinates ------------------------------------------------------------------------
  const widths = real.map((node) => nodeWidth(node.label));
  const colWidth: number[] = new Array<number>(levelCount).fill(0);
  for (let i = 0; i < n; i++) colWidth[level[i]] = Math.max(colWidth[level[i]], widths[i]);
  const colX: number[] = [];
  let x = MARGIN;
  for (let l = 0; l < levelCount; l++) {
    colWidth[l] ||= MIN_WIDTH;
    colX.push(x);
    x += colWidth[l] + COLUMN_GAP;
  }
  let minTop = Infinity;
  for (let v = 0; v < vCount; v++) minTop = Math.min(minTop, center[v] - height(v) / 2);
  const shift = Number.isFinite(minTop) ? MARGIN - minTop : 0;
  const cy = new Float64Array(vCount);
  for (let v = 0; v < vCount; v++) cy[v] = Math.round(center[v] + shift);

  const nodes: GraphNode[] = real.map((node, i) => ({
    ...node,
    level: level[i],
    x: colX[level[i]] + Math.floor((colWidth[level[i]] - widths[i]) / 2),
    y: cy[i] - NODE_HEIGHT / 2,
    width: widths[i],
    height: NODE_HEIGHT,
  }));
  const edges: GraphEdge[] = [];
  for (let e = 0; e < m; e++) {
    const a = nodes[edgeFrom[e]];
    const b = nodes[edgeTo[e]];
    const points: GraphPoint[] = [{ x: a.x + a.width, y: cy[edgeFrom[e]] }];
    for (const d of chain[e] ?? []) {
      points.push({ x: colX[layerOf[d]], y: cy[d] }, { x: colX[layerOf[d]] + colWidth[layerOf[d]], y: cy[d] });
    }
    points.push({ x: b.x, y: cy[edgeTo[e]] });
    edges.push({ from: a.id, to: b.id, points });
  }
  let bottom = 0;
  for (let v = 0; v < vCount; v++) bottom = Math.max(bottom, cy[v] + height(v) / 2);
  return {
    title,
    nodes,
    edges,
    width: levelCount ? colX[levelCount - 1] + colWidth[levelCount - 1] + MARGIN : 2 * MARGIN,
    height: n ? bottom + MARGIN : 2 * MARGIN,
  };
}

/**
 * Places a layer's vertices, in their order, as close as possible (least squares) to `desired`
 * with at least sep(a, b) between consecutive centres: isotonic regression by pool adjacent
 * violators on desired[i] - (sum of separations before i). O(layer size).
 */
function packInOrder(layer: number[], desired: Float64Array, sep: (a: number, b: number) => number, out: Float64Array): void {
  const k = layer.length;
  if (!k) return;
  const offset = new Float64Array(k);
  for (let i = 1; i < k; i++) offset[i] = offset[i - 1] + sep(layer[i - 1], layer[i]);
  const sums: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < k; i++) {
    let sum = desired[layer[i]] - offset[i];
    let count = 1;
    while (sums.length && sums[sums.length - 1] / counts[counts.length - 1] > sum / count) {
      sum += sums.pop()!;
      count += counts.pop()!;
    }
    sums.push(sum);
    counts.push(count);
  }
  let i = 0;
  for (let b = 0; b < sums.length; b++) {
    const mean = sums[b] / counts[b];
    for (let j = 0; j < counts[b]; j++, i++) out[layer[i]] = mean + offset[i];
  }
}

/** Crossings between consecutive layers (edges between adjacent layers only), O(E log V). */
function countLayerCrossings(layers: number[][], succs: number[][], vCount: number): number {
  const pos = new Int32Array(vCount);
  for (const layer of layers) layer.forEach((v, i) => (pos[v] = i));
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const size = layers[l + 1].length;
    const tree = new Int32Array(size + 1); // Fenwick tree over target positions
    let inserted = 0;
    for (const u of layers[l]) {
      const targets = succs[u].map((v) => pos[v]).sort((a, b) => a - b);
      // Edges already inserted with a target after this one cross it.
      for (const t of targets) {
        let le = 0;
        for (let i = t + 1; i > 0; i -= i & -i) le += tree[i];
        total += inserted - le;
      }
      for (const t of targets) {
        for (let i = t + 1; i <= size; i += i & -i) tree[i]++;
        inserted++;
      }
    }
  }
  return total;
}
