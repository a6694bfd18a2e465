// Chat-template preview UI: a conversation dropdown, then one column per engine with the rendered
// prompt (special tokens marked), its token count, and a flag when it differs from the reference.
import "./templatePreview.css";
import { createControl, registerToolkit } from "../ui/toolkit";
import { vscodeApi } from "../ui/vscodeApi";
import type { PreviewColumn, PreviewState, TemplatePreviewFromWebview, TemplatePreviewToWebview } from "../../src/shared/templatePreviewProtocol";

const api = vscodeApi<undefined, TemplatePreviewFromWebview>();
registerToolkit();

const app = document.getElementById("app") as HTMLElement;
const root = document.createElement("div");
root.id = "template-preview-root";
const header = document.createElement("div");
header.className = "header";
const columns = document.createElement("div");
columns.className = "columns";
root.append(header, columns);
app.append(root);

/**
 * The text as nodes: special tokens wrapped in <mark class="special">, `<|...|>` strings the
 * vocabulary does not hold as one token in <mark class="not-special">.
 */
function highlighted(text: string, state: PreviewState): Node[] {
  const marks = [...state.specialTokens.map((t) => [t, "special"] as const), ...state.notSpecialTokens.map((t) => [t, "not-special"] as const)];
  marks.sort((a, b) => b[0].length - a[0].length);
  const nodes: Node[] = [];
  let plain = "";
  for (let i = 0; i < text.length; ) {
    const hit = marks.find(([t]) => text.startsWith(t, i));
    if (hit) {
      const [token, kind] = hit;
      if (plain) nodes.push(document.createTextNode(plain));
      plain = "";
      const mark = document.createElement("mark");
      mark.className = kind;
      if (kind === "not-special") mark.title = "Not a single token in this model's vocabulary";
      mark.textContent = token;
      nodes.push(mark);
      i += token.length;
    } else {
      plain += text[i];
      i += 1;
    }
  }
  if (plain) nodes.push(document.createTextNode(plain));
  return nodes;
}

function renderHeader(state: PreviewState): void {
  const label = document.createElement("label");
  label.textContent = "Conversation";
  label.htmlFor = "conversation";
  const dropdown = createControl("dropdown", { id: "conversation" });
  for (const name of state.conversations) {
    const option = createControl("option", { value: name }, name);
    if (name === state.conversation) option.setAttribute("selected", "");
    dropdown.append(option);
  }
  dropdown.addEventListener("change", () => {
    const name = (dropdown as HTMLElement & { value: string }).value;
    if (name && name !== state.conversation) api.postMessage({ type: "selectConversation", name });
  });
  const vocab = document.createElement("span");
  vocab.className = "vocabulary";
  vocab.id = "vocabulary";
  vocab.textContent = "source" in state.vocabulary ? `Tokens from ${state.vocabulary.source}` : state.vocabulary.missing;
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = state.title;
  header.replaceChildren(title, label, dropdown, vocab);
}

function renderColumn(c: PreviewColumn, state: PreviewState): HTMLElement {
  const col = document.createElement("section");
  col.className = `column${c.ok ? "" : " failed"}${c.differsFromReference ? " differs" : ""}`;
  col.dataset.engine = c.engine;
  const head = document.createElement("div");
  head.className = "column-head";
  const name = document.createElement("span");
  name.className = "engine";
  name.textContent = c.label;
  head.append(name);
  if (c.isReference) head.append(createControl("tag", { class: "reference" }, "reference"));
  if (c.differsFromReference) head.append(createControl("tag", { class: "differs-flag", title: "Output differs from the reference engine" }, "differs"));
  const count = document.createElement("div");
  count.className = "count";
  if (c.ok) {
    count.textContent = c.tokenCount !== undefined ? `${c.tokenCount} tokens · ${c.charCount} chars` : `${c.charCount} chars (no vocabulary)`;
    if (c.tokenCount !== undefined) count.dataset.tokens = String(c.tokenCount);
  } else {
    count.textContent = c.stage === "unavailable" ? "unavailable" : `${c.stage ?? "error"} error`;
  }
  const pre = document.createElement("pre");
  pre.className = c.ok ? "rendered" : "error";
  pre.append(...(c.ok ? highlighted(c.text, state) : [document.createTextNode(c.text)]));
  col.append(head, count, pre);
  return col;
}

function render(state: PreviewState): void {
  root.classList.remove("busy");
  root.dataset.conversation = state.conversation;
  renderHeader(state);
  columns.replaceChildren(...state.columns.map((c) => renderColumn(c, state)));
}

window.addEventListener("message", (e: MessageEvent<TemplatePreviewToWebview>) => {
  const m = e.data;
  switch (m.type) {
    case "state":
      render(m.state);
      return;
    case "rendering":
      root.classList.add("busy");
      return;
  }
});
api.postMessage({ type: "ready" });
