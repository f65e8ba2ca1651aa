// The guided tutorial from the lab: default deny for app=backend, then allow app=frontend.

import { call } from "./api.js";
import { h } from "./dom.js";
import { applyDraft } from "./live.js";

let steps = null;

export async function renderTutorial(root, app) {
  if (!steps) steps = (await call("/api/tutorial")).steps;
  const n = app.state.tutorialStep;
  const step = steps[n];
  const attached = Boolean(app.state.loaded && app.state.loaded.attached);
  root.replaceChildren(
    h(
      "div",
      { class: "tutorial-head" },
      h("h2", { id: "tutorial-title" }, "Tutorial: deny, then allow"),
      h("button", { type: "button", class: "small", "data-key": "tut-close", "aria-label": "Close the tutorial", onclick: () => app.toggleTutorial(false) }, "Close"),
    ),
    h("ol", { class: "steps", "aria-label": "Steps" }, steps.map((s, k) => h("li", { class: k === n ? "current" : "", "aria-current": k === n ? "step" : null }, s.title))),
    h("h3", { "data-testid": "tutorial-step" }, step.title),
    h("p", {}, step.text),
    h(
      "div",
      { class: "row-actions" },
      h("button", { type: "button", "data-key": "tut-prev", disabled: n === 0, onclick: () => app.tutorialGo(n - 1) }, "Back"),
      step.policy ? h("button", { type: "button", "data-key": "tut-show", onclick: () => app.openYaml(step.policy) }, "Show me") : null,
      step.policy && !attached ? h("button", { type: "button", "data-key": "tut-add", onclick: () => app.addManifest(`${n}-tutorial.yaml`, step.policy) }, "Add it to the cluster") : null,
      step.policy && attached ? h("button", { type: "button", "data-key": "tut-apply", onclick: async () => { if (await app.openYaml(step.policy)) await applyDraft(app); } }, "Apply it to the cluster") : null,
      h("button", { type: "button", class: "primary", "data-key": "tut-next", disabled: n === steps.length - 1, onclick: () => app.tutorialGo(n + 1) }, "Next"),
    ),
  );
}
