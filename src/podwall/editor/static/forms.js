// Editing pieces of the structured form: selectors, label text, blank peers and ports.
// The form is only data here; what it means is the server's (and the engine's) business.

import { h, uid } from "./dom.js";

export const GROUPS = [
  { id: "namespace", title: "Pods in this namespace", short: "pods in this namespace" },
  { id: "namespaces", title: "Pods in other namespaces", short: "pods in namespaces chosen by labels" },
  { id: "cluster", title: "Any pod in the cluster", short: "pods in any namespace" },
  { id: "cidr", title: "Outside the cluster (CIDR)", short: "addresses by CIDR" },
];
export const ANYWHERE = "anywhere";
export const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];
export const PROTOCOLS = ["TCP", "UDP", "SCTP"];

export const peersField = (direction) => (direction === "ingress" ? "from" : "to");
export const rulePath = (d, i) => `spec.${d}[${i}]`;
export const peerPath = (d, i, j) => `${rulePath(d, i)}.${peersField(d)}[${j}]`;

export function blankSelector(withLabel = true) {
  return { matchLabels: withLabel ? [{ key: "", value: "" }] : [], matchExpressions: [] };
}

export function blankPeer(group) {
  const peer = { podSelector: null, namespaceSelector: null, ipBlock: null, group };
  if (group === "namespace") peer.podSelector = blankSelector();
  if (group === "namespaces") peer.namespaceSelector = blankSelector();
  if (group === "cluster") peer.namespaceSelector = blankSelector(false);
  if (group === "cidr") peer.ipBlock = { cidr: "", except: [] };
  return peer;
}

export function blankPort() {
  return { protocol: "TCP", port: "", endPort: "" };
}

export function groupOf(peer) {
  return peer.group || "namespace";
}

