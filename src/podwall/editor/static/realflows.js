// Attached to a cluster: the real connections of the selected pods, as the nodes reported them
// (`podwall observe`), under the picture's selected pods: green allowed, red denied, amber
// audited, each with the policy and rule that decided. Polled every few seconds; the box is
// replaced in place, so polling never disturbs the form or the focus.

import { call } from "./api.js";
import { h } from "./dom.js";

const POLL_MS = 2000;
const LAST = 20;
const CLASS = { ALLOWED: "allowed", DENIED: "denied", AUDIT: "partial" };

function end(e) {
  const who = e.pod ? `${e.namespace}/${e.pod}` : e.ip;
  return e.port === undefined ? who : `${who}:${e.port}`;
}

function row(f) {
  const cls = CLASS[f.verdict] || "unknown";
  const when = new Date(f.time).toLocaleTimeString();
  const via = f.service ? ` (service ${f.service})` : "";
  return h(
    "li",
    { class: `real-flow ${cls}`, "data-testid": "real-flow", "data-verdict": f.verdict, "data-direction": f.direction, title: f.text },
    h("span", { class: "when" }, `${when} · ${f.direction} · ${f.node}`),
    h("span", { class: `badge ${cls}` }, f.verdict),
    h("span", { class: "ends" }, `${end(f.source)} → ${end(f.destination)}${via} ${f.protocol}`),
    h("span", { class: "why" }, f.reason),
  );
}

// The box the picture shows under the selected pods (nothing when not attached).
export function flowsBox(app) {
  if (!app.state.loaded || !app.state.loaded.attached) return null;
  const answer = app.state.realFlows;
  let body;
  if (!answer) body = h("p", { class: "hint" }, "Reading the cluster's flows…");
  else if (answer.flows === null) body = h("p", { class: "hint" }, answer.note);
  else if (!answer.flows.length) body = h("p", { class: "hint", "data-testid": "real-flows-none" }, "No connection of the selected pods reported yet.");
  else body = h("ul", { class: "real-flows-list" }, answer.flows.slice().reverse().map(row));
  return h(
    "div",
    { class: "real-flows", "data-testid": "picture-flows", "aria-live": "polite" },
    h("h3", {}, "Real connections (newest first)"),
    body,
  );
}

function selectedKeys(app) {
  const pods = app.state.cluster ? app.state.cluster.selected : null;
  return pods ? pods.map((p) => p.key) : [];
}

async function refresh(app) {
  try {
    app.state.realFlows = await call("/api/cluster/flows", { pods: selectedKeys(app), last: LAST });
  } catch (err) {
    app.state.realFlows = { flows: null, note: `flows: ${err.message}` };
  }
  const box = document.querySelector("[data-testid=picture-flows]");
  const fresh = flowsBox(app);
  if (box && fresh) box.replaceWith(fresh);
}

export function followFlows(app) {
  refresh(app);
  setInterval(() => refresh(app), POLL_MS);
}
