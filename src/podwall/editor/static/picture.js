// The policy as a picture: ingress sources left, the selected pods in the middle, egress
// destinations right, each flow coloured by the verdict the engine returned for it.

import { h } from "./dom.js";
import { ANYWHERE, GROUPS, blankPeer, groupOf, peerPath, peerText, portsText, rulePath, selectorEditor } from "./forms.js";
import { flowsBox } from "./realflows.js";

const MAX_PODS = 12;
const STATE_WORD = { allowed: "allowed", denied: "denied", partial: "allowed on some ports", unknown: "unknown until the errors are fixed" };

export function renderPicture(root, app) {
  root.replaceChildren(
    h("div", { class: "picture" }, side(app, "ingress"), center(app), side(app, "egress")),
  );
}

function side(app, direction) {
  const form = app.state.form;
  const isolated = form[direction].isolated;
  const title = direction === "ingress" ? "Ingress" : "Egress";
  const blurb = direction === "ingress" ? "who may connect to the selected pods" : "where the selected pods may connect";
  const toggle = h(
    "button",
    {
      type: "button",
      role: "switch",
      class: "switch",
      "aria-checked": isolated ? "true" : "false",
      "data-key": `switch-${direction}`,
      "data-testid": `deny-${direction}`,
      "aria-label": `Default deny ${direction}`,
      onclick: () => {
        form[direction].isolated = !isolated;
        app.commit();
      },
    },
    h("span", { class: "knob", "aria-hidden": "true" }),
    h("span", { class: "switch-text" }, "Default deny"),
    h("span", { class: "switch-state", "aria-hidden": "true" }, isolated ? "on" : "off"),
  );
  const groups = [...GROUPS.map((g) => group(app, direction, g)), anywhere(app, direction)];
  return h(
    "section",
    { class: `side side-${direction}`, "aria-labelledby": `${direction}-title` },
    h("header", { class: "side-head" }, h("div", {}, h("h2", { id: `${direction}-title` }, title), h("p", { class: "blurb" }, blurb)), toggle),
    h("div", { class: "groups" }, groups),
  );
}

function verdictOf(app, direction, i, j) {
  const pic = app.state.picture;
  if (!pic) return { state: "unknown", explanation: [] };
  for (const g of Object.values(pic[direction])) {
    for (const p of g.peers) if (p.rule === i && p.peer === j) return { state: p.allowed ? "allowed" : "denied", explanation: p.explanation };
  }
  return { state: "unknown", explanation: [] };
}

function arrow(state, direction, label, explanation) {
  const text = `${label}: ${STATE_WORD[state] || state}`;
  return h(
    "span",
    { class: `arrow ${state} arrow-${direction}`, title: [text, ...explanation].join("\n"), role: "img", "aria-label": text },
    h("span", { class: "line" }),
    h("span", { class: "head" }),
  );
}

function peerRows(app, direction, wanted) {
  const rows = [];
  app.state.form[direction].rules.forEach((rule, i) => {
    rule.peers.forEach((peer, j) => {
      if (groupOf(peer) !== wanted) return;
      const verdict = verdictOf(app, direction, i, j);
      const selected = app.state.selection && app.state.selection.direction === direction && app.state.selection.rule === i;
      const label = peerText(peer);
      const chip = h(
        "button",
        {
          type: "button",
          class: `chip ${verdict.state}${selected ? " selected" : ""}`,
          "data-key": `chip-${direction}-${i}-${j}`,
          "data-testid": `peer-${direction}-${i}-${j}`,
          "data-state": verdict.state,
          "data-error-for": peerPath(direction, i, j),
          "aria-label": `${direction} rule ${i + 1}, peer ${j + 1}: ${label}, ${portsText(rule)}; ${STATE_WORD[verdict.state]}. Edit`,
          "aria-pressed": selected ? "true" : "false",
          title: [`${label} (${portsText(rule)})`, ...verdict.explanation].join("\n"),
          onclick: () => app.select(direction, i, `insp-${direction}-${i}-p${j}`),
        },
        h("span", { class: "chip-main" }, label),
        h("span", { class: "chip-ports" }, `rule ${i + 1} · ${portsText(rule)}`),
      );
      rows.push(h("li", { class: "row" }, chip, arrow(verdict.state, direction, label, verdict.explanation)));
    });
  });
  return rows;
}

function othersRow(app, direction, groupId) {
  const pic = app.state.picture;
  const others = pic ? pic[direction][groupId]?.others : null;
  const state = others ? others.state : "unknown";
  const label = "everything else";
  const extra = others && others.state === "partial" ? ` (${others.allowedPorts.join(", ")})` : "";
  return h(
    "li",
    { class: "row others", "data-testid": `others-${direction}-${groupId}`, "data-state": state },
    h("span", { class: "others-label" }, label + extra),
    arrow(state, direction, `${direction} ${label} (${groupId})`, others ? others.explanation : []),
  );
}

