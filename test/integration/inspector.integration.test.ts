// The GGUF inspector in a real VS Code host: numbers read from the webview's DOM against the core,
// filter and sort through the UI, every tab screenshotted, error and deleted-file states.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { GgufValueType, isGgufError, readGgufModel, summarizeGguf, writeGgufWithMetadata, type GgufSummary } from "../../src/core/gguf";
import { MetadataArrayBrowser } from "../../src/core/models/arrayBrowser";
import { loadInspectorModel } from "../../src/core/models/inspectorData";
import {
  hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewAttribute, webviewClick, webviewEval, webviewFill, webviewText,
} from "./driver";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

/** The frame of the inspector showing `fileName` in state `state`. */
function inspectorFrame(fileName: string, state = "ready"): string {
  return `#inspector[data-state="${state}"][data-file="${fileName}"]`;
}

async function openInspector(file: string, state = "ready"): Promise<string> {
  await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(file));
  const frame = state === "ready" ? inspectorFrame(path.basename(file)) : `#inspector[data-state="${state}"]`;
  await waitForWebview(frame, frame, { timeoutMs: 30_000 });
  return frame;
}

async function facts(frame: string): Promise<Record<string, string>> {
  return webviewEval<Record<string, string>>(frame, `Object.fromEntries([...document.querySelectorAll("[data-fact]")].map((e) => [e.dataset.fact, e.dataset.value]))`);
}

/** Names and bytes of the rows the virtualized table has in the DOM, top to bottom. */
async function visibleRows(frame: string): Promise<{ name: string; bytes: number }[]> {
  return webviewEval(frame, `[...document.querySelectorAll("#tensor-scroll .trow[data-index]")]
    .sort((a, b) => Number(a.dataset.position) - Number(b.dataset.position))
    .map((r) => ({ name: r.querySelector(".c-name").textContent, bytes: Number(r.querySelector(".c-bytes").dataset.value) }))`);
}

async function countShown(frame: string): Promise<number> {
  return Number(await webviewAttribute(frame, "#tensor-count", "data-visible"));
}

function assertFactsMatch(f: Record<string, string>, s: GgufSummary, fileSize: number): void {
  assert.equal(Number(f["parameters"]), s.parameterCount);
  assert.equal(Number(f["tensor-count"]), s.tensorCount);
  assert.equal(Number(f["file-size"]), fileSize);
  assert.equal(f["architecture"], s.architecture.architecture);
  assert.equal(Number(f["layers"]), s.architecture.blockCount);
  assert.equal(Number(f["context-length"]), s.architecture.contextLength);
  assert.equal(Number(f["vocab-size"]), s.architecture.vocabSize);
  assert.equal(f["file-type"], s.architecture.fileTypeName);
  assert.ok(Math.abs(Number(f["bpw"]) - (s.bitsPerWeight ?? NaN)) < 1e-9, `bpw ${f["bpw"]} vs ${s.bitsPerWeight}`);
  assert.equal(f["experts"], s.architecture.expertCount === undefined ? "" : String(s.architecture.expertCount));
}

