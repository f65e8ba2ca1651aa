// Import (paste, file, drag and drop) and export (copy to the clipboard, download).

import { h } from "./dom.js";

export function setupImport(app) {
  const dialog = document.getElementById("import-dialog");
  const text = document.getElementById("import-text");
  const name = document.getElementById("import-name");
  const file = document.getElementById("import-file");
  const status = document.getElementById("import-status");
  const open = (content = "", filename = "pasted.yaml") => {
    text.value = content;
    name.value = filename;
    status.textContent = "";
    if (!dialog.open) dialog.showModal();
    text.focus();
  };
  document.getElementById("btn-import").addEventListener("click", () => open());
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (f) {
      text.value = await f.text();
      name.value = f.name;
    }
  });
  document.getElementById("import-draft").addEventListener("click", async () => {
    if (await app.openYaml(text.value, status)) dialog.close();
  });
  document.getElementById("import-cluster").addEventListener("click", async () => {
    if (await app.addManifest(name.value || "pasted.yaml", text.value, status)) dialog.close();
  });
  document.getElementById("import-cancel").addEventListener("click", () => dialog.close());
  setupDrop(open);
}

function setupDrop(open) {
  const zone = document.body;
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("dropping");
  });
  zone.addEventListener("dragleave", (ev) => {
    if (ev.target === zone || !zone.contains(ev.relatedTarget)) zone.classList.remove("dropping");
  });
  zone.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    zone.classList.remove("dropping");
    const files = [...(ev.dataTransfer?.files || [])];
    if (files.length) {
      const texts = await Promise.all(files.map((f) => f.text()));
      open(texts.join("\n---\n"), files.length === 1 ? files[0].name : "dropped.yaml");
      return;
    }
    const dropped = ev.dataTransfer?.getData("text/plain");
    if (dropped) open(dropped);
  });
}

export async function copyYaml(yaml) {
  try {
    await navigator.clipboard.writeText(yaml);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", "aria-hidden": "true" });
    area.value = yaml;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function downloadYaml(yaml, name) {
  const url = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
  const link = h("a", { href: url, download: `${name || "policy"}.yaml`, class: "offscreen" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
