// Tiny DOM helpers: build elements, find error slots, keep focus across re-renders.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else if (k === "selected") el.selected = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// The focused control, so a re-render can give focus (and typed text) back.
export function saveFocus() {
  const el = document.activeElement;
  if (!el || !el.dataset || !el.dataset.key) return null;
  const typed = el.tagName === "INPUT" || el.tagName === "TEXTAREA";
  return {
    key: el.dataset.key,
    value: typed ? el.value : null,
    start: typed ? el.selectionStart : null,
    end: typed ? el.selectionEnd : null,
  };
}

export function restoreFocus(saved) {
  if (!saved) return;
  const el = document.querySelector(`[data-key="${CSS.escape(saved.key)}"]`);
  if (!el || el === document.activeElement) return;
  if (saved.value !== null && el.value !== saved.value) el.value = saved.value;
  el.focus({ preventScroll: true });
  if (saved.start !== null && typeof el.setSelectionRange === "function") {
    try {
      el.setSelectionRange(saved.start, saved.end);
    } catch {
      // number inputs have no selection
    }
  }
}

// Parent of a field path: `a.b[0].c` -> `a.b[0]` -> `a.b` -> `a`.
export function parentPath(path) {
  const m = path.match(/^(.*)(\.[^.[\]]+|\[[^\]]*\])$/);
  return m ? m[1] : "";
}

// Show each error at the deepest element that declares `data-error-for` on its path.
export function placeErrors(root, errors) {
  for (const el of root.querySelectorAll("[data-error-for]")) {
    el.classList.remove("has-error");
    if (el.classList.contains("field-error")) {
      el.replaceChildren();
      el.hidden = true;
    }
  }
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const error of errors) {
    let path = error.path;
    while (path) {
      const slots = root.querySelectorAll(`[data-error-for="${CSS.escape(path)}"]`);
      if (slots.length) {
        for (const slot of slots) show(slot, error);
        break;
      }
      path = parentPath(path);
    }
  }
}

function show(slot, error) {
  slot.classList.add("has-error");
  if (slot.classList.contains("field-error")) {
    slot.hidden = false;
    slot.append(h("span", { class: "error-text" }, error.message));
    const field = slot.id ? document.querySelector(`[aria-describedby~="${slot.id}"]`) : null;
    if (field) field.setAttribute("aria-invalid", "true");
  } else if (!slot.title) {
    slot.title = error.message;
  }
}

let nextId = 0;
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
