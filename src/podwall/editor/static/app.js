// The editor page: state, the round trip to the server on every edit, and rendering.
// The server parses, validates, renders YAML and decides every flow; this file only draws.

import { call } from "./api.js";
import { isCluster, renderClusterInspector, renderClusterPicture } from "./cnp.js";
import { h, placeErrors, restoreFocus, saveFocus } from "./dom.js";
import { renderInspector } from "./inspector.js";
import { copyYaml, downloadYaml, setupImport } from "./io.js";
import { applyDraft, liveState } from "./live.js";
import { matrixState } from "./matrix.js";
import { renderTabs } from "./panels.js";
import { renderPicture } from "./picture.js";
import { followFlows } from "./realflows.js";
import { renderTutorial } from "./tutorial.js";

const $ = (id) => document.getElementById(id);

const app = {
  state: {
    form: null,
    yaml: "",
    errors: [],
    notes: [],
    problem: null,
    picture: null,
    cluster: null,
    loaded: null,
    selection: null,
    tab: "flows",
    tutorialStep: 0,
    tryForm: { from: "", to: "", port: "8080", protocol: "TCP", draft: true },
    matrixForm: matrixState(),
    live: liveState(),
    realFlows: null,
    serverErrors: [],
  },
  seq: 0,

  // Every edit of the form: the server renders YAML, validates and decides the flows.
  async commit(focusKey) {
    const answer = await this.ask("/api/render", { form: this.state.form });
    if (answer) this.apply(answer, { fromYaml: false, focusKey });
  },

  async ask(path, body) {
    const seq = ++this.seq;
    try {
      const answer = await call(path, body);
      return seq === this.seq ? answer : null;
    } catch (err) {
      toast(err.message, true);
      return null;
    }
  },

  apply(answer, { fromYaml, focusKey, replaceForm } = {}) {
    const s = this.state;
    if (answer.form && (fromYaml || replaceForm || isCluster(answer.form) !== isCluster(s.form))) s.form = answer.form;
    else if (answer.form && !isCluster(answer.form)) {
      // The API server's policyTypes defaulting decides what is isolated: show that.
      for (const d of ["ingress", "egress"]) s.form[d].isolated = answer.form[d].isolated;
    }
    if (!fromYaml) s.yaml = answer.yaml;
    s.errors = answer.errors;
    s.serverErrors = [];
    s.notes = answer.notes;
    s.problem = answer.problem;
    s.picture = answer.picture;
    s.cluster = answer.cluster;
    if (fromYaml && answer.yaml !== undefined) s.yaml = answer.yaml;
    this.render({ keepYamlText: fromYaml, focusKey });
  },

  select(direction, rule, focusKey, commit = false) {
    this.state.selection = direction ? { direction, rule } : null;
    if (commit) this.commit(focusKey);
    else this.render({ keepYamlText: true, focusKey });
  },

  async openYaml(text, status) {
    const answer = await this.ask("/api/parse", { yaml: text });
    if (!answer) return false;
    if (!answer.form) {
      const message = answer.problem || "cannot read this policy";
      if (status) status.textContent = message;
      else toast(message, true);
      return false;
    }
    this.state.selection = null;
    this.apply(answer, { fromYaml: true });
    $("yaml").value = text;
    return true;
  },

  async addManifest(name, text, status) {
    try {
      this.state.loaded = await call("/api/manifests", { name, text });
    } catch (err) {
      if (status) status.textContent = err.message;
      else toast(err.message, true);
      return false;
    }
    toast(`added ${name} to the cluster`);
    await this.commit();
    return true;
  },

  async removeManifest(name) {
    this.state.loaded = await call("/api/manifests/remove", { name });
    await this.commit();
  },

  async reload() {
    this.state.loaded = await call("/api/reload", {});
    toast("reloaded the files");
    await this.commit();
  },

  isImported(name) {
    return Boolean(this.state.loaded && this.state.loaded.imported.includes(name));
  },

  async editLoaded(key) {
    const answer = await this.ask("/api/policy", { key });
    if (!answer) return;
    this.state.selection = null;
    this.apply(answer, { fromYaml: false, replaceForm: true });
  },

  async newPolicy(kind) {
    const answer = await this.ask("/api/new", kind ? { kind } : { namespace: "" });
    if (!answer) return;
    this.state.selection = null;
    this.apply(answer, { fromYaml: false, replaceForm: true, focusKey: "meta-name" });
  },

  showTab(id, focus = false) {
    this.state.tab = id;
    renderTabs($("tabs"), this);
    if (focus) $(`tab-${id}`).focus();
  },

  toggleTutorial(open) {
    const panel = $("tutorial");
    panel.hidden = !open;
    $("btn-tutorial").setAttribute("aria-expanded", String(open));
    if (open) renderTutorial(panel, this).then(() => panel.querySelector("h2").focus());
    else $("btn-tutorial").focus();
  },

  tutorialGo(n) {
    this.state.tutorialStep = n;
    renderTutorial($("tutorial"), this).then(() => $("tutorial").querySelector("[data-key=tut-next]").focus());
  },

  render({ keepYamlText = false, focusKey } = {}) {
    const saved = focusKey ? null : saveFocus();
    const s = this.state;
    renderMeta(this);
    const cluster = isCluster(s.form);
    (cluster ? renderClusterPicture : renderPicture)($("picture"), this);
    (cluster ? renderClusterInspector : renderInspector)($("inspector"), this);
    if (!keepYamlText) $("yaml").value = s.yaml;
    renderYamlStatus(this);
    renderTabs($("tabs"), this);
    placeErrors(document.body, mergeErrors(s.errors, s.serverErrors));
    if (focusKey) focus(focusKey);
    else restoreFocus(saved);
  },
};

