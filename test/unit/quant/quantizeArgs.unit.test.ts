import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { readGgufModel } from "../../../src/core/gguf";
import { runTool } from "../../../src/core/native/toolRunner";
import { parseQuantizeTensorLine } from "../../../src/core/quant/progress";
import {
  FULL_OFFLOAD_LAYERS, buildImatrixArgs, buildQuantizeArgs, defaultOutputPath, formatCommandLine, keepSplitOutputPaths, resolveGpuLayers,
} from "../../../src/core/quant/quantizeArgs";
import { TINY_LLAMA, realTools, tempDir } from "./quantTestSupport";

describe("quantize arguments", () => {
  it("put flags before the positional IN OUT TYPE [threads], as llama-quantize parses them", () => {
    const args = buildQuantizeArgs({
      input: "/m/in.gguf", output: "/m/out.gguf", type: "Q4_K_M", imatrix: "/m/im.gguf", allowRequantize: true,
      outputTensorType: "Q6_K", tokenEmbeddingType: "q8_0", pure: true, keepSplit: true, threads: 3, tensorTypes: ["attn_v=q8_0"],
    });
    const firstPositional = args.indexOf("/m/in.gguf");
    assert.deepEqual(args.slice(firstPositional), ["/m/in.gguf", "/m/out.gguf", "Q4_K_M", "3"]);
    assert.ok(args.slice(0, firstPositional).every((a, i, all) => a.startsWith("--") || all[i - 1]?.startsWith("--")));
    assert.equal(args[args.indexOf("--output-tensor-type") + 1], "q6_k");
    assert.equal(args[args.indexOf("--imatrix") + 1], "/m/im.gguf");
  });

  it("produce flags the real tool applies: output and embedding types show up in its dry run", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    const lines: string[] = [];
    await runTool({
      executable: tools.quantize,
      args: buildQuantizeArgs({ input: TINY_LLAMA, output: "/nonexistent/o.gguf", type: "Q4_K_M", outputTensorType: "Q8_0", tokenEmbeddingType: "Q6_K", dryRun: true, threads: 1 }),
      onLine: (l) => lines.push(l),
    });
    const types = new Map(lines.map(parseQuantizeTensorLine).filter((t) => t !== undefined).map((t) => [t.name, t.targetType]));
    assert.equal(types.get("output.weight"), "Q8_0");
    assert.equal(types.get("token_embd.weight"), "Q6_K");
  });

  it("name the default output <model>-<TYPE>.gguf next to the source, never the source", () => {
    assert.equal(defaultOutputPath("/models/tiny-llama-f16.gguf", "q4_k_m"), "/models/tiny-llama-Q4_K_M.gguf");
    assert.equal(defaultOutputPath("/models/big-00001-of-00003.gguf", "Q8_0"), "/models/big-Q8_0.gguf");
    assert.equal(defaultOutputPath("/models/mistral.gguf", "IQ4_XS"), "/models/mistral-IQ4_XS.gguf");
    for (const t of ["F16", "BF16", "F32"]) assert.notEqual(defaultOutputPath(`/m/x-${t}.gguf`, t), `/m/x-${t}.gguf`);
  });

  it("offload every layer for the imatrix only on CUDA/Metal tools, unless the setting says otherwise", () => {
    assert.equal(resolveGpuLayers("auto", "cuda"), FULL_OFFLOAD_LAYERS);
    assert.equal(resolveGpuLayers("auto", "metal"), FULL_OFFLOAD_LAYERS);
    assert.equal(resolveGpuLayers("auto", "cpu"), 0);
    assert.equal(resolveGpuLayers("auto", "unknown"), 0);
    assert.equal(resolveGpuLayers("cpu", "cuda"), 0);
    assert.equal(resolveGpuLayers("gpu", "cpu"), FULL_OFFLOAD_LAYERS);
    assert.equal(resolveGpuLayers("auto", "cuda", 12), 12);
    const args = buildImatrixArgs({ model: "m", calibration: "c", output: "o", gpuLayers: resolveGpuLayers("auto", "cuda"), parseSpecial: true });
    assert.equal(args[args.indexOf("-ngl") + 1], "999");
    assert.ok(args.includes("--parse-special"));
  });

  it("predict the shard names llama-quantize --keep-split writes for a split source", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    const dir = tempDir("keepsplit");
    try {
      const r = spawnSync(tools.split, ["--split", "--split-max-tensors", "30", TINY_LLAMA, path.join(dir, "src")], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const out = path.join(dir, "out.gguf");
      await runTool({ executable: tools.quantize, args: buildQuantizeArgs({ input: path.join(dir, "src-00001-of-00002.gguf"), output: out, type: "Q8_0", keepSplit: true, threads: 2 }) });
      const expected = keepSplitOutputPaths(out, 2);
      for (const p of expected) assert.ok(fs.existsSync(p), `${path.basename(p)} written`);
      const model = await readGgufModel(expected[0]);
      assert.equal(model.isSplit, true);
      assert.equal(model.tensors.length, (await readGgufModel(TINY_LLAMA)).tensors.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("quote command lines for display so they can be pasted into a shell", () => {
    assert.equal(formatCommandLine("/bin/llama-quantize", ["/a b/in.gguf", "it's", "Q4_K_M"]), `/bin/llama-quantize '/a b/in.gguf' 'it'\\''s' Q4_K_M`);
  });
});