describe("GGUF inspector (custom editor)", function () {
  this.timeout(120_000);
  before(function () {
    if (!hasBrowserDriver()) this.skip();
  });
  afterEach(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  for (const name of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) {
    it(`opens ${name}: overview numbers and tensor-row count read from the DOM match the core summary`, async () => {
      const file = workspaceFile(name);
      const summary = summarizeGguf(await readGgufModel(file));
      const frame = await openInspector(file);
      assertFactsMatch(await facts(frame), summary, fs.statSync(file).size);
      const mixTypes = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#quant-mix-bar .mix-seg")].map((e) => e.dataset.type)`);
      assert.deepEqual(mixTypes, summary.typeHistogram.map((h) => h.typeName));
      await webviewClick(frame, "#tab-tensors");
      await waitUntil(async () => (await webviewAttribute(frame, "#inspector", "data-tensors-loaded")) === "true", "all tensor pages");
      assert.equal(await countShown(frame), summary.tensorCount);
      assert.equal(Number(await webviewAttribute(frame, "#tensor-count", "data-total")), summary.tensorCount);
      const inDom = (await visibleRows(frame)).length;
      assert.ok(inDom > 0 && inDom <= summary.tensorCount, `${inDom} rows rendered`);
      if (name === "tiny-llama-f16.gguf") await screenshot("inspector-overview-tensors-loaded");
    });
  }

  it("filters by name regex and layers and sorts by bytes through the UI", async () => {
    const file = workspaceFile("tiny-moe-f16.gguf");
    const model = await readGgufModel(file);
    const frame = await openInspector(file);
    await webviewClick(frame, "#tab-tensors");
    await waitUntil(async () => (await webviewAttribute(frame, "#inspector", "data-tensors-loaded")) === "true", "all tensor pages");

    await webviewFill(frame, "#tensor-filter-name input", "ffn_(down|up)_exps");
    const byName = model.tensors.filter((t) => /ffn_(down|up)_exps/i.test(t.name));
    await waitUntil(async () => (await countShown(frame)) === byName.length || undefined, `${byName.length} rows after the name filter`);
    assert.deepEqual((await visibleRows(frame)).map((r) => r.name), byName.map((t) => t.name));

    await webviewFill(frame, "#tensor-filter-layer input", "1-2");
    const byLayer = byName.filter((t) => t.layer !== undefined && t.layer >= 1 && t.layer <= 2);
    await waitUntil(async () => (await countShown(frame)) === byLayer.length || undefined, `${byLayer.length} rows after the layer filter`);
    assert.deepEqual((await visibleRows(frame)).map((r) => r.name), byLayer.map((t) => t.name));

    await webviewFill(frame, "#tensor-filter-layer input", "");
    await webviewFill(frame, "#tensor-filter-name input", "");
    await waitUntil(async () => (await countShown(frame)) === model.tensors.length || undefined, "the filters cleared");
    await webviewClick(frame, '.thead [data-sort="bytes"]');
    await waitUntil(async () => (await webviewAttribute(frame, '.thead [data-sort="bytes"]', "data-direction")) === "desc", "sorted by bytes");
    const rows = await visibleRows(frame);
    const expected = model.tensors.map((t, i) => ({ t, i })).sort((a, b) => (b.t.byteSize ?? -1) - (a.t.byteSize ?? -1) || a.i - b.i);
    assert.deepEqual(rows.map((r) => r.name), expected.slice(0, rows.length).map((e) => e.t.name));
    for (let k = 1; k < rows.length; k++) assert.ok(rows[k - 1].bytes >= rows[k].bytes, "bytes never increase down the table");

    await webviewFill(frame, "#tensor-filter-name input", "attn");
    await waitUntil(async () => (await countShown(frame)) === model.tensors.filter((t) => /attn/i.test(t.name)).length || undefined, "attn rows");
    await screenshot("inspector-tensors");

    // Type filter and grouping through the toolkit dropdowns.
    await webviewFill(frame, "#tensor-filter-name input", "");
    await webviewClick(frame, "#tensor-filter-type");
    await webviewClick(frame, '#tensor-filter-type vscode-option[value="F32"]');
    const f32 = model.tensors.filter((t) => t.typeName === "F32");
    await waitUntil(async () => (await countShown(frame)) === f32.length || undefined, `${f32.length} F32 rows`);
    assert.ok((await visibleRows(frame)).every((r) => f32.some((t) => t.name === r.name)));
    await webviewClick(frame, "#tensor-filter-type");
    await webviewClick(frame, '#tensor-filter-type vscode-option[value=""]');
    await waitUntil(async () => (await countShown(frame)) === model.tensors.length || undefined, "all types again");
    await webviewClick(frame, "#tensor-group");
    await webviewClick(frame, '#tensor-group vscode-option[value="layer"]');
    const summary = summarizeGguf(model);
    await waitUntil(async () => Number(await webviewAttribute(frame, "#tensor-table", "data-group-count")) === summary.byLayer.length || undefined, "one group per layer");
    const groups = await webviewEval<{ group: string; bpw: string; count: string }[]>(frame, `[...document.querySelectorAll("#tensor-scroll .trow.group")]
      .map((r) => ({ group: r.dataset.group, bpw: r.querySelector(".c-bpw").textContent, count: r.querySelector(".c-name").textContent }))`);
    assert.ok(groups.length > 0);
    for (const g of groups) {
      const core = summary.byLayer.find((x) => x.group === g.group);
      assert.ok(core, `group ${g.group} is in the core summary`);
      assert.equal(g.bpw, (core.bitsPerWeight ?? 0).toFixed(2));
      assert.match(g.count, new RegExp(`\\(${core.tensorCount}\\)$`));
    }
    await screenshot("inspector-tensors-grouped");
  });

  it("shows metadata with a searchable vocabulary, the chat template and export; screenshots each tab", async () => {
    const file = workspaceFile("tiny-llama-f16.gguf");
    const loaded = await loadInspectorModel(file);
    const frame = await openInspector(file);
    await webviewClick(frame, "#tab-overview");
    await screenshot("inspector-overview");

    await webviewClick(frame, "#tab-metadata");
    const keys = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#metadata-table tr[data-key]")].map((r) => r.dataset.key)`);
    assert.deepEqual(keys, [...loaded.model.metadata.keys()]);
    await webviewClick(frame, '[data-browse="tokenizer.ggml.tokens"]');
    await waitForWebview("#array-status[data-total]", frame);
    const vocab = loaded.view.overview.vocabSize ?? 0;
    assert.equal(Number(await webviewAttribute(frame, "#array-status", "data-total")), vocab);
    await webviewFill(frame, "#array-search input", "im_");
    const browser = new MetadataArrayBrowser(file, loaded.model.metadata);
    const expected = await browser.page("tokenizer.ggml.tokens", 0, 200, "im_");
    await browser.close();
    await waitUntil(async () => Number(await webviewAttribute(frame, "#array-status", "data-total")) === expected.total || undefined, "vocabulary search result");
    const shown = await webviewEval<string[]>(frame, `[...document.querySelectorAll("#array-entries .array-entry")].map((r) => r.dataset.value)`);
    assert.deepEqual(shown, expected.entries.map((e) => e.value));
    await screenshot("inspector-metadata");

    await webviewClick(frame, "#tab-template");
    const template = await webviewText(frame, "#template-text");
    assert.equal(template, loaded.model.metadata.get("tokenizer.chat_template")?.value);
    await screenshot("inspector-template");

    await webviewClick(frame, "#tab-export");
    await waitForWebview('[data-export="summary.markdown"]', frame);
    await screenshot("inspector-export");
    const target = vscode.Uri.file(workspaceFile("tiny-llama-summary.md"));
    const written = await vscode.commands.executeCommand<string>("ggufStudio.exportSummary", vscode.Uri.file(file), { format: "markdown", target });
    assert.equal(written, target.fsPath);
    const md = fs.readFileSync(target.fsPath, "utf8");
    assert.match(md, new RegExp(`\\| parameters \\| ${loaded.view.overview.parameterCount} \\|`));
    fs.rmSync(target.fsPath);
  });

  it("opens a truncated file and a non-GGUF file as an error view naming the problem and offset", async () => {
    const truncated = workspaceFile("truncated.gguf");
    fs.writeFileSync(truncated, fs.readFileSync(workspaceFile("tiny-llama-f16.gguf")).subarray(0, 4096));
    const notGguf = workspaceFile("not-a-model.gguf");
    fs.writeFileSync(notGguf, "plain text pretending to be a model\n");
    for (const file of [notGguf, truncated]) {
      const coreError = await loadInspectorModel(file).then(() => undefined, (e: unknown) => e);
      assert.ok(isGgufError(coreError), "the core rejects the file");
      await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(file));
      const frame = `#inspector[data-state="error"][data-error-code="${coreError.code}"]`;
      await waitForWebview(frame, frame, { timeoutMs: 30_000 });
      assert.equal(await webviewText(frame, '[data-error="problem"]'), coreError.code);
      assert.match(await webviewText(frame, '[data-error="offset"]'), new RegExp(`^byte ${(coreError.offset ?? -1).toLocaleString("en-US")} `));
      assert.equal(await webviewText(frame, '[data-error="path"]'), file);
      if (file === truncated) await screenshot("inspector-error");
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    }
    fs.rmSync(truncated);
    fs.rmSync(notGguf);
  });

  it("shows that the file was deleted while open", async () => {
    const doomed = workspaceFile("doomed.gguf");
    fs.copyFileSync(workspaceFile("tiny-moe-f16.gguf"), doomed);
    const frame = await openInspector(doomed);
    fs.rmSync(doomed);
    await waitForWebview(`#inspector[data-file-state="deleted"]`, `#inspector[data-file="doomed.gguf"]`, { timeoutMs: 30_000 });
    assert.match(await webviewText(`#inspector[data-file="doomed.gguf"]`, "#file-banner"), /deleted/);
    assert.equal(await webviewAttribute(frame, "#inspector", "data-state"), "ready", "what was read stays visible");
    await screenshot("inspector-deleted");
  });

  it("a file written just before opening shows no change banner; a real rewrite does", async () => {
    const fresh = workspaceFile("fresh-write.gguf");
    await writeGgufWithMetadata({ input: workspaceFile("tiny-llama-f16.gguf"), output: fresh, edits: { set: [{ key: "general.name", type: GgufValueType.STRING, value: "fresh" }] } });
    const frame = await openInspector(fresh);
    await new Promise((r) => setTimeout(r, 3000)); // the watcher's late events about the write arrive in this window
    const state = await webviewAttribute(frame, "#inspector", "data-file-state");
    assert.ok(state === null || state === "present", `no banner for the write that preceded opening (state ${state})`);
    await writeGgufWithMetadata({ input: workspaceFile("tiny-llama-f16.gguf"), output: `${fresh}.next`, edits: { set: [{ key: "general.name", type: GgufValueType.STRING, value: "rewritten" }] } });
    fs.renameSync(`${fresh}.next`, fresh);
    await waitForWebview(`#inspector[data-file-state="changed"]`, frame, { timeoutMs: 30_000 });
    assert.match(await webviewText(frame, "#file-banner"), /changed/);
    fs.rmSync(fresh, { force: true });
  });
});