// The editor's errors and the API server's (after Apply): one message per field, the
// editor's when both found one (they share one validation); the Live cluster tab has the rest.
function mergeErrors(mine, server) {
  const seen = new Set(mine.map((e) => e.path));
  return [...mine, ...server.filter((e) => !seen.has(e.path)).map((e) => ({ ...e, message: `API server: ${e.message}` }))];
}

function focus(key) {
  let el = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!el && key.endsWith("-first")) {
    const box = $("inspector");
    el = box.querySelector("input[type=text]") || box.querySelector("select, button");
  }
  if (el) el.focus();
}

function renderMeta(app) {
  const form = app.state.form;
  // A ClusterNetworkPolicy is cluster-scoped: no namespace.
  $("meta-namespace").closest("label").style.display = isCluster(form) ? "none" : "";
  for (const [id, field] of [["meta-name", "name"], ["meta-namespace", "namespace"]]) {
    const input = $(id);
    if (document.activeElement !== input) input.value = form[field] ?? "";
  }
}

function renderYamlStatus(app) {
  const s = app.state;
  const box = $("yaml-status");
  const items = [];
  if (s.problem) items.push(h("li", { class: "error-text" }, s.problem));
  for (const e of s.errors) items.push(h("li", { class: "error-text", "data-testid": "yaml-error" }, e.line ? `line ${e.line}: ` : "", e.message));
  for (const n of s.notes) items.push(h("li", { class: "note" }, n));
  box.replaceChildren(
    s.errors.length || s.problem
      ? h("p", { class: "status bad" }, `${s.errors.length || 1} error(s): the API server would reject this policy`)
      : h("p", { class: "status good", "data-testid": "yaml-valid" }, "Valid: the API server would accept this policy"),
    ...(items.length ? [h("ul", {}, items)] : []),
  );
}

function toast(message, bad = false) {
  const el = $("toast");
  el.textContent = message;
  el.className = bad ? "show bad" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.className = ""), bad ? 6000 : 2500);
}

function setupMeta() {
  for (const [id, field] of [["meta-name", "name"], ["meta-namespace", "namespace"]]) {
    $(id).addEventListener("change", (ev) => {
      app.state.form[field] = ev.target.value.trim();
      app.commit();
    });
    $(id).addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") ev.target.dispatchEvent(new Event("change"));
    });
  }
}

function setupYamlPane() {
  const area = $("yaml");
  let timer = null;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const answer = await app.ask("/api/parse", { yaml: area.value });
      if (!answer) return;
      if (!answer.form) {
        app.state.problem = answer.problem;
        app.state.errors = answer.errors;
        app.state.notes = answer.notes;
        renderYamlStatus(app);
        return;
      }
      app.apply(answer, { fromYaml: true });
    }, 350);
  });
}

function setupActions() {
  $("btn-new").addEventListener("click", () => app.newPolicy());
  $("btn-new-cnp").addEventListener("click", () => app.newPolicy("ClusterNetworkPolicy"));
  $("btn-copy").addEventListener("click", async () => toast((await copyYaml(app.state.yaml)) ? "YAML copied" : "copy failed", false));
  $("btn-download").addEventListener("click", () => downloadYaml(app.state.yaml, app.state.form.name));
  $("btn-add").addEventListener("click", () => app.addManifest(`draft-${app.state.form.name || "policy"}.yaml`, app.state.yaml));
  $("btn-tutorial").addEventListener("click", () => app.toggleTutorial($("tutorial").hidden));
  $("btn-apply").addEventListener("click", () => applyDraft(app));
}

async function start() {
  setupMeta();
  setupYamlPane();
  setupActions();
  setupImport(app);
  const loaded = await call("/api/state");
  app.state.loaded = loaded;
  if (loaded.attached) {
    app.state.tab = "live";
    $("btn-apply").hidden = false;
    $("btn-add").hidden = true; // the cluster is the one attached: Apply changes it
    const clients = loaded.cluster.pods.filter((p) => p.labels.app === "frontend");
    app.state.live.form.from = (clients[0] || loaded.cluster.pods[0] || { key: "" }).key;
  }
  const pods = loaded.cluster.pods;
  if (pods.length >= 2) {
    app.state.tryForm.from = pods[0].key;
    app.state.tryForm.to = pods[pods.length - 1].key;
  }
  const answer = await call("/api/new", { namespace: "" });
  app.apply(answer, { fromYaml: false, replaceForm: true });
  if (loaded.attached) followFlows(app);
  document.body.dataset.ready = "true";
}

window.podwallEditor = app;
start().catch((err) => toast(err.message, true));
