// The rule being edited: its peers (selectors or CIDR with excepts) and its ports.

import { h, uid } from "./dom.js";
import { GROUPS, PROTOCOLS, blankPeer, blankPort, blankSelector, peerPath, peersField, removeButton, rulePath, selectorEditor, textField } from "./forms.js";

export function renderInspector(root, app) {
  const sel = app.state.selection;
  const rules = sel ? app.state.form[sel.direction].rules : [];
  if (!sel || !rules[sel.rule]) {
    root.replaceChildren(
      h("h2", { id: "inspector-title" }, "Rule"),
      h("p", { class: "hint" }, "Pick a peer in the picture, or + Add one, to edit its rule here."),
    );
    return;
  }
  const { direction, rule: i } = sel;
  const rule = rules[i];
  const commit = (k) => app.commit(k);
  const word = peersField(direction);
  root.replaceChildren(
    h(
      "div",
      { class: "insp-head" },
      h("h2", { id: "inspector-title" }, `${direction === "ingress" ? "Ingress" : "Egress"} rule ${i + 1}`),
      h("button", { type: "button", class: "danger", "data-key": `insp-${direction}-${i}-remove`, "data-testid": "remove-rule", onclick: () => { rules.splice(i, 1); app.state.selection = null; commit(`switch-${direction}`); } }, "Remove rule"),
      h("button", { type: "button", class: "small", "data-key": "insp-close", "aria-label": "Close the rule editor", onclick: () => app.select(null) }, "Close"),
    ),
    h("p", { class: "hint" }, rule.peers.length ? `Admits traffic ${word === "from" ? "from" : "to"} any of these peers, on the ports below.` : `No peers: admits every ${word === "from" ? "source" : "destination"} on the ports below.`),
    h("div", { class: "peers-edit" }, rule.peers.map((peer, j) => peerEditor(app, direction, i, j, peer, commit))),
    h("div", { class: "row-actions" }, addPeerButtons(direction, i, rule, commit)),
    portsEditor(direction, i, rule, commit),
  );
}

function addPeerButtons(direction, i, rule, commit) {
  const sel = h(
    "select",
    { "data-key": `insp-${direction}-${i}-newkind`, "aria-label": "Kind of peer to add" },
    GROUPS.map((g) => h("option", { value: g.id }, g.title)),
  );
  return [
    sel,
    h(
      "button",
      {
        type: "button",
        class: "small",
        "data-key": `insp-${direction}-${i}-addpeer`,
        onclick: () => {
          rule.peers.push(blankPeer(sel.value));
          commit(`insp-${direction}-${i}-p${rule.peers.length - 1}`);
        },
      },
      "+ peer in this rule",
    ),
  ];
}

function peerEditor(app, direction, i, j, peer, commit) {
  const path = peerPath(direction, i, j);
  const key = `insp-${direction}-${i}-p${j}`;
  const kind = h(
    "select",
    {
      "data-key": key,
      "data-testid": `peer-kind-${j}`,
      "aria-label": `Peer ${j + 1} kind`,
      onchange: (ev) => {
        Object.assign(peer, blankPeer(ev.target.value));
        commit(key);
      },
    },
    GROUPS.map((g) => h("option", { value: g.id, selected: g.id === peer.group }, g.title)),
  );
  const body = [];
  if (peer.ipBlock) body.push(ipBlockEditor(peer.ipBlock, `${path}.ipBlock`, key, commit, j));
  if (peer.namespaceSelector && peer.group === "namespaces") {
    body.push(h("h4", {}, "Namespaces with labels"), selectorEditor(peer.namespaceSelector, `${path}.namespaceSelector`, `${key}.ns`, commit, { caption: `peer ${j + 1} namespace selector` }));
  }
  if (peer.group === "namespace") {
    body.push(h("h4", {}, "Pods with labels (empty: every pod of the namespace)"));
    if (!peer.podSelector) peer.podSelector = blankSelector(false);
    body.push(selectorEditor(peer.podSelector, `${path}.podSelector`, `${key}.pods`, commit, { caption: `peer ${j + 1} pod selector` }));
  } else if (peer.group !== "cidr") {
    body.push(optionalPodSelector(peer, path, key, commit, j));
  }
  const matched = matchedPods(app, direction, i, j);
  return h(
    "fieldset",
    { class: "peer-edit", "data-error-for": path },
    h("legend", {}, `Peer ${j + 1}`),
    h("div", { class: "peer-top" }, kind, removeButton(`Remove peer ${j + 1}`, `${key}.remove`, () => { app.state.form[direction].rules[i].peers.splice(j, 1); commit(`insp-${direction}-${i}-addpeer`); })),
    h("span", { class: "field-error", "data-error-for": path, hidden: true, role: "alert" }),
    body,
    matched,
  );
}

