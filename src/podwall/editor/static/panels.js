// The panels under the picture: flows in the loaded cluster, try a connection, the matrix
// with the draft's diff (matrix.js), and the loaded manifests. Every verdict comes from the API.

import { call } from "./api.js";
import { tierLines } from "./cnp.js";
import { h } from "./dom.js";
import { livePanel } from "./live.js";
import { matrixPanel } from "./matrix.js";

export const TABS = [
  { id: "flows", title: "In the cluster" },
  { id: "try", title: "Try a connection" },
  { id: "matrix", title: "Matrix & draft diff" },
  { id: "manifests", title: "Manifests" },
];

export const LIVE_TAB = { id: "live", title: "Live cluster" };

function tabsOf(app) {
  return app.state.loaded && app.state.loaded.attached ? [LIVE_TAB, ...TABS] : TABS;
}

export function renderTabs(root, app) {
  const tabs = tabsOf(app);
  const current = tabs.some((t) => t.id === app.state.tab) ? app.state.tab : tabs[0].id;
  const buttons = tabs.map((t, n) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${t.id}`,
        "data-key": `tab-${t.id}`,
        "data-testid": `tab-${t.id}`,
        "aria-selected": t.id === current ? "true" : "false",
        "aria-controls": "tabpanel",
        tabindex: t.id === current ? "0" : "-1",
        onclick: () => app.showTab(t.id),
        onkeydown: (ev) => {
          const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
          if (!step) return;
          ev.preventDefault();
          const next = tabs[(n + step + tabs.length) % tabs.length];
          app.showTab(next.id, true);
        },
      },
      t.title,
    ),
  );
  const panel = h("div", { id: "tabpanel", role: "tabpanel", "aria-labelledby": `tab-${current}`, class: "tabpanel" });
  root.replaceChildren(h("div", { role: "tablist", "aria-label": "Views", class: "tablist" }, buttons), panel);
  const render = { live: livePanel, flows: flowsPanel, try: tryPanel, matrix: matrixPanel, manifests: manifestsPanel }[current];
  render(panel, app);
}

function verdictBadge(allowed) {
  return h("span", { class: `badge ${allowed ? "allowed" : "denied"}` }, allowed ? "ALLOWED" : "DENIED");
}

function flowItem(f) {
  return h(
    "li",
    { class: `flow ${f.allowed ? "allowed" : "denied"}`, "data-testid": "flow-row", "data-from": f.from, "data-to": f.to, "data-port": f.port, "data-allowed": String(f.allowed) },
    h(
      "details",
      {},
      h("summary", {}, verdictBadge(f.allowed), h("span", { class: "flow-text" }, `${f.from} → ${f.to}  ${f.protocol} ${f.port}`)),
      h("pre", { class: "explain" }, f.explanation.join("\n")),
    ),
  );
}

function flowsPanel(panel, app) {
  const c = app.state.cluster;
  if (!app.state.loaded || !app.state.loaded.cluster.pods.length) {
    panel.append(h("p", { class: "hint" }, "Import manifests (Import…, or drop files on the page) to see the draft's flows between real pods."));
    return;
  }
  if (!c) {
    panel.append(h("p", { class: "hint" }, "The draft has errors; fix them to see its flows."));
    return;
  }
  panel.append(
    h("p", { class: "hint" }, "Every loaded pod to and from the selected pods, on the destination's declared ports (TCP 80 when it declares none), with the draft applied next to the loaded policies (same name replaces). Open a row for the engine's reasons."),
  );
  if (c.flows.truncated) panel.append(h("p", { class: "warn" }, "Many pods: only the first flows are listed. Try a connection, or the matrix, for the rest."));
  for (const d of ["ingress", "egress"]) {
    const flows = c.flows[d];
    panel.append(h("h3", {}, d === "ingress" ? `Ingress to the selected pods (${flows.length})` : `Egress from the selected pods (${flows.length})`));
    panel.append(flows.length ? h("ul", { class: "flows", "data-testid": `flows-${d}` }, flows.map(flowItem)) : h("p", { class: "hint" }, "None."));
  }
}

function podOptions(app) {
  const pods = app.state.loaded ? app.state.loaded.cluster.pods : [];
  return h("datalist", { id: "pod-list" }, pods.map((p) => h("option", { value: p.key })));
}

function tryPanel(panel, app) {
  const t = app.state.tryForm;
  const field = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { type: "text", list: "pod-list", "data-key": `try-${name}`, "data-testid": `try-${name}`, value: t[name], spellcheck: "false", autocomplete: "off", oninput: (ev) => { t[name] = ev.target.value; }, ...attrs }));
  const result = h("div", { class: "try-result", "aria-live": "polite", "data-testid": "try-result" });
  const run = async (ev) => {
    ev.preventDefault();
    result.replaceChildren(h("p", { class: "hint" }, "Asking the engine…"));
    try {
      const answer = await call("/api/try", { from: t.from, to: t.to, port: t.port, protocol: t.protocol, form: t.draft ? app.state.form : null });
      result.replaceChildren(
        h("p", { class: "verdict-line" }, verdictBadge(answer.allowed), answer.draft ? h("span", { class: "hint" }, ` ${answer.draft}`) : null),
        ...answer.decisions.flatMap((d) => tierLines(d).map((line) => h("p", { class: "tier-line", "data-testid": "try-tier" }, line))),
        ...answer.decisions.map((d) => h("pre", { class: `explain ${d.allowed ? "allowed" : "denied"}`, "data-testid": "try-explanation" }, d.explanation.join("\n"))),
      );
    } catch (err) {
      result.replaceChildren(h("p", { class: "error-text", role: "alert" }, err.message));
    }
  };
  panel.append(
    podOptions(app),
    h(
      "form",
      { class: "try-form", onsubmit: run },
      field("from", "From (pod, ns/pod, deploy/name or IP) "),
      field("to", "To (pod, ns/pod, svc/name) "),
      field("port", "Port ", { list: null, class: "port" }),
      h("label", {}, "Protocol ", h("select", { "data-key": "try-protocol", onchange: (ev) => { t.protocol = ev.target.value; } }, ["TCP", "UDP", "SCTP"].map((p) => h("option", { value: p, selected: p === t.protocol }, p)))),
      h("label", { class: "check" }, h("input", { type: "checkbox", "data-key": "try-draft", checked: t.draft, onchange: (ev) => { t.draft = ev.target.checked; } }), " with the draft"),
      h("button", { type: "submit", class: "primary", "data-key": "try-go", "data-testid": "try-go" }, "Try"),
    ),
    result,
  );
}

function manifestsPanel(panel, app) {
  const loaded = app.state.loaded;
  if (!loaded) return;
  panel.append(
    h("div", { class: "row-actions" }, h("h3", {}, "Files"), h("button", { type: "button", class: "small", "data-key": "reload", onclick: () => app.reload() }, "Reload from disk")),
    loaded.files.length
      ? h("ul", { class: "files" }, loaded.files.map((f) => h("li", {}, f, app.isImported(f) ? h("button", { type: "button", class: "small", "data-key": `rm-${f}`, "aria-label": `Remove ${f}`, onclick: () => app.removeManifest(f) }, "remove") : null)))
      : h("p", { class: "hint" }, "None yet: Import… or drop files on the page."),
    loaded.errors.length ? h("div", { class: "load-errors", role: "alert" }, h("h3", {}, "Problems"), h("ul", {}, loaded.errors.map((e) => h("li", {}, e)))) : null,
    h("h3", {}, `Policies (${loaded.cluster.policies.length})`),
    h(
      "ul",
      { class: "policies" },
      loaded.cluster.policies.map((p) =>
        h("li", {}, h("strong", {}, p.key), ` selects ${p.podSelector}, ${p.policyTypes.join(" and ")} `, h("button", { type: "button", class: "small", "data-key": `edit-${p.key}`, onclick: () => app.editLoaded(p.key) }, "edit as draft")),
      ),
    ),
    h("h3", {}, `Cluster policies (${loaded.cluster.clusterPolicies.length})`),
    h(
      "ul",
      { class: "policies" },
      loaded.cluster.clusterPolicies.map((p) =>
        h("li", {}, h("strong", {}, p.key), ` ${p.tier} tier, priority ${p.priority}, subject ${p.subject} `, h("button", { type: "button", class: "small", "data-key": `edit-${p.key}`, onclick: () => app.editLoaded(p.key) }, "edit as draft")),
      ),
    ),
    h("h3", {}, `Pods (${loaded.cluster.pods.length})`),
    h(
      "ul",
      { class: "podlist" },
      loaded.cluster.pods.map((p) => podItem(app, p)),
    ),
  );
}

function podItem(app, pod) {
  const out = h("span", { class: "pod-policies", "aria-live": "polite", "data-testid": `pod-policies-${pod.key}` });
  const show = async () => {
    try {
      const answer = await call("/api/pod", { pod: pod.key, form: app.state.form });
      const parts = ["ingress", "egress"].map((d) => `${d}: ${answer.policies[d].length ? answer.policies[d].join(", ") : "not isolated"}`);
      out.textContent = ` → ${parts.join("; ")} (with the draft)`;
    } catch (err) {
      out.textContent = ` → ${err.message}`;
    }
  };
  const labels = Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`).join(" ");
  const ports = pod.ports.length ? ` · ports ${pod.ports.map((x) => `${x.name ? `${x.name} ` : ""}${x.port}/${x.protocol}`).join(", ")}` : "";
  return h(
    "li",
    {},
    h("strong", {}, pod.key),
    ` ${labels}${ports} `,
    h("button", { type: "button", class: "small", "data-key": `pol-${pod.key}`, "aria-label": `Policies that select ${pod.key}`, onclick: show }, "policies"),
    out,
  );
}