describe("GGUF inspector state and actions", function () {
  this.timeout(120_000);
  before(function () {
    if (!hasBrowserDriver()) this.skip();
  });
  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("restores the tab and the filters after the editor was hidden and shown again", async () => {
    const file = workspaceFile("tiny-moe-f16.gguf");
    const frame = await openInspector(file);
    await webviewClick(frame, "#tab-tensors");
    await webviewFill(frame, "#tensor-filter-name input", "ffn_gate");
    const expected = (await readGgufModel(file)).tensors.filter((t) => /ffn_gate/i.test(t.name)).length;
    await waitUntil(async () => (await countShown(frame)) === expected || undefined, "the filter applied");
    // Another editor in the same group hides the webview; retainContextWhenHidden is off, so it is destroyed.
    const other = await vscode.workspace.openTextDocument(vscode.Uri.file(workspaceFile("README.md")));
    await vscode.window.showTextDocument(other, { preview: false });
    await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(file));
    await waitForWebview(`${frame}[data-tab="tensors"]`, frame, { timeoutMs: 30_000 });
    await waitUntil(async () => (await countShown(frame)) === expected || undefined, "the restored filter");
    assert.equal(await webviewEval<string>(frame, `document.querySelector("#tensor-filter-name").value`), "ffn_gate");
  });

  it("copies --tensor-type rules for the selection that reproduce each tensor's type", async () => {
    const file = workspaceFile("tiny-llama-f16.gguf");
    const model = await readGgufModel(file);
    const frame = await openInspector(file);
    await webviewClick(frame, "#tab-tensors");
    await webviewFill(frame, "#tensor-filter-name input", "attn_v|output");
    const chosen = model.tensors.filter((t) => /attn_v|output/i.test(t.name));
    await waitUntil(async () => (await countShown(frame)) === chosen.length || undefined, "the filter applied");
    await webviewClick(frame, "#tensor-select-all");
    await vscode.env.clipboard.writeText("");
    await webviewClick(frame, "#tensor-copy-rules");
    const text = await waitUntil(async () => (await vscode.env.clipboard.readText()) || undefined, "the rules on the clipboard");
    const rules = [...text.matchAll(/--tensor-type '([^']+)'/g)].map((m) => m[1]);
    assert.ok(rules.length > 0, text);
    for (const t of model.tensors) {
      let type: string | undefined;
      for (const r of rules) {
        const eq = r.lastIndexOf("=");
        if (new RegExp(r.slice(0, eq).toLowerCase()).test(t.name)) type = r.slice(eq + 1);
      }
      assert.equal(type, chosen.includes(t) ? t.typeName : undefined, `${t.name}: ${rules.join(" ")}`);
    }
  });
});
