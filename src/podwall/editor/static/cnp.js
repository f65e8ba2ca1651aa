// A ClusterNetworkPolicy draft: its rules in order, as the server reads them (the picture),
// and the editor of its tier, priority, subject and the rule being edited (the inspector).
// The form is only data here; the server validates it and the engine decides every flow.

import { h } from "./dom.js";
import { PROTOCOLS, blankSelector, removeButton, selectorEditor, textField } from "./forms.js";

export const KIND = "ClusterNetworkPolicy";
const TIERS = ["Admin", "Baseline"];
const ACTIONS = ["Accept", "Deny", "Pass"];
const PEER_TYPES = {
  ingress: [["namespaces", "Namespaces"], ["pods", "Pods"]],
  egress: [["namespaces", "Namespaces"], ["pods", "Pods"], ["nodes", "Nodes"], ["networks", "Networks (CIDR)"], ["domainNames", "Domain names"]],
};
const peersField = (d) => (d === "ingress" ? "from" : "to");
const rulePath = (d, i) => `spec.${d}[${i}]`;

export const isCluster = (form) => Boolean(form && form.kind === KIND);

function blankPeer(type) {
  return { type, namespaceSelector: blankSelector(false), podSelector: blankSelector(false), nodeSelector: blankSelector(false), values: type === "networks" || type === "domainNames" ? [""] : [] };
}

function blankRule() {
  return { name: "", action: "Deny", peers: [blankPeer("namespaces")], ports: [] };
}

// The picture: the subject in the middle, each direction's rules in their order of precedence.
export function renderClusterPicture(root, app) {
  const s = app.state;
  const read = s.picture && s.picture.clusterPolicy;
  const selected = s.cluster ? s.cluster.selected.map((p) => p.key) : [];
  const column = (direction) => {
    const rules = s.form[direction].rules;
    const shown = read ? read[direction] : [];
    return h(
      "section",
      { class: "cnp-rules", "aria-label": `${direction} rules` },
      h("h3", {}, direction === "ingress" ? "Ingress rules (first match decides)" : "Egress rules (first match decides)"),
      rules.length ? null : h("p", { class: "hint" }, `No ${direction} rules: this policy does not affect ${direction}.`),
      h(
        "ol",
        {},
        rules.map((rule, i) => {
          const r = shown[i];
          const current = s.selection && s.selection.direction === direction && s.selection.rule === i;
          return h(
            "li",
            { class: `cnp-rule action-${(rule.action || "").toLowerCase()}${current ? " current" : ""}`, "data-error-for": rulePath(direction, i) },
            h(
              "button",
              { type: "button", class: "cnp-rule-button", "data-key": `cnp-${direction}-${i}`, "data-testid": `cnp-rule-${direction}-${i}`, onclick: () => app.select(direction, i) },
              h("strong", {}, rule.action || "(no action)"),
              ` ${rule.name ? `'${rule.name}' ` : ""}${peersField(direction)} `,
              r ? r.peers.join("; ") : "(invalid: see the errors)",
              r ? ` · ${r.ports.join(", ")}` : "",
            ),
          );
        }),
      ),
      h("button", { type: "button", class: "small", "data-key": `cnp-add-${direction}`, "data-testid": `cnp-add-${direction}`, onclick: () => { rules.push(blankRule()); app.select(direction, rules.length - 1, `cnp-${direction}-${rules.length - 1}-name`, true); } }, `+ ${direction} rule`),
    );
  };
  root.replaceChildren(
    h(
      "div",
      { class: "cnp-picture", "data-testid": "cnp-picture" },
      h("h2", {}, `ClusterNetworkPolicy · ${s.form.tier || "?"} tier · priority ${s.form.priority || "?"}`),
      h("p", { class: "hint" }, tierHint(s.form.tier)),
      h("p", { class: "cnp-subject", "data-testid": "cnp-subject" }, "Subject: ", h("strong", {}, read ? read.subject : "(invalid: see the errors)"), selected.length ? ` · selects ${selected.join(", ")}` : " · selects no loaded pod"),
      h("div", { class: "cnp-columns" }, column("ingress"), column("egress")),
    ),
  );
}

function tierHint(tier) {
  if (tier === "Admin") return "Admin tier: evaluated before every NetworkPolicy; Accept and Deny are final, Pass hands the connection to NetworkPolicy.";
  if (tier === "Baseline") return "Baseline tier: evaluated only for pods no NetworkPolicy selects; Pass hands the connection to the default (allow).";
  return "Pick a tier: Admin or Baseline.";
}

