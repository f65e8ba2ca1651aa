// Attached to a running cluster: apply the draft, run the lab's curl checks (or any pod to a
// service or pod), and show each command's output and exit status next to the engine's
// prediction. The server runs everything; this file only draws.

import { call } from "./api.js";
import { h } from "./dom.js";

export function liveState() {
  return { apply: null, results: null, running: null, error: null, form: { from: "", to: "svc/backend", port: "8080" } };
}

// "Apply to cluster": the API server's answer; a refusal's causes go to their fields.
export async function applyDraft(app) {
  const live = app.state.live;
  live.running = "apply";
  app.showTab("live");
  let answer;
  try {
    answer = await call("/api/cluster/apply", { form: app.state.form });
  } catch (err) {
    answer = { applied: null, status: { message: err.message }, errors: [] };
  }
  live.running = null;
  live.apply = answer;
  app.state.loaded = await call("/api/state");
  await app.commit(); // the draft against the cluster as it is now
  app.state.serverErrors = answer.errors || [];
  app.render({ keepYamlText: true });
  app.showTab("live");
  return answer;
}

async function runChecks(app, body) {
  const live = app.state.live;
  live.running = body.tutorial ? "tutorial" : "check";
  live.error = null;
  live.results = null;
  app.showTab("live");
  try {
    live.results = (await call("/api/cluster/checks", body)).results;
  } catch (err) {
    live.results = null;
    live.error = err.message;
  }
  live.running = null;
  app.showTab("live");
}

function badge(value, yes, no, unknown) {
  const cls = value === true ? "allowed" : value === false ? "denied" : "unknown";
  return h("span", { class: `badge ${cls}` }, value === true ? yes : value === false ? no : unknown);
}

function applyResult(answer) {
  if (!answer) return null;
  if (answer.applied) {
    const a = answer.applied;
    return h("p", { class: "status good", "data-testid": "live-applied", role: "status" }, `networkpolicy.networking.k8s.io/${a.key.split("/")[1]} ${a.action} (namespace ${a.key.split("/")[0]}, resourceVersion ${a.resourceVersion})`);
  }
  const s = answer.status || {};
  return h(
    "div",
    { class: "load-errors", role: "alert", "data-testid": "live-refused" },
    h("p", { class: "error-text" }, `Error from server${s.reason ? ` (${s.reason})` : ""}: ${s.message || "refused"}`),
    answer.errors.length ? h("ul", {}, answer.errors.map((e) => h("li", {}, h("code", {}, e.path), `: ${e.message}`))) : null,
  );
}

function resultRow(r) {
  const exit = r.exitCode === null ? (r.error ? "did not run" : "?") : `exit ${r.exitCode}`;
  const agree = r.agrees === null ? "" : r.agrees ? "✓ as predicted" : "✗ NOT as predicted";
  return h(
    "li",
    { class: `live-check${r.agrees === false ? " disagrees" : ""}`, "data-testid": "live-result", "data-from": r.from, "data-exit": String(r.exitCode), "data-predicted": String(r.predicted), "data-agrees": String(r.agrees) },
    h("div", { class: "check-head" },
      h("code", { class: "command" }, `$ ${r.command}`),
    ),
    h("div", { class: "check-verdicts" },
      h("span", {}, "observed ", badge(r.observed, "CONNECTED", "TIMED OUT", exit)),
      h("span", { class: "exit", "data-testid": "live-exit" }, exit),
      h("span", {}, "engine ", badge(r.predicted, "ALLOWED", "DENIED", "MIXED")),
      h("strong", { class: r.agrees === false ? "error-text" : "" }, agree),
    ),
    h("pre", { class: "output", "data-testid": "live-output" }, r.error ? `error: ${r.error}\n${r.output}` : r.output || "(no output)"),
    h("details", {}, h("summary", {}, "The engine's reasons"), r.decisions.map((d) => h("pre", { class: `explain ${d.allowed ? "allowed" : "denied"}` }, d.explanation.join("\n")))),
  );
}

export function livePanel(panel, app) {
  const live = app.state.live;
  const attached = app.state.loaded.attached;
  const f = live.form;
  const field = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { type: "text", list: "live-pod-list", "data-key": `live-${name}`, "data-testid": `live-${name}`, value: f[name], spellcheck: "false", autocomplete: "off", oninput: (ev) => { f[name] = ev.target.value; }, ...attrs }));
  const busy = Boolean(live.running);
  const pods = app.state.loaded.cluster.pods;
  const parts = [
    h("p", { class: "hint" }, `Attached to ${attached.server} (kubeconfig ${attached.kubeconfig}). The pods, services and policies shown are the cluster's, read again every few seconds.`),
    h(
      "div",
      { class: "row-actions" },
      h("button", { type: "button", class: "primary", "data-key": "live-apply", "data-testid": "live-apply", disabled: busy, onclick: () => applyDraft(app) }, "Apply the draft to the cluster"),
      h("button", { type: "button", "data-key": "live-tutorial", "data-testid": "live-tutorial", disabled: busy, onclick: () => runChecks(app, { tutorial: true }) }, "Run the tutorial's checks"),
    ),
    live.running === "apply" ? h("p", { class: "hint" }, "Applying…") : applyResult(live.apply),
    h("datalist", { id: "live-pod-list" }, pods.map((p) => h("option", { value: p.key }))),
    h(
      "form",
      { class: "try-form", onsubmit: (ev) => { ev.preventDefault(); runChecks(app, { from: f.from, to: f.to, port: f.port }); } },
      field("from", "From pod (pod, ns/pod, deploy/name) "),
      field("to", "To (svc/name, pod, ns/pod) "),
      field("port", "Port ", { list: null, class: "port" }),
      h("button", { type: "submit", "data-key": "live-check-go", "data-testid": "live-check-go", disabled: busy }, "Check with curl"),
    ),
    h("p", { class: "hint" }, "Each check runs curl -I --connect-timeout 5 in the source pod through the API server's exec, as kubectl exec does: a service by its name, a pod by its address."),
    live.running === "tutorial" || live.running === "check"
      ? h("p", { class: "hint", "data-testid": "live-running" }, "Running curl in the pods (a denied connection takes its 5 s timeout)…")
      : null,
    live.error ? h("p", { class: "error-text", role: "alert" }, live.error) : null,
    live.results ? h("ul", { class: "checks", "data-testid": "live-results", "aria-live": "polite" }, live.results.map(resultRow)) : null,
  ];
  panel.append(...parts.filter(Boolean));
}
