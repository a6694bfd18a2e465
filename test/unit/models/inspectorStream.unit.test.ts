// The inspector's streaming open path: preview (metadata + first rows), model, pushed tensorChunks,
// taken by the webview's StreamGate and TensorData, including a file rewritten on disk mid-stream.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { isGgufError, readGgufFile, readGgufModel, readGgufPrefix } from "../../../src/core/gguf";
import { loadInspectorModel, type LoadedModel } from "../../../src/core/models/inspectorData";
import {
  loadInspectorPreview, modelMessage, previewMessage, streamTensorChunks, tensorChunks,
} from "../../../src/core/models/inspectorStream";
import { FIRST_TENSOR_PAGE, type ToInspector } from "../../../src/shared/inspectorProtocol";
import { StreamGate, type StreamMessage } from "../../../webview/inspector/streamGate";
import { TensorData } from "../../../webview/inspector/tensorModel";
import { buildGguf, type TestTensor } from "../gguf/ggufTestBuilder";
import { tempDir, tinyLlama, tinyMoe } from "./helpers";

/** A model with `count` small tensors; every tensor has its own kind (as in the bench's synthetic file). */
function manyTensors(count: number, prefix: string): Buffer {
  const tensors: TestTensor[] = [];
  for (let i = 0; i < count; i++) tensors.push({ name: `blk.${i >> 4}.${prefix}${i}.weight`, shape: [32], type: i % 3 === 0 ? 1 : 0, fill: i });
  return buildGguf({
    kvs: [
      { key: "general.architecture", type: 8, value: "llama" },
      { key: "llama.block_count", type: 4, value: Math.ceil(count / 16) },
      { key: "tokenizer.ggml.tokens", type: 9, value: { elementType: 8, values: Array.from({ length: 5000 }, (_, i) => `t${i}`) } },
    ],
    tensors,
  });
}

type Chunk = Extract<ToInspector, { type: "tensorChunk" }>;

/** What the webview does with the stream: the gate decides, TensorData holds the rows. */
class FakeWebview {
  readonly gate = new StreamGate();
  data: TensorData | undefined;
  readonly actions: string[] = [];
  receive(m: StreamMessage): void {
    const action = this.gate.admit(m);
    this.actions.push(`${m.type}:${m.generation}:${action}`);
    if (m.type !== "tensorChunk" && action !== "drop") {
      this.data = new TensorData(m.model.overview.tensorCount, m.model.typeNames, m.model.kinds);
      this.data.add(0, m.firstTensors);
    } else if (m.type === "tensorChunk" && action === "append") this.data?.addChunk(m.offset, m.columns, m.newKinds);
  }
}

/** The table the webview ends with must be the model's, row for row (names, kinds, types, layers). */
function assertTableIs(d: TensorData | undefined, loaded: LoadedModel): void {
  assert.ok(d, "a model was shown");
  assert.equal(d.length, loaded.model.tensors.length);
  assert.ok(d.complete);
  loaded.model.tensors.forEach((t, i) => {
    assert.equal(d.names[i], t.name);
    assert.equal(d.kinds[d.kindIndex[i]], t.kind, `kind of ${t.name}`);
    assert.equal(d.typeNames[d.typeIndex[i]], t.typeName);
    assert.equal(d.layer[i], t.layer ?? -1);
    assert.equal(d.bytes[i], t.byteSize);
  });
}

