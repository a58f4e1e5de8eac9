// The DAG webview ("Show Execution Plan", "Show Graph"). Plain browser script, no build step: it
// runs under `default-src 'none'; script-src ${cspSource}; style-src ${cspSource}`, so it never
// sets inline styles; colours come from media/graph.css (VS Code theme variables) through classes.
//
// Messages in:  { type: 'graph', graph: GraphDto }   (server/src/workflow/graph.ts) — replaces the
//               drawing; the zoom and scroll position are kept while the graph's title stays the same.
// Messages out: { type: 'ready' } once this script runs;
//               { type: 'openStep', step: <node id>, stepId: <workflow step id> } on click / Enter.
// For tests: body[data-ready="1"] after the first draw, each node group has data-id and data-status.
(function () {
  'use strict';

  const SVG = 'http://www.w3.org/2000/svg';
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : { postMessage() {}, getState() { return undefined; }, setState() {} };

  const STATUSES = ['planned', 'pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'timed_out', 'waiting'];
  const GLYPHS = {
    planned: '\u25C7', // ◇
    pending: '\u25CB', // ○
    running: '\u25D0', // ◐
    succeeded: '\u2713', // ✓
    failed: '\u2717', // ✗
    skipped: '\u21B7', // ↷
    cancelled: '\u2298', // ⊘
    timed_out: '\u25F7', // ◷
    waiting: '\u2016', // ‖
  };
  const STUCK_GLYPH = '\u26A0\uFE0E'; // ⚠ (text presentation)
  const LABEL_CHAR = 7.2; // px per character of a label (12.5px semibold), as the layout assumes
  const SMALL_CHAR = 6.2; // px per character of the status line (11px)
  const MIN_SCALE = 0.25; // graph units per CSS pixel: 400% zoom at most
  const BASE_MAX_SCALE = 20; // 5% zoom (more when fitting a huge graph needs it)

  /** @type {any} */
  let graph = null;
  let signature = '';
  /** Visible region: top-left corner in graph units and graph units per CSS pixel. */
  let view = null;
  /** Node id -> { group, node, edges: [path], out: [id], in: [id] } */
  let index = new Map();

  const saved = vscode.getState();

  // ---- DOM skeleton -----------------------------------------------------------------------
  const root = document.getElementById('graph-root') || document.body;
  root.classList.add('graph-app');

  const toolbar = el('div', 'toolbar');
  const titleEl = el('div', 'title');
  const legend = el('div', 'legend');
  legend.setAttribute('role', 'list');
  legend.setAttribute('aria-label', 'Statuses');
  const zoomBox = el('div', 'zoom');
  const zoomOut = button('\u2212', 'Zoom out (Ctrl+Wheel, -)');
  const zoomLevel = button('100%', 'Actual size (1)');
  zoomLevel.classList.add('zoom-level');
  const zoomIn = button('+', 'Zoom in (Ctrl+Wheel, +)');
  const zoomFit = button('Fit', 'Fit the whole graph (0)');
  zoomBox.append(zoomOut, zoomLevel, zoomIn, zoomFit);
  toolbar.append(titleEl, legend, zoomBox);

  const viewport = el('div', 'viewport');
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'graph');
  svg.setAttribute('role', 'group');
  svg.setAttribute('preserveAspectRatio', 'xMinYMin meet');
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '9', markerHeight: '9', orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' });
  marker.appendChild(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  const markerHl = svgEl('marker', { id: 'arrow-hl', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '9', markerHeight: '9', orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' });
  markerHl.appendChild(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead arrowhead-hl' }));
  defs.append(marker, markerHl);
  const edgeLayer = svgEl('g', { class: 'edges' });
  const nodeLayer = svgEl('g', { class: 'nodes' });
  svg.append(defs, edgeLayer, nodeLayer);
  const empty = el('div', 'empty');
  empty.textContent = 'Waiting for the graph\u2026';
  viewport.append(svg, empty);
  root.append(toolbar, viewport);

  // ---- helpers ------------------------------------------------------------------------------
  function el(tag, cls) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    return e;
  }
  function button(text, title) {
    const b = el('button', 'zoom-button');
    b.type = 'button';
    b.textContent = text;
    b.title = title;
    b.setAttribute('aria-label', title);
    return b;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function statusOf(n) {
    return STATUSES.indexOf(n.status) >= 0 ? n.status : 'pending';
  }
  function formatDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + 's';
    const s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  }
  function statusText(n) {
    if (statusOf(n) === 'planned') return n.kind + (n.stage ? ' \u00B7 ' + n.stage : '');
    const parts = [n.stuck ? 'stuck' : statusOf(n).replace('_', ' ')];
    if (n.attempt && n.attempt > 1) parts.push('#' + n.attempt);
    const d = formatDuration(n.durationMs);
    if (d) parts.push(d);
    return parts.join(' \u00B7 ');
  }
  function fit(text, width, charWidth) {
    const max = Math.max(3, Math.floor(width / charWidth));
    return text.length <= max ? text : text.slice(0, max - 1) + '\u2026';
  }
  function describe(n) {
    const bits = [n.id === n.label ? n.id : n.label + ' (' + n.id + ')', n.kind + (n.stage ? ' in stage ' + n.stage : ''), statusText(n)];
    return bits.join(' \u2014 ');
  }
  function nodeClass(n) {
    return 'node status-' + statusOf(n) + ' kind-' + n.kind + (n.stuck ? ' stuck' : '');
  }

  // ---- drawing ------------------------------------------------------------------------------
  function structureOf(g) {
    const parts = [g.title, g.width, g.height];
    for (const n of g.nodes) parts.push(n.id, n.x, n.y, n.width, n.label);
    for (const e of g.edges) parts.push(e.from, e.to, e.points.length);
    return JSON.stringify(parts);
  }

  function edgePath(points) {
    let d = 'M ' + points[0].x + ' ' + points[0].y;
    for (let i = 1; i < points.length; i++) {
      const p = points[i - 1];
      const q = points[i];
      if (p.y === q.y || q.x <= p.x) d += ' L ' + q.x + ' ' + q.y;
      else {
        const dx = (q.x - p.x) / 2;
        d += ' C ' + (p.x + dx) + ' ' + p.y + ' ' + (q.x - dx) + ' ' + q.y + ' ' + q.x + ' ' + q.y;
      }
    }
    return d;
  }

  function edgeClass(e) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    const from = a ? statusOf(a.node) : 'pending';
    const to = b ? statusOf(b.node) : 'pending';
    let cls = 'edge from-' + from + ' to-' + to;
    if (from === 'succeeded' && (to === 'running' || to === 'waiting')) cls += ' active';
    return cls;
  }

  function fillNode(g, n) {
    g.setAttribute('class', nodeClass(n));
    g.setAttribute('data-status', statusOf(n));
    if (n.stuck) g.setAttribute('data-stuck', '1');
    else g.removeAttribute('data-stuck');
    g.setAttribute('aria-label', describe(n));
    const parts = g.__parts;
    parts.title.textContent = describe(n);
    parts.glyph.textContent = n.stuck ? STUCK_GLYPH : GLYPHS[statusOf(n)];
    const text = statusText(n);
    const room = n.width - 40;
    // The kind goes bottom right when it fits beside the status (a plan's status line already says it).
    const showKind = statusOf(n) !== 'planned' && (text.length + n.kind.length) * SMALL_CHAR + 12 <= room;
    parts.kind.textContent = showKind ? n.kind : '';
    parts.status.textContent = fit(text, room, SMALL_CHAR);
  }

  function drawAll(g) {
    const focusedId = document.activeElement && document.activeElement.getAttribute ? document.activeElement.getAttribute('data-id') : null;
    edgeLayer.replaceChildren();
    nodeLayer.replaceChildren();
    index = new Map();
    for (const n of g.nodes) index.set(n.id, { node: n, group: null, edges: [], out: [], in: [] });

    const edgeFrag = document.createDocumentFragment();
    for (const e of g.edges) {
      if (!e.points || e.points.length < 2) continue;
      const path = svgEl('path', { d: edgePath(e.points), class: edgeClass(e), 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to });
      path.__edge = e;
      edgeFrag.appendChild(path);
      const a = index.get(e.from);
      const b = index.get(e.to);
      if (a) {
        a.edges.push(path);
        a.out.push(e.to);
      }
      if (b) {
        b.edges.push(path);
        b.in.push(e.from);
      }
    }
    edgeLayer.appendChild(edgeFrag);

    const nodeFrag = document.createDocumentFragment();
    for (const n of g.nodes) {
      const grp = svgEl('g', { transform: 'translate(' + n.x + ',' + n.y + ')', tabindex: '0', role: 'button', 'data-id': n.id });
      const title = svgEl('title');
      const box = svgEl('rect', { class: 'node-box', width: n.width, height: n.height, rx: 6, ry: 6 });
      const bar = svgEl('rect', { class: 'node-bar', x: 0, y: 0, width: 4, height: n.height, rx: 2, ry: 2 });
      const glyph = svgEl('text', { class: 'node-glyph', x: 18, y: n.height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' });
      const label = svgEl('text', { class: 'node-label', x: 32, y: 19 });
      label.textContent = fit(n.label, n.width - 40, LABEL_CHAR);
      const status = svgEl('text', { class: 'node-status', x: 32, y: 35 });
      const kind = svgEl('text', { class: 'node-kind', x: n.width - 8, y: 35, 'text-anchor': 'end' });
      grp.append(title, box, bar, glyph, label, status, kind);
      grp.__parts = { title, glyph, status, kind };
      fillNode(grp, n);
      index.get(n.id).group = grp;
      nodeFrag.appendChild(grp);
    }
    nodeLayer.appendChild(nodeFrag);
    if (focusedId && index.has(focusedId)) index.get(focusedId).group.focus({ preventScroll: true });
  }

  function patchStatuses(g) {
    for (const n of g.nodes) {
      const entry = index.get(n.id);
      if (!entry) continue;
      entry.node = n;
      fillNode(entry.group, n);
    }
    for (const path of edgeLayer.children) {
      const hl = path.classList.contains('hl');
      path.setAttribute('class', edgeClass(path.__edge) + (hl ? ' hl' : ''));
    }
  }

  function drawLegend(g) {
    legend.replaceChildren();
    const counts = new Map();
    let stuck = 0;
    for (const n of g.nodes) {
      counts.set(statusOf(n), (counts.get(statusOf(n)) || 0) + 1);
      if (n.stuck) stuck++;
    }
    const shown = counts.has('planned') && counts.size === 1 ? ['planned'] : STATUSES.filter((s) => s !== 'planned' || counts.has(s));
    for (const s of shown) {
      const item = el('span', 'legend-item status-' + s + (counts.get(s) ? '' : ' zero'));
      item.setAttribute('role', 'listitem');
      item.setAttribute('data-status', s);
      const sw = el('span', 'swatch');
      sw.textContent = GLYPHS[s];
      const name = el('span', 'legend-name');
      name.textContent = s.replace('_', ' ');
      const count = el('span', 'legend-count');
      count.textContent = String(counts.get(s) || 0);
      item.append(sw, name, count);
      legend.appendChild(item);
    }
    if (stuck) {
      const item = el('span', 'legend-item stuck');
      item.setAttribute('role', 'listitem');
      item.setAttribute('data-status', 'stuck');
      const sw = el('span', 'swatch');
      sw.textContent = STUCK_GLYPH;
      const name = el('span', 'legend-name');
      name.textContent = 'stuck';
      const count = el('span', 'legend-count');
      count.textContent = String(stuck);
      item.append(sw, name, count);
      legend.appendChild(item);
    }
  }

  function render(g) {
    const sameTitle = graph !== null ? graph.title === g.title : !!(saved && saved.title === g.title && saved.view);
    const structure = structureOf(g);
    const previous = graph;
    graph = g;
    titleEl.textContent = g.title;
    titleEl.title = g.title;
    document.title = g.title;
    svg.setAttribute('aria-label', g.title);
    if (previous && structure === signature) patchStatuses(g);
    else drawAll(g);
    signature = structure;
    drawLegend(g);
    empty.textContent = g.nodes.length ? '' : 'No steps.';
    empty.classList.toggle('hidden', g.nodes.length > 0);
    if (!sameTitle || !view) view = previous === null && sameTitle && saved ? Object.assign({}, saved.view) : fitView();
    applyView();
    document.body.setAttribute('data-ready', '1');
    document.body.setAttribute('data-node-count', String(g.nodes.length));
  }

  // ---- zoom and scroll (all through the viewBox) --------------------------------------------
  /** Set when the graph was fitted while the viewport had no size (a hidden panel): fit again on resize. */
  let fitPending = false;
  function size() {
    const r = viewport.getBoundingClientRect();
    return { w: Math.max(1, r.width), h: Math.max(1, r.height) };
  }
  function maxScale() {
    if (!graph) return BASE_MAX_SCALE;
    const s = size();
    return Math.max(BASE_MAX_SCALE, graph.width / s.w, graph.height / s.h);
  }
  function fitView() {
    const s = size();
    const gw = graph ? graph.width : s.w;
    const gh = graph ? graph.height : s.h;
    fitPending = s.w < 2 || s.h < 2;
    const scale = Math.max(1, gw / s.w, gh / s.h);
    return { x: (gw - s.w * scale) / 2, y: (gh - s.h * scale) / 2, scale };
  }
  function clampView() {
    if (!graph || !view) return;
    const s = size();
    view.scale = Math.min(maxScale(), Math.max(MIN_SCALE, view.scale));
    const vw = s.w * view.scale;
    const vh = s.h * view.scale;
    const padX = vw * 0.25;
    const padY = vh * 0.25;
    view.x = Math.min(Math.max(0, graph.width - vw) + padX, Math.max(Math.min(0, graph.width - vw) - padX, view.x));
    view.y = Math.min(Math.max(0, graph.height - vh) + padY, Math.max(Math.min(0, graph.height - vh) - padY, view.y));
  }
  function applyView() {
    if (!view) return;
    clampView();
    const s = size();
    const r = (v) => Math.round(v * 100) / 100;
    svg.setAttribute('viewBox', r(view.x) + ' ' + r(view.y) + ' ' + r(s.w * view.scale) + ' ' + r(s.h * view.scale));
    zoomLevel.textContent = Math.round(100 / view.scale) + '%';
    if (graph) vscode.setState({ title: graph.title, view });
  }
  /** Zooms by `factor` (>1 = in) keeping the graph point under client (cx, cy) in place. */
  function zoomAt(factor, cx, cy) {
    if (!view) return;
    fitPending = false;
    const r = viewport.getBoundingClientRect();
    const px = cx === undefined ? r.width / 2 : cx - r.left;
    const py = cy === undefined ? r.height / 2 : cy - r.top;
    const gx = view.x + px * view.scale;
    const gy = view.y + py * view.scale;
    view.scale = Math.min(maxScale(), Math.max(MIN_SCALE, view.scale / factor));
    view.x = gx - px * view.scale;
    view.y = gy - py * view.scale;
    applyView();
  }
  function panBy(dx, dy) {
    if (!view) return;
    fitPending = false;
    view.x += dx * view.scale;
    view.y += dy * view.scale;
    applyView();
  }
  /** Scrolls so that node n is visible. */
  function reveal(n) {
    if (!view) return;
    const s = size();
    const vw = s.w * view.scale;
    const vh = s.h * view.scale;
    const pad = 16 * view.scale;
    if (n.x < view.x + pad) view.x = n.x - pad;
    else if (n.x + n.width > view.x + vw - pad) view.x = n.x + n.width - vw + pad;
    if (n.y < view.y + pad) view.y = n.y - pad;
    else if (n.y + n.height > view.y + vh - pad) view.y = n.y + n.height - vh + pad;
    applyView();
  }

  zoomIn.addEventListener('click', () => zoomAt(1.25));
  zoomOut.addEventListener('click', () => zoomAt(1 / 1.25));
  zoomLevel.addEventListener('click', () => {
    if (view) zoomAt(view.scale);
  });
  zoomFit.addEventListener('click', () => {
    if (!graph) return;
    view = fitView();
    applyView();
  });

  viewport.addEventListener(
    'wheel',
    (ev) => {
      if (!view) return;
      ev.preventDefault();
      const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? size().h : 1;
      if (ev.ctrlKey || ev.metaKey) zoomAt(Math.exp(-ev.deltaY * unit * 0.002), ev.clientX, ev.clientY);
      else if (ev.shiftKey && !ev.deltaX) panBy(ev.deltaY * unit, 0);
      else panBy(ev.deltaX * unit, ev.deltaY * unit);
    },
    { passive: false },
  );

  // Drag the background (or a node) to pan; a click without movement opens the node.
  let drag = null;
  viewport.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0 || !view) return;
    drag = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, moved: false };
  });
  viewport.addEventListener('pointermove', (ev) => {
    if (!drag || drag.id !== ev.pointerId) return;
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) {
      drag.moved = true;
      viewport.setPointerCapture(ev.pointerId);
      viewport.classList.add('panning');
    }
    drag.x = ev.clientX;
    drag.y = ev.clientY;
    panBy(-dx, -dy);
  });
  const endDrag = (ev) => {
    if (!drag || drag.id !== ev.pointerId) return;
    if (drag.moved) {
      viewport.classList.remove('panning');
      if (viewport.hasPointerCapture(ev.pointerId)) viewport.releasePointerCapture(ev.pointerId);
      // Swallow the click that follows a drag.
      const swallow = (c) => {
        c.stopPropagation();
        c.preventDefault();
      };
      window.addEventListener('click', swallow, { capture: true, once: true });
      setTimeout(() => window.removeEventListener('click', swallow, { capture: true }), 0);
    }
    drag = null;
  };
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);

  // ---- nodes: open, highlight, keyboard -----------------------------------------------------
  function groupOf(target) {
    const g = target && target.closest ? target.closest('g.node') : null;
    return g && nodeLayer.contains(g) ? g : null;
  }
  function open(g) {
    const entry = index.get(g.getAttribute('data-id'));
    if (entry) vscode.postMessage({ type: 'openStep', step: entry.node.id, stepId: entry.node.stepId || entry.node.id });
  }
  function highlight(g, on) {
    const entry = g && index.get(g.getAttribute('data-id'));
    if (!entry) return;
    for (const p of entry.edges) {
      p.classList.toggle('hl', on);
      p.setAttribute('marker-end', on ? 'url(#arrow-hl)' : 'url(#arrow)');
    }
    svg.classList.toggle('has-hl', edgeLayer.querySelector('.hl') !== null);
  }
  nodeLayer.addEventListener('click', (ev) => {
    const g = groupOf(ev.target);
    if (g) open(g);
  });
  nodeLayer.addEventListener('pointerover', (ev) => highlight(groupOf(ev.target), true));
  nodeLayer.addEventListener('pointerout', (ev) => {
    const g = groupOf(ev.target);
    if (g && !g.contains(ev.relatedTarget) && document.activeElement !== g) highlight(g, false);
  });
  nodeLayer.addEventListener('focusin', (ev) => {
    const g = groupOf(ev.target);
    if (!g) return;
    highlight(g, true);
    const entry = index.get(g.getAttribute('data-id'));
    if (entry) reveal(entry.node);
  });
  nodeLayer.addEventListener('focusout', (ev) => highlight(groupOf(ev.target), false));

  function focusNode(id) {
    const entry = id !== undefined && index.get(id);
    if (entry) entry.group.focus({ preventScroll: true });
  }
  /** The node of the same level just above (dir -1) or below (dir 1). */
  function sibling(n, dir) {
    let best = null;
    for (const m of graph.nodes) {
      if (m.level !== n.level || m.id === n.id) continue;
      if (dir > 0 ? m.y > n.y && (!best || m.y < best.y) : m.y < n.y && (!best || m.y > best.y)) best = m;
    }
    return best;
  }
  /** Of the neighbours `ids`, the one closest vertically to n. */
  function nearest(n, ids) {
    let best = null;
    for (const id of ids) {
      const m = index.get(id);
      if (m && (!best || Math.abs(m.node.y - n.y) < Math.abs(best.y - n.y))) best = m.node;
    }
    return best;
  }

  nodeLayer.addEventListener('keydown', (ev) => {
    const g = groupOf(ev.target);
    if (!g) return;
    const entry = index.get(g.getAttribute('data-id'));
    if (!entry) return;
    let to = null;
    switch (ev.key) {
      case 'Enter':
      case ' ':
        ev.preventDefault();
        open(g);
        return;
      case 'ArrowRight':
        to = nearest(entry.node, entry.out);
        break;
      case 'ArrowLeft':
        to = nearest(entry.node, entry.in);
        break;
      case 'ArrowDown':
        to = sibling(entry.node, 1);
        break;
      case 'ArrowUp':
        to = sibling(entry.node, -1);
        break;
      default:
        return;
    }
    ev.preventDefault();
    ev.stopPropagation();
    if (to) focusNode(to.id);
  });

  document.addEventListener('keydown', (ev) => {
    if (!view || ev.altKey || (ev.target && ev.target.tagName === 'INPUT')) return;
    const step = 40;
    switch (ev.key) {
      case '+':
      case '=':
        zoomAt(1.25);
        break;
      case '-':
      case '_':
        zoomAt(1 / 1.25);
        break;
      case '0':
        view = fitView();
        applyView();
        break;
      case '1':
        zoomAt(view.scale);
        break;
      case 'ArrowLeft':
        panBy(-step, 0);
        break;
      case 'ArrowRight':
        panBy(step, 0);
        break;
      case 'ArrowUp':
        panBy(0, -step);
        break;
      case 'ArrowDown':
        panBy(0, step);
        break;
      default:
        return;
    }
    ev.preventDefault();
  });

  window.addEventListener('resize', () => {
    if (fitPending && graph) view = fitView();
    applyView();
  });

  // ---- messages -------------------------------------------------------------------------------
  window.addEventListener('message', (ev) => {
    const msg = ev.data;
    if (!msg || typeof msg !== 'object' || msg.type !== 'graph' || !msg.graph || !Array.isArray(msg.graph.nodes)) return;
    const g = msg.graph;
    render({
      title: String(g.title || ''),
      nodes: g.nodes,
      edges: Array.isArray(g.edges) ? g.edges : [],
      width: Number(g.width) || 0,
      height: Number(g.height) || 0,
    });
  });

  vscode.postMessage({ type: 'ready' });
})();