function optionalPodSelector(peer, path, key, commit, j) {
  const on = Boolean(peer.podSelector);
  const box = h("input", {
    type: "checkbox",
    id: `${key}-podsel`,
    "data-key": `${key}.podsel-on`,
    checked: on,
    onchange: (ev) => {
      peer.podSelector = ev.target.checked ? blankSelector() : null;
      commit(`${key}.podsel-on`);
    },
  });
  const parts = [h("label", { class: "check", for: `${key}-podsel` }, box, " only pods with labels")];
  if (on) parts.push(selectorEditor(peer.podSelector, `${path}.podSelector`, `${key}.pods`, commit, { caption: `peer ${j + 1} pod selector` }));
  return parts;
}

function ipBlockEditor(block, path, key, commit, j) {
  const excepts = block.except.map((_, n) => {
    const holder = { v: block.except[n] };
    return h(
      "div",
      { class: "sel-row" },
      h("span", { class: "eq" }, "except"),
      textField({
        obj: holder,
        field: "v",
        key: `${key}.ex${n}`,
        label: `Peer ${j + 1} except ${n + 1}`,
        placeholder: "10.0.5.0/24",
        path: `${path}.except[${n}]`,
        commit: () => {
          block.except[n] = holder.v;
          commit();
        },
      }),
      removeButton(`Remove except ${n + 1}`, `${key}.ex${n}.x`, () => { block.except.splice(n, 1); commit(`${key}.addex`); }),
    );
  });
  return h(
    "div",
    { class: "ipblock" },
    h("label", { class: "cidr" }, "CIDR ", textField({ obj: block, field: "cidr", key: `${key}.cidr`, label: `Peer ${j + 1} CIDR`, placeholder: "10.0.0.0/16", path: `${path}.cidr`, commit, testid: `cidr-${j}` })),
    excepts,
    h("button", { type: "button", class: "small", "data-key": `${key}.addex`, onclick: () => { block.except.push(""); commit(`${key}.ex${block.except.length - 1}`); } }, "+ except"),
  );
}

function matchedPods(app, direction, i, j) {
  const c = app.state.cluster;
  if (!c) return null;
  const m = c.peers[direction].find((p) => p.rule === i && p.peer === j);
  if (!m) return null;
  return h("p", { class: "matches" }, m.pods.length ? `Matches loaded pods: ${m.pods.join(", ")}` : "Matches no loaded pod.");
}

function portsEditor(direction, i, rule, commit) {
  const base = `${rulePath(direction, i)}.ports`;
  const rows = rule.ports.map((port, k) => {
    const key = `insp-${direction}-${i}-port${k}`;
    const errId = uid("err");
    return h(
      "div",
      { class: "sel-row port-row", "data-error-for": `${base}[${k}]` },
      h(
        "select",
        { "data-key": `${key}.proto`, "aria-label": `Port ${k + 1} protocol`, onchange: (ev) => { port.protocol = ev.target.value; commit(); } },
        PROTOCOLS.map((p) => h("option", { value: p, selected: (port.protocol || "TCP") === p }, p)),
      ),
      textField({ obj: port, field: "port", key: `${key}.port`, label: `Port ${k + 1}: number or name (empty: all)`, placeholder: "port or name", path: `${base}[${k}].port`, commit, cls: "port" }),
      h("span", { class: "eq" }, "to"),
      textField({ obj: port, field: "endPort", key: `${key}.end`, label: `Port ${k + 1}: end of range (optional)`, placeholder: "end", path: `${base}[${k}].endPort`, commit, cls: "port" }),
      removeButton(`Remove port ${k + 1}`, `${key}.x`, () => { rule.ports.splice(k, 1); commit(`insp-${direction}-${i}-addport`); }),
      h("span", { class: "field-error", id: errId, "data-error-for": `${base}[${k}].protocol`, hidden: true, role: "alert" }),
    );
  });
  return h(
    "fieldset",
    { class: "ports-edit" },
    h("legend", {}, "Ports"),
    rows.length ? rows : h("p", { class: "hint" }, "No ports: every port and protocol."),
    h("button", { type: "button", class: "small", "data-key": `insp-${direction}-${i}-addport`, onclick: () => { rule.ports.push(blankPort()); commit(`insp-${direction}-${i}-port${rule.ports.length - 1}.port`); } }, "+ port"),
  );
}