function group(app, direction, g) {
  const add = h(
    "button",
    {
      type: "button",
      class: "add",
      "data-key": `add-${direction}-${g.id}`,
      "data-testid": `add-${direction}-${g.id}`,
      "aria-label": `Add ${direction} rule: ${g.short}`,
      onclick: () => {
        // A rule only counts where the policy isolates: adding one isolates that side, as the
        // API server's defaulting does for a policy without policyTypes.
        app.state.form[direction].isolated = true;
        const rules = app.state.form[direction].rules;
        rules.push({ peers: [blankPeer(g.id)], ports: [] });
        app.select(direction, rules.length - 1, `insp-${direction}-${rules.length - 1}-first`, true);
      },
    },
    "+ Add",
  );
  return h(
    "div",
    { class: `group group-${g.id}`, "data-testid": `group-${direction}-${g.id}` },
    h("div", { class: "group-head" }, h("h3", {}, g.title), add),
    h("ul", { class: "rows" }, peerRows(app, direction, g.id), othersRow(app, direction, g.id)),
  );
}

function anywhere(app, direction) {
  const rows = [];
  app.state.form[direction].rules.forEach((rule, i) => {
    if (rule.peers.length) return;
    const selected = app.state.selection && app.state.selection.direction === direction && app.state.selection.rule === i;
    const who = direction === "ingress" ? "any source" : "any destination";
    rows.push(
      h(
        "li",
        { class: "row" },
        h(
          "button",
          {
            type: "button",
            class: `chip allowed${selected ? " selected" : ""}`,
            "data-key": `chip-${direction}-${i}-all`,
            "data-testid": `peer-${direction}-${i}-all`,
            "data-error-for": rulePath(direction, i),
            "aria-label": `${direction} rule ${i + 1}: ${who}, ${portsText(rule)}. Edit`,
            onclick: () => app.select(direction, i),
          },
          h("span", { class: "chip-main" }, who),
          h("span", { class: "chip-ports" }, `rule ${i + 1} · ${portsText(rule)}`),
        ),
      ),
    );
  });
  const add = h(
    "button",
    {
      type: "button",
      class: "add",
      "data-key": `add-${direction}-${ANYWHERE}`,
      "aria-label": `Add ${direction} rule: ${direction === "ingress" ? "from anywhere" : "to anywhere"}`,
      onclick: () => {
        // A rule only counts where the policy isolates: adding one isolates that side, as the
        // API server's defaulting does for a policy without policyTypes.
        app.state.form[direction].isolated = true;
        const rules = app.state.form[direction].rules;
        rules.push({ peers: [], ports: [] });
        app.select(direction, rules.length - 1, `insp-${direction}-${rules.length - 1}-addport`, true);
      },
    },
    "+ Add",
  );
  return h(
    "div",
    { class: "group group-anywhere" },
    h("div", { class: "group-head" }, h("h3", {}, direction === "ingress" ? "From anywhere" : "To anywhere"), add),
    rows.length ? h("ul", { class: "rows" }, rows) : h("p", { class: "hint" }, "A rule without peers admits every peer on its ports."),
  );
}

function center(app) {
  const form = app.state.form;
  const cluster = app.state.cluster;
  const ns = form.namespace || "default";
  const pods = cluster ? cluster.selected : null;
  let matched;
  if (!app.state.loaded || !app.state.loaded.cluster.pods.length) {
    matched = h("p", { class: "hint" }, "No manifests loaded: import them to see the pods this selects.");
  } else if (!pods) {
    matched = h("p", { class: "hint" }, "Fix the errors to see the pods this selects.");
  } else if (!pods.length) {
    matched = h("p", { class: "hint", "data-testid": "selected-none" }, `No loaded pod in namespace ${ns} matches.`);
  } else {
    matched = h(
      "ul",
      { class: "pods", "aria-label": "Selected pods in the loaded cluster" },
      pods.slice(0, MAX_PODS).map((p) =>
        h(
          "li",
          { class: "pod", "data-testid": "selected-pod" },
          h("strong", {}, p.name),
          h("span", { class: "labels" }, Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(" ")),
          policiesLine(p.policies),
        ),
      ),
    );
  }
  const more = pods && pods.length > MAX_PODS ? h("p", { class: "hint" }, `and ${pods.length - MAX_PODS} more`) : null;
  const warn = app.state.picture && !app.state.picture.selectsExample ? h("p", { class: "warn" }, "This pod selector can match no pod.") : null;
  return h(
    "section",
    { class: "center", "aria-labelledby": "selected-title" },
    h("h2", { id: "selected-title" }, "Selected pods"),
    h("p", { class: "where" }, `namespace ${ns}`, " · ", form.podSelector.matchLabels.length || form.podSelector.matchExpressions.length ? "pods matching:" : "every pod (empty selector)"),
    selectorEditor(form.podSelector, "spec.podSelector", "podsel", (k) => app.commit(k), { caption: "pod selector" }),
    warn,
    h("div", { class: "matched" }, matched, more),
    flowsBox(app),
  );
}

function policiesLine(policies) {
  const parts = [];
  for (const d of ["ingress", "egress"]) {
    if (policies[d].length) parts.push(`${d}: ${policies[d].join(", ")}`);
  }
  return h("span", { class: "isolated-by" }, parts.length ? `isolated by ${parts.join("; ")}` : "not isolated");
}
