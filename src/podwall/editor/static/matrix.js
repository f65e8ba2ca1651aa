// The matrix tab: a virtualized grid of pod groups (sources down, destinations across) read
// window by window from /api/grid, filters, a cell's pod pairs (/api/grid/cell) with "explain"
// through the Try tab, and the draft's diff as `podwall diff` words it (/api/diff).
// Only the visible cells are in the DOM; every verdict and port text comes from the server.

import { call } from "./api.js";
import { h } from "./dom.js";

const CW = 96; // cell width, px
const RH = 26; // row height
const HEAD_H = 44; // column header height
const HEAD_W = 240; // row header width
const OVERSCAN = 4;
const DIFF_PAGE = 50;

// Positions go through the CSSOM: the page's CSP forbids style attributes.
function place(el, box) {
  for (const [k, v] of Object.entries(box)) el.style[k] = `${v}px`;
  return el;
}

export function matrixState() {
  return { by: "workload", namespace: "", workload: "", text: "", changed: false, diffOffset: 0 };
}

export function matrixPanel(panel, app) {
  if (!app.state.loaded || !app.state.loaded.cluster.pods.length) {
    panel.append(h("p", { class: "hint" }, "Import manifests to see who can reach whom."));
    return;
  }
  const view = new GridView(app);
  panel.append(view.controls(), view.summary, view.root, view.detail, view.diffBox);
  view.refresh();
  view.loadDiff();
}

class GridView {
  constructor(app) {
    this.app = app;
    this.m = app.state.matrixForm;
    this.seq = 0;
    this.data = null; // the last window from the server
    this.pending = null;
    this.summary = h("p", { class: "hint grid-summary", "data-testid": "grid-summary", "aria-live": "polite" }, "Computing…");
    this.corner = h("div", { class: "grid-corner" }, "from ↓ to →");
    this.colInner = h("div", { class: "grid-inner" });
    this.rowInner = h("div", { class: "grid-inner" });
    this.bodyInner = h("div", { class: "grid-inner", role: "grid", "aria-label": "Allowed ports, group by group" });
    this.colHead = h("div", { class: "grid-colhead" }, this.colInner);
    this.rowHead = h("div", { class: "grid-rowhead" }, this.rowInner);
    this.body = h("div", { class: "grid-body", "data-testid": "grid-body", tabindex: "0", onscroll: () => this.onScroll() }, this.bodyInner);
    this.root = h("div", { class: "grid", "data-testid": "grid" }, this.corner, this.colHead, this.rowHead, this.body);
    this.detail = h("div", { class: "grid-detail", "aria-live": "polite", "data-testid": "grid-detail" });
    this.diffBox = h("div", { class: "diffs-box", "data-testid": "diff" });
  }