describe("inspector stream (core/models/inspectorStream, webview StreamGate)", () => {
  let dir: string;
  before(() => (dir = tempDir("inspector-stream")));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const fixture of [tinyLlama, tinyMoe]) {
    it(`preview of ${path.basename(fixture)}: the model's metadata, facts and first rows, tensor totals pending`, async () => {
      const preview = await loadInspectorPreview(fixture);
      const loaded = await loadInspectorModel(fixture);
      const p = preview.model.overview;
      const o = loaded.view.overview;
      assert.equal(p.partial, true);
      assert.equal(o.partial, undefined);
      for (const k of ["fileName", "path", "architecture", "modelName", "fileTypeName", "contextLength", "layerCount", "expertCount", "vocabSize", "tensorCount", "ggufVersion", "fileSize"] as const) {
        assert.deepEqual(p[k], o[k], k);
      }
      assert.equal(p.parameterCount, 0);
      assert.deepEqual(p.typeMix, []);
      assert.deepEqual(preview.model.metadata, loaded.view.metadata);
      assert.deepEqual(preview.model.chatTemplates, loaded.view.chatTemplates);
      const rows = Math.min(FIRST_TENSOR_PAGE, loaded.model.tensors.length);
      assert.deepEqual(preview.firstTensors.names, loaded.model.tensors.slice(0, rows).map((t) => t.name));
      assert.deepEqual(preview.firstTensors.bytes, loaded.model.tensors.slice(0, rows).map((t) => t.byteSize));
    });
  }

  it("readGgufPrefix reads only the first tensor infos: a file cut inside later infos still previews, then fails to load", async () => {
    const whole = manyTensors(600, "k");
    const file = path.join(dir, "cut.gguf");
    const full = await readGgufFile((fs.writeFileSync(file, whole), file));
    const cutAt = full.tensorInfoOffset + Math.floor((full.tensorInfoEnd - full.tensorInfoOffset) * 0.8);
    fs.writeFileSync(file, whole.subarray(0, cutAt));
    const prefix = await readGgufPrefix(file, 100);
    assert.equal(prefix.tensorCount, 600);
    assert.deepEqual(prefix.tensors.map((t) => t.name), full.tensors.slice(0, 100).map((t) => t.name));
    await assert.rejects(loadInspectorModel(file), (e: unknown) => isGgufError(e) && e.code === "truncated");
  });

  it("parsing in slices (yieldEveryMs) gives the event loop turns and the same model", async () => {
    const file = path.join(dir, "sliced.gguf");
    fs.writeFileSync(file, manyTensors(20_000, "s"));
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = await readGgufModel(file, { yieldEveryMs: 0 });
    ticking = false;
    const plain = await readGgufModel(file);
    assert.ok(turns > 10, `only ${turns} event-loop turns during a 20k-tensor parse`);
    assert.deepEqual(sliced.tensors, plain.tensors);
  });

  it("model + tensorChunks rebuild every row in the webview; kinds arrive with the chunks that use them", async () => {
    const file = path.join(dir, "many.gguf");
    fs.writeFileSync(file, manyTensors(1000, "k"));
    const loaded = await loadInspectorModel(file);
    const model = modelMessage(loaded, 1);
    assert.equal(model.firstTensors.names.length, FIRST_TENSOR_PAGE);
    assert.equal(model.model.kinds.length, FIRST_TENSOR_PAGE, "only the kinds of the first rows travel with the model");
    const chunks = [...tensorChunks(loaded, 1, 100)];
    assert.equal(chunks.length, Math.ceil((1000 - FIRST_TENSOR_PAGE) / 100));
    assert.deepEqual(chunks.map((c) => c.offset), chunks.map((_, i) => FIRST_TENSOR_PAGE + i * 100));
    const web = new FakeWebview();
    web.receive(previewMessage(await loadInspectorPreview(file), 1));
    web.receive(model);
    for (const c of chunks) web.receive(c);
    assertTableIs(web.data, loaded);
    assert.deepEqual(web.actions.slice(0, 2), ["preview:1:show-preview", "model:1:show-model"]);
  });

  it("the gate drops a late preview, older generations and out-of-order chunks", async () => {
    const loaded = await loadInspectorModel(tinyMoe);
    const preview = previewMessage(await loadInspectorPreview(tinyMoe), 2);
    const gate = new StreamGate();
    assert.equal(gate.admit(modelMessage(loaded, 2)), "show-model");
    assert.equal(gate.admit(preview), "drop", "a preview never replaces its generation's model");
    assert.equal(gate.admit(modelMessage(loaded, 1)), "drop", "an older load");
    const big = await loadInspectorModel((fs.writeFileSync(path.join(dir, "gate.gguf"), manyTensors(600, "g")), path.join(dir, "gate.gguf")));
    const [c1, c2] = [...tensorChunks(big, 3, 100)];
    assert.equal(gate.admit(c1), "drop", "chunks of a model not shown");
    assert.equal(gate.admit(modelMessage(big, 3)), "show-model");
    assert.equal(gate.admit(c2), "drop", "a chunk that skips rows");
    assert.equal(gate.admit(c1), "append");
    assert.equal(gate.admit(c2), "append");
    assert.equal(gate.admit({ ...c2, generation: 2 }), "drop");
    assert.equal(gate.received, FIRST_TENSOR_PAGE + 200);
  });

  it("a file rewritten on disk while it streams: the old stream stops, the reload's stream wins, no old row remains", async () => {
    const file = path.join(dir, "rewritten.gguf");
    fs.writeFileSync(file, manyTensors(1500, "old"));
    const web = new FakeWebview();
    let generation = 1;
    const first = await loadInspectorModel(file);
    web.receive(modelMessage(first, 1));
    let reload: Promise<boolean> | undefined;
    let second: LoadedModel | undefined;
    let sentOld = 0;
    const oldDone = streamTensorChunks(first, 1, async (c: Chunk) => {
      // Every chunk of the old stream is the old file's (read before the rewrite).
      assert.ok(c.columns.names.every((n) => n.includes(".old")), "old rows only");
      web.receive(c);
      if (++sentOld === 2) {
        // The file is replaced on disk (write + rename, as llama-quantize or a download does)...
        fs.writeFileSync(`${file}.next`, manyTensors(700, "new"));
        fs.renameSync(`${file}.next`, file);
        // ...and the document reloads: a new generation, streamed while the old one is still going.
        generation = 2;
        second = await loadInspectorModel(file);
        web.receive(modelMessage(second, 2));
        reload = streamTensorChunks(second, 2, (m: Chunk) => web.receive(m), () => generation === 2, 100);
      }
    }, () => generation === 1, 100);
    assert.equal(await oldDone, false, "the old stream stopped when the reload began");
    assert.equal(await reload, true);
    assert.ok(second);
    assert.equal(sentOld, 2, "no old chunk was sent after the reload");
    assertTableIs(web.data, second);
    assert.ok(web.data && !web.data.names.some((n) => n.includes(".old")));
  });

  it("a stream keeps serving the rows it read when the file is truncated under it", async () => {
    const file = path.join(dir, "truncated-later.gguf");
    fs.writeFileSync(file, manyTensors(800, "t"));
    const loaded = await loadInspectorModel(file);
    const web = new FakeWebview();
    web.receive(modelMessage(loaded, 1));
    fs.truncateSync(file, 64);
    assert.equal(await streamTensorChunks(loaded, 1, (m: Chunk) => web.receive(m), () => true, 128), true);
    assertTableIs(web.data, loaded);
    await assert.rejects(loadInspectorPreview(file), (e: unknown) => isGgufError(e), "a new read sees the truncation");
  });
});
