// Headwater web UI: the Lineage tab's graph. Reads /ui/lineage.json one hop at a time (the
// root's first, then each node's when the user expands it) and draws it as SVG in columns:
// upstream to the left of the centre version, downstream to the right.
"use strict";

(() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 184, H = 44, GAP_X = 44, GAP_Y = 16, PAD = 12;

  const section = document.getElementById("lineage");
  const svg = document.getElementById("lineage-graph");
  const status = document.getElementById("lineage-status");
  if (!section || !svg) return;
  const root = section.dataset.root;
  const direction = section.dataset.direction || "both";
  const nodes = new Map();
  const edges = new Map();
  const expanded = new Set();
  let truncated = false;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  async function load(id) {
    const query = new URLSearchParams({ uri: id, direction: direction, depth: "1" });
    const response = await fetch("/ui/lineage.json?" + query, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    for (const n of body.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
    for (const e of body.edges) edges.set([e.source, e.target, e.kind, e.name].join("\n"), e);
    truncated = truncated || body.truncated;
    expanded.add(id);
  }

  // Columns by breadth-first walk from the root: a target sits one column right of its
  // source. Nodes first reached win; a node reached no way (should not happen) goes last.
  function columns() {
    const col = new Map([[root, 0]]);
    const around = new Map();
    for (const e of edges.values()) {
      if (!around.has(e.source)) around.set(e.source, []);
      if (!around.has(e.target)) around.set(e.target, []);
      around.get(e.source).push([e.target, 1]);
      around.get(e.target).push([e.source, -1]);
    }
    const queue = [root];
    while (queue.length) {
      const at = queue.shift();
      for (const [next, step] of around.get(at) || []) {
        if (!col.has(next)) {
          col.set(next, col.get(at) + step);
          queue.push(next);
        }
      }
    }
    for (const id of nodes.keys()) if (!col.has(id)) col.set(id, 0);
    return col;
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function draw() {
    const col = columns();
    const byCol = new Map();
    for (const [id, c] of col) {
      if (!nodes.has(id)) continue;
      if (!byCol.has(c)) byCol.set(c, []);
      byCol.get(c).push(nodes.get(id));
    }
    const cols = [...byCol.keys()].sort((a, b) => a - b);
    const first = cols[0] || 0;
    const place = new Map();
    let tallest = 1;
    for (const c of cols) {
      const list = byCol.get(c).sort((a, b) =>
        (a.id === root ? -1 : b.id === root ? 1 : 0) || a.kind.localeCompare(b.kind) ||
        a.label.localeCompare(b.label, undefined, { numeric: true }));
      tallest = Math.max(tallest, list.length);
      list.forEach((n, i) => place.set(n.id, {
        x: PAD + (c - first) * (W + GAP_X),
        y: PAD + i * (H + GAP_Y),
      }));
    }
    const width = PAD * 2 + cols.length * (W + GAP_X) - GAP_X;
    const height = PAD * 2 + tallest * (H + GAP_Y) - GAP_Y;
    svg.replaceChildren();
    svg.setAttribute("width", String(Math.max(width, W)));
    svg.setAttribute("height", String(Math.max(height, H)));
    svg.setAttribute("viewBox", `0 0 ${Math.max(width, W)} ${Math.max(height, H)}`);
    const defs = el("defs", {}, svg);
    const marker = el("marker", {
      id: "lineage-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
    }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }, marker);

    const lines = el("g", { class: "edges" }, svg);
    for (const e of edges.values()) {
      const a = place.get(e.source), b = place.get(e.target);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      const bend = Math.max(30, Math.abs(x2 - x1) / 2);
      const path = el("path", {
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        class: `edge edge-${e.kind}`,
        "marker-end": "url(#lineage-arrow)",
      }, lines);
      el("title", {}, path).textContent = `${e.kind}${e.name ? " (" + e.name + ")" : ""}`;
    }

    const group = el("g", { class: "nodes" }, svg);
    for (const n of nodes.values()) {
      const at = place.get(n.id);
      if (!at) continue;
      const classes = ["node", "node-" + n.kind];
      if (n.id === root) classes.push("node-root");
      if (n.status) classes.push("status-" + n.status);
      if (n.purged) classes.push("node-purged");
      const g = el("g", {
        class: classes.join(" "), "data-id": n.id, transform: `translate(${at.x},${at.y})`,
      }, group);
      let href = n.href;
      if (n.kind === "artifact" && direction !== "both") href += "&direction=" + direction;
      const link = el("a", { href: href, class: "node-link", "aria-label": n.label }, g);
      el("rect", { width: W, height: H, rx: n.kind === "execution" ? 4 : 14 }, link);
      el("text", { x: 10, y: 18, class: "label" }, link).textContent = shorten(n.short, 19);
      const detail = n.kind === "execution" ? n.status || ""
        : n.purged ? "purged" : partitionsText(n);
      el("text", { x: 10, y: 35, class: "detail" }, link).textContent = shorten(detail, 25);
      el("title", {}, link).textContent = n.label;
      if (!expanded.has(n.id)) expandButton(g, n);
    }
    if (expanded.size === 1) centre(place.get(root));  // the first drawing only
    // for benchmarks/bench_ui.py: when the first graph was drawn (ms since navigation start)
    if (!document.body.dataset.lineageDrawnAt) document.body.dataset.lineageDrawnAt = String(performance.now());
    const count = `${nodes.size} nodes, ${edges.size} edges`;
    status.textContent = truncated ? count + " (some hops were cut short: expand nodes for more)" : count;
  }

  // Keep the centre version in view when the graph is wider or taller than its box.
  function centre(at) {
    const box = svg.parentElement;
    if (!at || !box) return;
    box.scrollLeft = Math.max(0, at.x + W / 2 - box.clientWidth / 2);
    box.scrollTop = Math.max(0, at.y + H / 2 - box.clientHeight / 2);
  }

  function partitionsText(n) {
    const parts = Object.entries(n.partitions || {}).map(([k, v]) => `${k}=${v}`);
    if (n.time_partition) parts.push(n.time_partition);
    return parts.join(" ") || "version " + n.version;
  }

  function expandButton(g, n) {
    const button = el("g", {
      class: "expand", role: "button", tabindex: 0,
      "aria-label": "expand one more hop around " + n.label,
      transform: `translate(${W - 12},${H / 2})`,
    }, g);
    el("circle", { r: 9 }, button);
    el("text", { x: 0, y: 4, "text-anchor": "middle" }, button).textContent = "+";
    const go = (event) => {
      event.preventDefault();
      event.stopPropagation();
      status.textContent = "Loading…";
      load(n.id).then(draw, fail);
    };
    button.addEventListener("click", go);
    button.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") go(event);
    });
  }

  function fail(error) {
    status.textContent = "Could not load the lineage: " + error.message;
    status.classList.add("error");
  }

  load(root).then(draw, fail);
})();
