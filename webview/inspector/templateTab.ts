// Chat template: the embedded template(s), with a button that opens one as an editable document;
// a file without one gets a button that starts one (a ChatML starter, saved into a new GGUF).
import type { InspectorModel } from "../../src/shared/inspectorProtocol";
import { createControl } from "../ui/toolkit";
import { clear, el } from "./dom";
import { post, type InspectorViewState } from "./state";

export function renderTemplateTab(root: HTMLElement, model: InspectorModel, state: InspectorViewState, save: () => void): void {
  clear(root);
  const templates = model.chatTemplates;
  if (templates.length === 0) {
    const add = createControl("button", { id: "template-add" }, "Add a chat template…");
    add.addEventListener("click", () => post({ type: "editChatTemplate", key: "tokenizer.chat_template" }));
    root.append(
      el("p", { class: "empty", id: "template-empty" }, "This file has no chat template (tokenizer.chat_template). Servers will fall back to a generic format."),
      el("div", { class: "toolbar" }, add),
    );
    return;
  }
  const current = templates.find((t) => t.key === state.templateKey) ?? templates[0];
  const code = el("pre", { class: "template-text", id: "template-text" });
  const info = el("span", { class: "count", id: "template-info" });
  const show = (key: string): void => {
    const t = templates.find((x) => x.key === key) ?? templates[0];
    state.templateKey = t.key;
    save();
    code.textContent = t.text;
    code.dataset.key = t.key;
    info.textContent = `${t.key} · ${t.text.length.toLocaleString("en-US")} characters · ${t.text.split("\n").length} lines`;
  };
  const edit = createControl("button", { id: "template-edit" }, "Edit chat template…");
  edit.addEventListener("click", () => post({ type: "editChatTemplate", key: state.templateKey || current.key }));
  const toolbar = el("div", { class: "toolbar" });
  if (templates.length > 1) {
    const pick = createControl("dropdown", { id: "template-pick" });
    for (const t of templates) pick.append(createControl("option", { value: t.key }, t.name));
    pick.addEventListener("change", (e) => show((e.target as HTMLInputElement).value));
    requestAnimationFrame(() => ((pick as HTMLInputElement).value = current.key));
    toolbar.append(pick);
  }
  toolbar.append(edit, info);
  root.append(toolbar, code);
  show(current.key);
}
