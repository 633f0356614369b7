// Headwater web UI: the meta-workflow graph. Reads /ui/graph.json (the model GET /api/v1/graph
// returns, each node with its link) and draws it as SVG in layers, left to right, in the
// direction things flow: artifact/event -> launch plan -> workflow -> artifact. A workflow's
// "reads" edge (a query default) is drawn from the artifact to the workflow, dashed.
"use strict";

(() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 188, H = 46, GAP_X = 64, GAP_Y = 18, PAD = 14;
  const KIND_ORDER = { event: 0, artifact: 1, launch_plan: 2, workflow: 3 };

  const section = document.getElementById("meta-graph-section");
  const svg = document.getElementById("meta-graph");
  const status = document.getElementById("graph-status");
  if (!section || !svg) return;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  // The direction an edge flows in the drawing: a read comes from the artifact.
  function flow(e) {
    return e.kind === "reads" ? [e.target, e.source] : [e.source, e.target];
  }

  // Layers: the longest path from a node nothing flows into, with the edges that close a
  // cycle (a workflow that reads what it produces, a plan that restarts its own producer)
  // left out of the layering; they are drawn anyway.
  function layers(nodes, edges) {
    const out = new Map(), indeg = new Map();
    for (const n of nodes) { out.set(n.id, []); indeg.set(n.id, 0); }
    const state = new Map();
    const ordered = [...nodes].sort((a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name));
    for (const e of edges) {
      const [s, t] = flow(e);
      if (out.has(s) && out.has(t) && s !== t) out.get(s).push(t);
    }
    const back = new Set();
    // Iterative depth-first search marking the edges that point back into the current path.
    for (const start of ordered) {
      if (state.has(start.id)) continue;
      const stack = [[start.id, 0]];
      state.set(start.id, 1);
      while (stack.length) {
        const top = stack[stack.length - 1];
        const next = out.get(top[0])[top[1]++];
        if (next === undefined) { state.set(top[0], 2); stack.pop(); continue; }
        if (state.get(next) === 1) back.add(top[0] + "\n" + next);
        else if (!state.has(next)) { state.set(next, 1); stack.push([next, 0]); }
      }
    }
    for (const [s, targets] of out) {
      for (const t of targets) if (!back.has(s + "\n" + t)) indeg.set(t, indeg.get(t) + 1);
    }
    const layer = new Map();
    const queue = ordered.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
    for (const id of queue) layer.set(id, 0);
    while (queue.length) {
      const at = queue.shift();
      for (const t of out.get(at)) {
        if (back.has(at + "\n" + t)) continue;
        layer.set(t, Math.max(layer.get(t) || 0, layer.get(at) + 1));
        indeg.set(t, indeg.get(t) - 1);
        if (indeg.get(t) === 0) queue.push(t);
      }
    }
    for (const n of nodes) if (!layer.has(n.id)) layer.set(n.id, 0);
    return layer;
  }

  // Order each layer by the mean row of what flows into it (two sweeps), so edges cross less.
  function rows(nodes, edges, layer) {
    const byLayer = new Map();
    for (const n of nodes) {
      const l = layer.get(n.id);
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l).push(n);
    }
    const keys = [...byLayer.keys()].sort((a, b) => a - b);
    const row = new Map();
    for (const l of keys) {
      byLayer.get(l).sort((a, b) =>
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.label.localeCompare(b.label));
      byLayer.get(l).forEach((n, i) => row.set(n.id, i));
    }
    const into = new Map();
    for (const e of edges) {
      const [s, t] = flow(e);
      if (!into.has(t)) into.set(t, []);
      into.get(t).push(s);
    }
    for (let sweep = 0; sweep < 2; sweep++) {
      for (const l of keys) {
        const list = byLayer.get(l);
        const weight = (n) => {
          const from = (into.get(n.id) || []).filter((s) => layer.get(s) < l);
          return from.length ? from.reduce((a, s) => a + row.get(s), 0) / from.length : row.get(n.id);
        };
        const w = new Map(list.map((n) => [n.id, weight(n)]));
        list.sort((a, b) => w.get(a.id) - w.get(b.id) || a.label.localeCompare(b.label));
        list.forEach((n, i) => row.set(n.id, i));
      }
    }
    return { byLayer, keys };
  }

  function detail(n) {
    if (n.kind === "artifact") return n.known ? "artifact" : "artifact · nothing declares it";
    if (n.kind === "event") return n.known ? "event" : "event · never received";
    if (!n.known) return "not registered";
    const c = n.counts;
    if (!c) return n.kind === "launch_plan" ? n.trigger || "" : "";
    const active = n.kind === "launch_plan" && !n.active ? "inactive · " : "";
    if (!c.last_run) return active + "never ran";
    return `${active}${c.last_run.status} · ${c.failures}/${c.recent} failed`;
  }

  function describe(n) {
    const words = { workflow: "workflow", artifact: "artifact", event: "event", launch_plan: "launch plan" };
    let text = `${words[n.kind]} ${n.name}`;
    if (n.kind === "launch_plan" && n.trigger) text += `, on ${n.trigger}`;
    const more = detail(n);
    return more ? `${text} (${more})` : text;
  }

  function draw(body) {
    const nodes = body.nodes, edges = body.edges;
    if (!nodes.length) {
      status.textContent = "Nothing registered here yet.";
      return;
    }
    const layer = layers(nodes, edges);
    const { byLayer, keys } = rows(nodes, edges, layer);
    const place = new Map();
    let tallest = 1;
    keys.forEach((l, column) => {
      const list = byLayer.get(l);
      tallest = Math.max(tallest, list.length);
      list.forEach((n, i) => place.set(n.id, { x: PAD + column * (W + GAP_X), y: PAD + i * (H + GAP_Y) }));
    });
    const width = Math.max(W, PAD * 2 + keys.length * (W + GAP_X) - GAP_X);
    const height = Math.max(H, PAD * 2 + tallest * (H + GAP_Y) - GAP_Y);
    svg.replaceChildren();
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const marker = el("marker", {
      id: "graph-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
    }, el("defs", {}, svg));
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }, marker);

    const lines = el("g", { class: "edges" }, svg);
    const names = new Map(nodes.map((n) => [n.id, n.name]));
    for (const e of edges) {
      const [s, t] = flow(e);
      const a = place.get(s), b = place.get(t);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      const path = el("path", {
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        class: `edge edge-${e.kind}`,
        "marker-end": "url(#graph-arrow)",
        "data-source": e.source, "data-target": e.target, "data-kind": e.kind,
      }, lines);
      const label = e.label ? ` (${e.label})` : "";
      el("title", {}, path).textContent = `${names.get(e.source)} ${e.kind} ${names.get(e.target)}${label}`;
    }

    const group = el("g", { class: "nodes" }, svg);
    for (const n of nodes) {
      const at = place.get(n.id);
      const classes = ["node", "node-" + n.kind];
      if (!n.known) classes.push("unknown");
      if (n.kind === "launch_plan" && !n.active) classes.push("inactive");
      if (n.counts && n.counts.failures) classes.push("failing");
      const g = el("g", {
        class: classes.join(" "), "data-id": n.id, "data-kind": n.kind, "data-name": n.name,
        transform: `translate(${at.x},${at.y})`,
      }, group);
      const link = el("a", { href: n.href, class: "node-link", "aria-label": describe(n) }, g);
      const round = n.kind === "artifact" ? 14 : n.kind === "event" ? 22 : 4;
      el("rect", { width: W, height: H, rx: round }, link);
      el("text", { x: 10, y: 18, class: "label" }, link).textContent = shorten(n.label, 24);
      el("text", { x: 10, y: 35, class: "detail" }, link).textContent = shorten(detail(n), 30);
      el("title", {}, link).textContent = describe(n);
    }
    const warned = body.warnings.length;
    status.textContent = `${nodes.length} nodes, ${edges.length} edges` +
      (warned ? `, ${warned} trigger warning${warned > 1 ? "s" : ""}` : "");
  }

  function fail(error) {
    status.textContent = "Could not load the graph: " + error.message;
    status.classList.add("error");
  }

  fetch(section.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(async (response) => {
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      return body;
    })
    .then(draw, fail);
})();
