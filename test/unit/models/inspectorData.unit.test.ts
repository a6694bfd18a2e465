import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readArrayPage, readGgufModel, summarizeGguf, type GgufLazyArray } from "../../../src/core/gguf";
import { MetadataArrayBrowser } from "../../../src/core/models/arrayBrowser";
import { inspectorErrorOf, loadInspectorModel, tensorColumns } from "../../../src/core/models/inspectorData";
import { renderExport, toCsv, tensorTable } from "../../../src/core/models/modelReport";
import { findBundledLlamaSource } from "../../../src/core/native/llamaSource";
import { repoRoot, splitModel, tempDir, tinyLlama, tinyMoe } from "./helpers";

describe("inspector data (core/models/inspectorData)", () => {
  for (const fixture of [tinyLlama, tinyMoe]) {
    it(`overview of ${path.basename(fixture)} matches the core summary`, async () => {
      const loaded = await loadInspectorModel(fixture);
      const summary = summarizeGguf(await readGgufModel(fixture));
      const o = loaded.view.overview;
      assert.equal(o.tensorCount, summary.tensorCount);
      assert.equal(o.parameterCount, summary.parameterCount);
      assert.equal(o.tensorBytes, summary.tensorBytes);
      assert.equal(o.fileSize, fs.statSync(fixture).size);
      assert.equal(o.architecture, summary.architecture.architecture);
      assert.equal(o.layerCount, summary.architecture.blockCount);
      assert.equal(o.vocabSize, summary.architecture.vocabSize);
      assert.equal(o.expertCount, summary.architecture.expertCount);
      assert.deepEqual(o.typeMix.map((m) => [m.typeName, m.bytes]), summary.typeHistogram.map((h) => [h.typeName, h.bytes]));
      assert.ok(!o.warnings.some((w) => w.code === "no-chat-template"), "the fixtures carry a chat template");
      assert.equal(loaded.view.chatTemplates[0]?.key, "tokenizer.chat_template");
      assert.equal(loaded.view.metadata.length, loaded.model.metadata.size);
    });
  }

  it("tensor pages concatenate to every tensor, in file order, with consistent type and kind indexes", async () => {
    const loaded = await loadInspectorModel(tinyMoe);
    const names: string[] = [];
    for (let offset = 0; offset < loaded.model.tensors.length; offset += 7) {
      const page = tensorColumns(loaded, offset, 7);
      page.names.forEach((n, i) => {
        const t = loaded.model.tensors[offset + i];
        assert.equal(n, t.name);
        assert.equal(loaded.view.typeNames[page.typeIndex[i]], t.typeName);
        assert.equal(loaded.view.kinds[page.kindIndex[i]], t.kind);
        assert.equal(page.bytes[i], t.byteSize);
        assert.equal(page.layer[i], t.layer ?? -1);
        assert.equal(page.shapes[i], t.shape.join("×"));
      });
      names.push(...page.names);
    }
    assert.deepEqual(names, loaded.model.tensors.map((t) => t.name));
    assert.equal(tensorColumns(loaded, loaded.model.tensors.length + 5, 10).names.length, 0, "a page past the end is empty");
  });

  it("opening any shard of a split set shows the whole model; a missing shard opens with a warning", async function () {
    this.timeout(30_000);
    const dir = tempDir("split");
    const shards = splitModel(tinyLlama, dir, "tiny");
    assert.ok(shards.length >= 3, `split into ${shards.length} shards`);
    const whole = await loadInspectorModel(tinyLlama);
    for (const shard of shards) {
      const loaded = await loadInspectorModel(shard);
      assert.equal(loaded.view.overview.isSplit, true);
      assert.deepEqual(loaded.view.overview.shardPaths, shards);
      assert.equal(loaded.view.overview.tensorCount, whole.view.overview.tensorCount);
      assert.equal(loaded.view.overview.parameterCount, whole.view.overview.parameterCount);
      assert.equal(loaded.view.overview.fileSize, shards.reduce((s, p) => s + fs.statSync(p).size, 0));
    }
    fs.rmSync(shards[2]);
    const partial = await loadInspectorModel(shards[0]);
    const warning = partial.view.overview.warnings.find((w) => w.code === "missing-shard");
    assert.ok(warning, "missing-shard warning");
    assert.match(warning.message, new RegExp(path.basename(shards[2]).replace(/\./g, "\\.")));
    assert.ok(partial.view.overview.tensorCount < whole.view.overview.tensorCount);
    fs.rmSync(dir, { recursive: true });
  });

  it("corrupt, truncated and non-GGUF files turn into typed errors with the offset", async () => {
    const dir = tempDir("bad");
    const notGguf = path.join(dir, "readme.gguf");
    fs.writeFileSync(notGguf, "this is a text file, not a model\n");
    const truncated = path.join(dir, "truncated.gguf");
    fs.writeFileSync(truncated, fs.readFileSync(tinyLlama).subarray(0, 4096));
    const e1 = await loadInspectorModel(notGguf).then(() => undefined, (e: unknown) => inspectorErrorOf(notGguf, e));
    assert.equal(e1?.code, "bad-magic");
    assert.equal(e1?.offset, 0);
    assert.equal(e1?.path, notGguf);
    const e2 = await loadInspectorModel(truncated).then(() => undefined, (e: unknown) => inspectorErrorOf(truncated, e));
    assert.ok(e2, "truncated file fails");
    assert.ok(["truncated", "length-past-eof", "count-too-large", "tensor-data-past-eof"].includes(e2.code), e2.code);
    assert.equal(typeof e2.offset, "number");
    assert.doesNotMatch(e2.message, /\(at byte \d+\)$/, "the offset is a field, not repeated in the message");
    const e3 = await loadInspectorModel(path.join(dir, "absent.gguf")).then(() => undefined, (e: unknown) => inspectorErrorOf("x", e));
    assert.equal(e3?.code, "io");
    fs.rmSync(dir, { recursive: true });
  });

  it("pages and searches the vocabulary like a full decode does", async () => {
    const loaded = await loadInspectorModel(tinyLlama);
    const browser = new MetadataArrayBrowser(tinyLlama, loaded.model.metadata);
    const entry = loaded.model.metadata.get("tokenizer.ggml.tokens");
    assert.ok(entry && typeof entry.value === "object");
    const length = entry.value.kind === "array" ? entry.value.values.length : entry.value.count;
    const all =
      entry.value.kind === "array" ? entry.value.values.map(String) : (await readArrayPage(tinyLlama, entry.value as GgufLazyArray, 0, length)).map(String);
    const page = await browser.page("tokenizer.ggml.tokens", 100, 50, "");
    assert.equal(page.total, length);
    assert.deepEqual(page.entries.map((e) => e.value), all.slice(100, 150));
    const hits = await browser.page("tokenizer.ggml.tokens", 0, 10_000, "im_");
    const expected = all.map((v, i) => [v, i] as const).filter(([v]) => v.toLowerCase().includes("im_"));
    assert.ok(expected.length >= 2, "<|im_start|> and <|im_end|> are in the vocabulary");
    assert.equal(hits.total, expected.length);
    assert.deepEqual(hits.entries.map((e) => e.index), expected.map(([, i]) => i));
    await browser.close();
  });

  it("exports tables that parse back to the model's numbers", async () => {
    const loaded = await loadInspectorModel(tinyMoe);
    const csv = toCsv(tensorTable(loaded)).trimEnd().split("\r\n");
    assert.equal(csv.length, loaded.model.tensors.length + 1);
    const bytesCol = csv[0].split(",").indexOf("bytes");
    const sum = csv.slice(1).reduce((s, line) => s + Number(line.split(",")[bytesCol]), 0);
    assert.equal(sum, loaded.view.overview.tensorBytes);
    const summary = JSON.parse(renderExport(loaded, "summary", "json")) as { overview: { parameterCount: number }; byLayer: unknown[] };
    assert.equal(summary.overview.parameterCount, loaded.view.overview.parameterCount);
    assert.equal(summary.byLayer.length, loaded.summary.byLayer.length);
    const md = renderExport(loaded, "metadata", "markdown").trimEnd().split("\n");
    assert.equal(md.filter((l) => l.startsWith("| ")).length, loaded.model.metadata.size + 2, "header, rule and one row per key");
    const meta = JSON.parse(renderExport(loaded, "metadata", "json")) as { key: string }[];
    assert.deepEqual(meta.map((m) => m.key), [...loaded.model.metadata.keys()]);
  });
});

