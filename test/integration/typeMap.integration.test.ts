// The tensor-type map in a real VS Code host: the inspector Overview's map on the MoE fixture
// (real mouse hover shows the tensor, a click filters the Tensors tab to it), and the Compare
// Models panel with both maps. Screenshots: typemap-hover, typemap-click-filter, compare-models.
import assert from "node:assert/strict";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel } from "../../src/core/gguf";
import {
  hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewAttribute, webviewClick, webviewEval, webviewMouse,
} from "./driver";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

interface Geometry { cellW: number; cellH: number; gutter: number; header: number; columns: string[] }

async function geometry(frame: string, id: string): Promise<Geometry> {
  return webviewEval<Geometry>(frame, `(() => {
    const v = document.querySelector("#${id}-viewport").dataset;
    return { cellW: Number(v.cellW), cellH: Number(v.cellH), gutter: Number(v.gutter), header: Number(v.header),
      columns: document.querySelector("#${id}").dataset.columns.split(",") };
  })()`);
}

describe("tensor-type map (real host)", function () {
  this.timeout(120_000);
  before(function () {
    if (!hasBrowserDriver()) this.skip();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("hovers a cell of the MoE fixture's map and filters the tensor table with a click", async () => {
    const file = workspaceFile("tiny-moe-f16.gguf");
    const model = await readGgufModel(file);
    await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(file));
    const frame = `#inspector[data-state="ready"][data-file="tiny-moe-f16.gguf"]`;
    await waitForWebview(frame, frame, { timeoutMs: 30_000 });
    await webviewClick(frame, "#tab-overview");
    await waitUntil(async () => (await webviewAttribute(frame, "#inspector-typemap", "data-state")) === "ready", "the map is drawn");
    const g = await geometry(frame, "inspector-typemap");
    // Columns are the model's layer kinds, rows its 4 layers plus the non-layer row.
    assert.deepEqual(new Set(g.columns), new Set(model.tensors.filter((t) => t.layer !== undefined).map((t) => t.kind)));
    assert.equal(await webviewAttribute(frame, "#inspector-typemap", "data-rows"), "5");
    const legend = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#inspector-typemap-legend [data-type]")].map((e) => e.dataset.type)`);
    assert.deepEqual(legend, ["F16", "F32"], "legend ordered by bits per weight");

    await webviewEval(frame, `document.querySelector("#inspector-typemap").scrollIntoView()`);
    const column = g.columns.indexOf("ffn_down_exps");
    const x = g.gutter + column * g.cellW + g.cellW / 2;
    const y = g.header + 2 * g.cellH + g.cellH / 2; // row 2 = blk.2
    await webviewMouse(frame, "#inspector-typemap-scroller", x, y, "hover");
    const hovered = await waitUntil(async () => {
      const shown = await webviewEval<{ hidden: boolean; tensors: string[]; types: string[]; text: string }>(frame, `(() => {
        const h = document.querySelector("#inspector-typemap-hover");
        const rows = [...h.querySelectorAll("[data-tensor]")];
        return { hidden: h.hidden, tensors: rows.map((r) => r.dataset.tensor), types: rows.map((r) => r.dataset.type), text: h.textContent };
      })()`);
      return !shown.hidden && shown.tensors.length > 0 ? shown : undefined;
    }, "the hover card");
    assert.deepEqual(hovered.tensors, ["blk.2.ffn_down_exps.weight"]);
    assert.deepEqual(hovered.types, ["F16"]);
    const t = model.tensors.find((x) => x.name === "blk.2.ffn_down_exps.weight");
    assert.match(hovered.text, /blk\.2 · ffn_down_exps/);
    assert.match(hovered.text, new RegExp(`${((t?.byteSize ?? 0) / 1048576).toFixed(2)} MiB · 16\\.00 bpw`));
    await screenshot("typemap-hover");

    await webviewMouse(frame, "#inspector-typemap-scroller", x, y, "click");
    await waitUntil(async () => (await webviewAttribute(frame, "#inspector", "data-tab")) === "tensors", "the Tensors tab after the click");
    await waitUntil(async () => (await webviewAttribute(frame, "#tensor-count", "data-visible")) === "1", "one tensor shown");
    const names = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#tensor-scroll .trow[data-index] .c-name")].map((e) => e.textContent)`);
    assert.deepEqual(names, ["blk.2.ffn_down_exps.weight"]);
    assert.equal(await webviewEval<string>(frame, `document.querySelector("#tensor-filter-name").value`), "^blk\\.2\\.ffn_down_exps\\.weight$");
    await screenshot("typemap-click-filter");
    // Leave the filter empty for other tests that reopen the inspector with the saved view state.
    await webviewEval(frame, `(() => { const f = document.querySelector("#tensor-filter-name"); f.value = ""; f.dispatchEvent(new Event("input")); return true; })()`);
    await webviewClick(frame, "#tab-overview");
  });

  it("compares the two fixtures: both maps with the differences outlined, metadata and size tables", async () => {
    const a = workspaceFile("tiny-llama-f16.gguf");
    const b = workspaceFile("tiny-moe-f16.gguf");
    await vscode.commands.executeCommand("ggufStudio.compareModels", { a, b });
    const frame = `#compare[data-state="ready"]`;
    await waitForWebview(frame, frame, { timeoutMs: 30_000 });
    for (const side of ["a", "b"]) {
      await waitUntil(async () => (await webviewAttribute(frame, `#compare-map-${side}`, "data-state")) === "ready", `map ${side}`);
    }
    // Same architecture (llama): tensors aligned; the MoE's expert tensors and the dense FFN differ.
    assert.equal(await webviewAttribute(frame, "#compare", "data-alignable"), "true");
    const outlined = Number(await webviewAttribute(frame, "#compare-map-b", "data-outlined"));
    assert.equal(outlined, 16, "the MoE's 12 expert tensors and 4 routers exist only in B");
    const keys = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#compare-metadata tr td:first-child")].map((e) => e.textContent)`);
    assert.ok(keys.includes("llama.expert_count") && keys.includes("general.name"), keys.join(", "));
    const kinds = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#compare-by-kind tr td:first-child")].map((e) => e.textContent)`);
    assert.ok(kinds.includes("ffn_down_exps") && kinds.includes("ffn_down"), kinds.join(", "));
    await screenshot("compare-models");
  });
});