  controls() {
    const m = this.m;
    let timer = null;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.refresh(true), 250);
    };
    const text = (key, label, placeholder) =>
      h("label", {}, label, h("input", { type: "text", "data-key": `grid-${key}`, "data-testid": `grid-${key}`, value: m[key], placeholder, spellcheck: "false", autocomplete: "off", oninput: (ev) => { m[key] = ev.target.value; later(); } }));
    this.nsSelect = h("select", { "data-key": "grid-namespace", "data-testid": "grid-namespace", onchange: (ev) => { m.namespace = ev.target.value; this.refresh(true); } }, h("option", { value: "" }, "all"));
    return h(
      "form",
      { class: "try-form grid-filters", onsubmit: (ev) => { ev.preventDefault(); this.refresh(true); } },
      h("label", {}, "Group by ", h("select", { "data-key": "grid-by", "data-testid": "grid-by", onchange: (ev) => { m.by = ev.target.value; this.refresh(true); } }, [["workload", "namespace and workload"], ["namespace", "namespace"]].map(([v, t]) => h("option", { value: v, selected: v === m.by }, t)))),
      h("label", {}, "Namespace ", this.nsSelect),
      text("workload", "Workload ", "e.g. deployment web"),
      text("text", "Text ", "pod, label, name"),
      h("label", { class: "check" }, h("input", { type: "checkbox", "data-key": "grid-changed", "data-testid": "grid-changed", checked: m.changed, onchange: (ev) => { m.changed = ev.target.checked; this.refresh(true); } }), " only what the draft changes"),
      h("button", { type: "submit", class: "primary", "data-key": "matrix-go", "data-testid": "matrix-go" }, "Show"),
    );
  }

  // The rows and columns in view, with a margin, as server windows.
  visible() {
    const b = this.body;
    const r0 = Math.max(0, Math.floor(b.scrollTop / RH) - OVERSCAN);
    const c0 = Math.max(0, Math.floor(b.scrollLeft / CW) - OVERSCAN);
    const rn = Math.ceil((b.clientHeight || 480) / RH) + 2 * OVERSCAN;
    const cn = Math.ceil((b.clientWidth || 900) / CW) + 2 * OVERSCAN;
    return { rows: { offset: r0, limit: rn }, cols: { offset: c0, limit: cn } };
  }

  covers(win) {
    const d = this.data;
    if (!d) return false;
    const inside = (have, want, total) => want.offset >= have.offset && Math.min(want.offset + want.limit, total) <= have.offset + have.items.length;
    return inside(d.rows, win.rows, d.rows.total) && inside(d.cols, win.cols, d.cols.total);
  }

  onScroll() {
    this.colHead.scrollLeft = this.body.scrollLeft;
    this.rowHead.scrollTop = this.body.scrollTop;
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      const win = this.visible();
      if (this.covers(win)) this.draw(win);
      else this.fetch(win);
    });
  }

  refresh(reset = false) {
    if (reset) {
      this.body.scrollTop = 0;
      this.body.scrollLeft = 0;
      this.m.diffOffset = 0;
      this.detail.replaceChildren();
    }
    this.summary.textContent = "Computing…";
    this.fetch(this.visible());
  }

  async fetch(win) {
    const seq = ++this.seq;
    const m = this.m;
    // Ask for twice the view so small scrolls are drawn without a round trip.
    const grow = (w) => ({ offset: Math.max(0, w.offset - w.limit / 2 | 0), limit: w.limit * 2 });
    try {
      const data = await call("/api/grid", { form: this.app.state.form, by: m.by, namespace: m.namespace, workload: m.workload, text: m.text, changed: m.changed, rows: grow(win.rows), cols: grow(win.cols) });
      if (seq !== this.seq) return;
      this.data = data;
      this.fillNamespaces(data.namespaces);
      this.writeSummary(data);
      this.draw(this.visible());
      this.root.dataset.loaded = String(seq); // tests wait for the answer to a request
    } catch (err) {
      if (seq === this.seq) this.summary.replaceChildren(h("span", { class: "error-text", role: "alert" }, err.message));
    }
  }

  fillNamespaces(names) {
    if (this.nsSelect.options.length > 1) return;
    this.nsSelect.append(...names.map((n) => h("option", { value: n, selected: n === this.m.namespace }, n)));
  }

  writeSummary(d) {
    const what = d.by === "workload" ? "workload groups" : "namespaces";
    const draft = d.draft
      ? d.diff
        ? ` With the draft ${d.draft}: ${d.diff.newlyAllowed} pod pairs newly allowed (+), ${d.diff.newlyDenied} newly denied (−).`
        : ""
      : " The draft has errors: loaded policies only.";
    this.summary.textContent = `${d.rows.total} × ${d.cols.total} of ${d.groups} ${what} (${d.pods} pods). Cells: the ports allowed from the row's pods to the column's; ~ where its pods differ.${draft}`;
  }

  draw(win) {
    const d = this.data;
    if (!d) return;
    const width = d.cols.total * CW;
    const height = d.rows.total * RH;
    place(this.bodyInner, { width, height });
    place(this.colInner, { width: width + 40, height: HEAD_H });
    place(this.rowInner, { width: HEAD_W, height: height + 40 });
    const rowEnd = Math.min(win.rows.offset + win.rows.limit, d.rows.total);
    const colEnd = Math.min(win.cols.offset + win.cols.limit, d.cols.total);
    const rows = [];
    const cols = [];
    const cells = [];
    for (let c = win.cols.offset; c < colEnd; c++) {
      const g = d.cols.items[c - d.cols.offset];
      if (g) cols.push(place(h("div", { class: "grid-col", title: `${g.label} (${g.pods} pods)`, "data-testid": "grid-col" }, h("span", { class: "ns" }, g.namespace), h("span", {}, g.workload || `${g.pods} pods`)), { left: c * CW, width: CW }));
    }
    for (let r = win.rows.offset; r < rowEnd; r++) {
      const i = r - d.rows.offset;
      const g = d.rows.items[i];
      if (!g) continue;
      rows.push(place(h("div", { class: "grid-row", title: `${g.label} (${g.pods} pods)`, "data-testid": "grid-row", "data-index": r }, g.label, h("span", { class: "count" }, ` ${g.pods}`)), { top: r * RH, height: RH }));
      for (let c = win.cols.offset; c < colEnd; c++) {
        const j = c - d.cols.offset;
        const col = d.cols.items[j];
        if (col) cells.push(this.cell(g, col, d.cells[i][j], r, c));
      }
    }
    this.colInner.replaceChildren(...cols);
    this.rowInner.replaceChildren(...rows);
    this.bodyInner.replaceChildren(...cells);
  }

  cell(row, col, x, r, c) {
    const mark = x.gained ? "+" : x.lost ? "−" : "";
    const words = [`${row.label} to ${col.label}: ${x.state === "self" ? "the pod itself" : x.text === "none" ? "denied" : x.text}`];
    if (x.state === "mixed") words.push("(not the same for every pod pair)");
    if (x.gained) words.push(`, newly allowed by the draft: ${x.gained}`);
    if (x.lost) words.push(`, newly denied by the draft: ${x.lost}`);
    const word = words.join(" ");
    const el = h(
      "button",
      { type: "button", class: `gcell ${x.state}${mark ? " changed" : ""}`, title: word, "aria-label": word, "data-testid": "grid-cell", "data-r": r, "data-c": c, "data-from": row.label, "data-to": col.label, "data-state": x.state, onclick: () => this.open(row, col) },
      `${x.state === "mixed" ? "~" : ""}${x.short}${mark}`,
    );
    return place(el, { top: r * RH, left: c * CW, width: CW, height: RH });
  }

  async open(row, col) {
    this.detail.replaceChildren(h("p", { class: "hint" }, "Asking the engine…"));
    try {
      const x = await call("/api/grid/cell", { form: this.app.state.form, by: this.data.by, row: row.id, col: col.id });
      const pairs = x.pairs.map((p) =>
        h("li", { "data-testid": "grid-pair" }, h("span", { class: "flow-text" }, `${p.from} → ${p.to}: ${p.ports}`), " ", h("button", { type: "button", class: "small", "data-testid": "grid-explain", onclick: () => this.explain(p) }, `explain ${p.protocol} ${p.port}`)),
      );
      const changes = [x.gained ? `newly allowed by the draft: ${x.gained}` : "", x.lost ? `newly denied by the draft: ${x.lost}` : ""].filter(Boolean).join("; ");
      this.detail.replaceChildren(
        h("h3", {}, `${x.from.label} → ${x.to.label}: ${x.text || "the pod itself"}${changes ? ` (${changes})` : ""}`),
        h("p", { class: "hint" }, `${x.total} pod pair(s)${x.total > x.pairs.length ? `, the first ${x.pairs.length} listed` : ""}. "explain" asks the engine why, in the Try tab.`),
        h("ul", { class: "pairs" }, pairs),
      );
    } catch (err) {
      this.detail.replaceChildren(h("p", { class: "error-text", role: "alert" }, err.message));
    }
  }

  explain(pair) {
    const t = this.app.state.tryForm;
    Object.assign(t, { from: pair.from, to: pair.to, port: String(pair.port), protocol: pair.protocol, draft: true });
    this.app.showTab("try", true);
    const form = document.querySelector("#tabpanel form");
    if (form) form.requestSubmit();
  }

  async loadDiff() {
    const m = this.m;
    this.diffBox.replaceChildren(h("p", { class: "hint" }, "Comparing with the draft…"));
    try {
      const d = await call("/api/diff", { form: this.app.state.form, window: { offset: m.diffOffset, limit: DIFF_PAGE } });
      this.diffBox.replaceChildren(...this.diffLists(d));
      this.diffBox.dataset.loaded = "true";
    } catch (err) {
      this.diffBox.replaceChildren(h("p", { class: "error-text", role: "alert" }, err.message));
    }
  }

  diffLists(d) {
    if (!d.draft) return [h("p", { class: "hint" }, "The draft has errors, so there is no diff.")];
    const list = (title, part, cls) => {
      const items = part.items.map((r) =>
        h("li", {}, h("span", { class: "flow-text" }, `${r.from} → ${r.to}: ${r.ports}`), h("ul", { class: "why" }, [...r.why.map((w) => h("li", {}, `${cls === "allowed" ? "allowed by" : "was allowed by"} ${w}`)), ...r.now.map((w) => h("li", {}, `now ${w}`))])),
      );
      return h("div", { class: `difflist ${cls}`, "data-testid": `diff-${cls}` }, h("h4", {}, `${title}: ${part.pairs} pod pairs in ${part.total} change(s)`), items.length ? h("ul", {}, items) : h("p", { class: "hint" }, "none"));
    };
    const more = Math.max(d.newlyAllowed.total, d.newlyDenied.total) > this.m.diffOffset + DIFF_PAGE;
    const pager = h(
      "div",
      { class: "row-actions" },
      this.m.diffOffset ? h("button", { type: "button", class: "small", onclick: () => { this.m.diffOffset -= DIFF_PAGE; this.loadDiff(); } }, "previous") : null,
      more ? h("button", { type: "button", class: "small", onclick: () => { this.m.diffOffset += DIFF_PAGE; this.loadDiff(); } }, "next") : null,
    );
    return [h("h3", {}, `The draft ${d.draft} against the loaded policies`), h("div", { class: "diffs" }, list("Newly allowed", d.newlyAllowed, "allowed"), list("Newly denied", d.newlyDenied, "denied")), pager];
  }
}