export function selectorText(sel) {
  if (!sel) return "";
  const terms = sel.matchLabels.filter((l) => l.key || l.value).map((l) => `${l.key}=${l.value}`);
  for (const e of sel.matchExpressions) {
    const values = e.values.join(",");
    if (e.operator === "In") terms.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") terms.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") terms.push(e.key);
    else if (e.operator === "DoesNotExist") terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${e.operator} (${values})`);
  }
  return terms.join(", ");
}

export function peerText(peer) {
  if (peer.ipBlock) {
    const ex = peer.ipBlock.except.filter(Boolean);
    return `${peer.ipBlock.cidr || "(no CIDR)"}${ex.length ? ` except ${ex.join(", ")}` : ""}`;
  }
  const parts = [];
  if (peer.namespaceSelector) {
    const ns = selectorText(peer.namespaceSelector);
    parts.push(ns ? `namespaces ${ns}` : "any namespace");
  }
  if (peer.podSelector) {
    const pods = selectorText(peer.podSelector);
    parts.push(pods || "all pods");
  } else if (peer.namespaceSelector) {
    parts.push("all pods");
  }
  return parts.join(" · ") || "(no selector)";
}

export function portsText(rule) {
  if (!rule.ports.length) return "any port";
  return rule.ports
    .map((p) => {
      const proto = p.protocol || "TCP";
      if (!p.port) return `${proto} all`;
      return p.endPort ? `${proto} ${p.port}-${p.endPort}` : `${proto} ${p.port}`;
    })
    .join(", ");
}

// A text input bound to `obj[field]`; committed on change (blur or Enter).
export function textField({ obj, field, key, label, path, placeholder, commit, cls, testid }) {
  const errId = path ? uid("err") : null;
  const input = h("input", {
    type: "text",
    class: cls || "",
    value: obj[field] ?? "",
    "data-key": key,
    "aria-label": label,
    placeholder: placeholder || "",
    "aria-describedby": errId,
    "data-testid": testid,
    spellcheck: "false",
    autocomplete: "off",
    onchange: (ev) => {
      obj[field] = ev.target.value.trim();
      commit();
    },
    onkeydown: (ev) => {
      if (ev.key === "Enter") ev.target.dispatchEvent(new Event("change"));
    },
  });
  if (!path) return input;
  return [input, h("span", { class: "field-error", id: errId, "data-error-for": path, hidden: true, role: "alert" })];
}

export function removeButton(label, key, onclick) {
  return h("button", { type: "button", class: "icon remove", "aria-label": label, title: label, "data-key": key, onclick }, "×");
}

// matchLabels and matchExpressions rows with add and remove buttons.
export function selectorEditor(sel, path, key, commit, { caption } = {}) {
  const labels = sel.matchLabels.map((item, n) =>
    h(
      "div",
      { class: "sel-row" },
      textField({ obj: item, field: "key", key: `${key}.l${n}.k`, label: `${caption} label ${n + 1} key`, placeholder: "key", commit, cls: "k" }),
      h("span", { class: "eq", "aria-hidden": "true" }, "="),
      textField({ obj: item, field: "value", key: `${key}.l${n}.v`, label: `${caption} label ${n + 1} value`, placeholder: "value", commit, cls: "v" }),
      removeButton(`Remove ${caption} label ${item.key || n + 1}`, `${key}.l${n}.x`, () => {
        sel.matchLabels.splice(n, 1);
        commit(`${key}.addl`);
      }),
    ),
  );
  const exprs = sel.matchExpressions.map((expr, n) => expressionRow(sel, expr, n, `${path}.matchExpressions[${n}]`, `${key}.e${n}`, commit, caption));
  const labelsErr = uid("err");
  return h(
    "div",
    { class: "selector", "data-error-for": path },
    labels,
    h("span", { class: "field-error", id: labelsErr, "data-error-for": `${path}.matchLabels`, hidden: true, role: "alert" }),
    exprs,
    h(
      "div",
      { class: "sel-actions" },
      h("button", { type: "button", class: "small", "data-key": `${key}.addl`, "aria-label": `Add a label to ${caption}`, onclick: () => { sel.matchLabels.push({ key: "", value: "" }); commit(`${key}.l${sel.matchLabels.length - 1}.k`); } }, "+ label"),
      h("button", { type: "button", class: "small", "data-key": `${key}.adde`, "aria-label": `Add an expression to ${caption}`, onclick: () => { sel.matchExpressions.push({ key: "", operator: "In", values: [] }); commit(`${key}.e${sel.matchExpressions.length - 1}.k`); } }, "+ expression"),
    ),
  );
}

function expressionRow(sel, expr, n, path, key, commit, caption) {
  const values = { text: expr.values.join(", ") };
  const valuesInput = textField({
    obj: values,
    field: "text",
    key: `${key}.vals`,
    label: `${caption} expression ${n + 1} values, comma separated`,
    placeholder: "values, comma separated",
    path: `${path}.values`,
    commit: () => {
      expr.values = values.text.split(",").map((v) => v.trim()).filter(Boolean);
      commit();
    },
    cls: "vals",
  });
  const operator = h(
    "select",
    {
      "data-key": `${key}.op`,
      "aria-label": `${caption} expression ${n + 1} operator`,
      onchange: (ev) => {
        expr.operator = ev.target.value;
        commit();
      },
    },
    OPERATORS.map((op) => h("option", { value: op, selected: op === expr.operator }, op)),
  );
  return h(
    "div",
    { class: "sel-row expr", "data-error-for": path },
    textField({ obj: expr, field: "key", key: `${key}.k`, label: `${caption} expression ${n + 1} key`, placeholder: "key", path: `${path}.key`, commit, cls: "k" }),
    operator,
    valuesInput,
    removeButton(`Remove ${caption} expression ${n + 1}`, `${key}.x`, () => {
      sel.matchExpressions.splice(n, 1);
      commit(`${key.replace(/\.e\d+$/, "")}.adde`);
    }),
  );
}