// The inspector: the policy's tier, priority and subject, then the rule being edited.
export function renderClusterInspector(root, app) {
  const form = app.state.form;
  const commit = (k) => app.commit(k);
  root.replaceChildren(
    h("h2", { id: "inspector-title" }, "Cluster policy"),
    h(
      "div",
      { class: "cnp-head" },
      h("label", { "data-error-for": "spec.tier" }, "Tier ", choice(TIERS, form.tier, "cnp-tier", "Tier", (v) => { form.tier = v; commit("cnp-tier"); })),
      h("label", { "data-error-for": "spec.priority" }, "Priority ", textField({ obj: form, field: "priority", key: "cnp-priority", label: "Priority, 0 to 1000 (lower first)", path: "spec.priority", commit: () => commit("cnp-priority"), testid: "cnp-priority" })),
    ),
    subjectEditor(form.subject, commit),
    ruleEditor(app, commit),
  );
}

function choice(values, current, key, label, onchange, labels = null) {
  return h(
    "select",
    { "data-key": key, "data-testid": key, "aria-label": label, onchange: (ev) => onchange(ev.target.value) },
    values.map((v, n) => h("option", { value: v, selected: v === current }, labels ? labels[n] : v)),
  );
}

function subjectEditor(subject, commit) {
  const type = choice(["namespaces", "pods"], subject.type, "cnp-subject-type", "Subject", (v) => { subject.type = v; commit("cnp-subject-type"); }, ["every pod of namespaces…", "pods…"]);
  const base = subject.type === "pods" ? "spec.subject.pods" : "spec.subject.namespaces";
  return h(
    "fieldset",
    { class: "cnp-subject-edit", "data-error-for": "spec.subject" },
    h("legend", {}, "Subject: the pods this policy applies to"),
    type,
    h("p", { class: "hint" }, "Namespaces with labels:"),
    selectorEditor(subject.namespaceSelector, subject.type === "pods" ? `${base}.namespaceSelector` : base, "cnp-subject-ns", commit, { caption: "subject namespaces" }),
    subject.type === "pods" ? [h("p", { class: "hint" }, "Pods with labels:"), selectorEditor(subject.podSelector, `${base}.podSelector`, "cnp-subject-pods", commit, { caption: "subject pods" })] : null,
  );
}

function ruleEditor(app, commit) {
  const sel = app.state.selection;
  const form = app.state.form;
  const rules = sel ? form[sel.direction].rules : [];
  if (!sel || !rules[sel.rule]) return h("p", { class: "hint" }, "Pick a rule in the picture, or + add one, to edit it here.");
  const { direction, rule: i } = sel;
  const rule = rules[i];
  const path = rulePath(direction, i);
  const key = `cnp-${direction}-${i}`;
  return h(
    "fieldset",
    { class: "cnp-rule-edit", "data-error-for": path },
    h("legend", {}, `${direction === "ingress" ? "Ingress" : "Egress"} rule ${i + 1}`),
    h(
      "div",
      { class: "row-actions" },
      h("button", { type: "button", class: "small", "data-key": `${key}-up`, disabled: i === 0, onclick: () => { rules.splice(i - 1, 0, rules.splice(i, 1)[0]); app.select(direction, i - 1, `${key}-up`, true); } }, "↑ earlier"),
      h("button", { type: "button", class: "small", "data-key": `${key}-down`, disabled: i === rules.length - 1, onclick: () => { rules.splice(i + 1, 0, rules.splice(i, 1)[0]); app.select(direction, i + 1, `${key}-down`, true); } }, "↓ later"),
      h("button", { type: "button", class: "danger", "data-key": `${key}-remove`, onclick: () => { rules.splice(i, 1); app.state.selection = null; commit(`cnp-add-${direction}`); } }, "Remove rule"),
    ),
    h("label", {}, "Name ", textField({ obj: rule, field: "name", key: `${key}-name`, label: "Rule name", path: `${path}.name`, commit, testid: "cnp-rule-name" })),
    h("label", { "data-error-for": `${path}.action` }, "Action ", choice(ACTIONS, rule.action, `${key}-action`, "Action", (v) => { rule.action = v; commit(`${key}-action`); })),
    h("h3", {}, direction === "ingress" ? "From (any of)" : "To (any of)"),
    rule.peers.map((peer, j) => peerEditor(direction, rule, j, peer, `${path}.${peersField(direction)}[${j}]`, `${key}-p${j}`, commit)),
    h("button", { type: "button", class: "small", "data-key": `${key}-addpeer`, onclick: () => { rule.peers.push(blankPeer("namespaces")); commit(`${key}-p${rule.peers.length - 1}-type`); } }, "+ peer"),
    h("h3", {}, "Ports (empty: all)"),
    rule.ports.map((port, j) => portEditor(rule, j, port, `${path}.protocols[${j}]`, `${key}-port${j}`, commit)),
    h("button", { type: "button", class: "small", "data-key": `${key}-addport`, onclick: () => { rule.ports.push({ protocol: "TCP", port: "", end: "", name: "" }); commit(`${key}-port${rule.ports.length - 1}-port`); } }, "+ port"),
  );
}