describe("inspector data on a 262k-token vocabulary (llama.cpp's ggml-vocab-gemma-4.gguf)", () => {
  const source = findBundledLlamaSource(repoRoot);
  const vocabFile = source ? path.join(source, "models", "ggml-vocab-gemma-4.gguf") : "";
  before(function () {
    if (!source || !fs.existsSync(vocabFile)) this.skip(); // the bundled llama.cpp source comes with `npm run setup`
  });

  it("opens as vocab-only, keeps the big arrays on disk, and pages and searches them like a full decode", async function () {
    this.timeout(60_000);
    const loaded = await loadInspectorModel(vocabFile);
    const codes = loaded.view.overview.warnings.map((w) => w.code);
    assert.ok(codes.includes("vocab-only"), codes.join(","));
    assert.equal(loaded.view.overview.tensorCount, 0);
    const tokensRow = loaded.view.metadata.find((r) => r.key === "tokenizer.ggml.tokens");
    assert.equal(tokensRow?.arrayLength, loaded.view.overview.vocabSize);
    assert.ok((tokensRow?.arrayLength ?? 0) > 200_000);
    const lazy = loaded.model.metadata.get("tokenizer.ggml.tokens")?.value as GgufLazyArray;
    assert.equal(lazy.kind, "lazy-array");
    const all = (await readArrayPage(vocabFile, lazy, 0, lazy.count)).map(String);
    const browser = new MetadataArrayBrowser(vocabFile, loaded.model.metadata);
    const page = await browser.page("tokenizer.ggml.tokens", 150_000, 300, "");
    assert.deepEqual(page.entries.map((e) => e.value), all.slice(150_000, 150_300));
    const hits = await browser.page("tokenizer.ggml.tokens", 0, 2000, "Hello");
    const expected = all.flatMap((v, i) => (v.toLowerCase().includes("hello") ? [i] : []));
    assert.equal(hits.total, expected.length);
    assert.deepEqual(hits.entries.map((e) => e.index), expected.slice(0, 2000));
    await browser.close();
  });
});