function peerEditor(direction, rule, j, peer, path, key, commit) {
  const types = PEER_TYPES[direction];
  const type = choice(types.map((t) => t[0]), peer.type, `${key}-type`, `Peer ${j + 1} kind`, (v) => { Object.assign(peer, blankPeer(v)); commit(`${key}-type`); }, types.map((t) => t[1]));
  let body = null;
  if (peer.type === "namespaces") body = selectorEditor(peer.namespaceSelector, `${path}.namespaces`, `${key}-ns`, commit, { caption: `peer ${j + 1} namespaces` });
  else if (peer.type === "pods") body = [h("p", { class: "hint" }, "Namespaces with labels:"), selectorEditor(peer.namespaceSelector, `${path}.pods.namespaceSelector`, `${key}-ns`, commit, { caption: `peer ${j + 1} namespaces` }), h("p", { class: "hint" }, "Pods with labels:"), selectorEditor(peer.podSelector, `${path}.pods.podSelector`, `${key}-pods`, commit, { caption: `peer ${j + 1} pods` })];
  else if (peer.type === "nodes") body = selectorEditor(peer.nodeSelector, `${path}.nodes`, `${key}-nodes`, commit, { caption: `peer ${j + 1} nodes` });
  else {
    const values = { text: peer.values.join(", ") };
    body = textField({ obj: values, field: "text", key: `${key}-values`, label: `Peer ${j + 1} ${peer.type}, comma separated`, path: `${path}.${peer.type}`, placeholder: peer.type === "networks" ? "10.0.0.0/8, 192.168.0.0/16" : "example.com", commit: () => { peer.values = values.text.split(",").map((v) => v.trim()).filter(Boolean); commit(`${key}-values`); } });
  }
  return h("div", { class: "cnp-peer", "data-error-for": path }, type, removeButton(`Remove peer ${j + 1}`, `${key}-x`, () => { rule.peers.splice(j, 1); commit(); }), body);
}

function portEditor(rule, j, port, path, key, commit) {
  const protocol = choice([...PROTOCOLS, "named"], port.protocol, `${key}-protocol`, `Port ${j + 1} protocol`, (v) => { port.protocol = v; commit(`${key}-protocol`); }, [...PROTOCOLS, "named port"]);
  const fields = port.protocol === "named"
    ? textField({ obj: port, field: "name", key: `${key}-name`, label: `Port ${j + 1} name`, placeholder: "name", path: `${path}.destinationNamedPort`, commit })
    : [textField({ obj: port, field: "port", key: `${key}-port`, label: `Port ${j + 1} number or start`, placeholder: "port", commit }), textField({ obj: port, field: "end", key: `${key}-end`, label: `Port ${j + 1} range end (optional)`, placeholder: "end (range)", commit })];
  return h("div", { class: "sel-row", "data-error-for": path }, protocol, fields, removeButton(`Remove port ${j + 1}`, `${key}-x`, () => { rule.ports.splice(j, 1); commit(); }));
}

// "Try a connection": the tiers that took part, per side, in one line each.
export function tierLines(decision) {
  const lines = [];
  for (const side of ["egress", "ingress"]) {
    for (const tier of ["admin", "baseline"]) {
      const t = decision[side] && decision[side][tier];
      if (!t) continue;
      const names = t.policies.map((p) => `${p.policy} (priority ${p.priority})`).join(", ");
      const word = tier === "admin" ? "Admin" : "Baseline";
      lines.push(`${side}: ${word} tier ${t.action ? `→ ${t.action}` : "→ no rule matched"} · ${names}`);
    }
  }
  return lines;
}
