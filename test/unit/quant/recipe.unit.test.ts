import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFile } from "../../../src/core/gguf";
import { locateTools } from "../../../src/core/native/toolLocator";
import { runTool } from "../../../src/core/native/toolRunner";
import { parseQuantizeTensorLine } from "../../../src/core/quant/progress";
import { compileRecipe, ftypeForBaseType, writeCompiledRecipe } from "../../../src/core/quant/recipeCompile";
import { estimateOutputFileBytes, loadRecipeModel, prepareRecipeQuantize, resolveForModel, type RecipeModel } from "../../../src/core/quant/recipeFile";
import { runQuantizeJob } from "../../../src/core/quant/quantizeJob";
import { serializeRecipe } from "../../../src/core/quant/recipeParse";
import { parseRecipe, patternProblem, validateRecipe } from "../../../src/core/quant/recipeParse";
import { fallbackType, resolveRecipe } from "../../../src/core/quant/recipeResolve";
import { buildStartingRecipe } from "../../../src/core/quant/recipeStarts";
import { RecipeError, type QuantRecipe, type RecipeTensor } from "../../../src/core/quant/recipeTypes";

const ROOT = path.resolve(__dirname, "../../../..");
const fixture = (n: string) => path.join(ROOT, "test", "fixtures", n);
const quantizeTool = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found["llama-quantize"]?.path;

const tensor = (name: string, shape: number[], ggmlType = 1): RecipeTensor => ({
  name, shape, ggmlType, elementCount: shape.reduce((a, b) => a * b, 1),
  layer: /blk\.(\d+)\./.exec(name) ? Number(/blk\.(\d+)\./.exec(name)?.[1]) : undefined,
  kind: name.replace(/^blk\.\d+\./, "").replace(/\.weight$/, ""),
});

describe("recipe validation", () => {
  it("rejects an invalid regex, an unknown type and an unquantized base with paths", () => {
    const { recipe, problems } = validateRecipe({ baseType: "F16", rules: [{ pattern: "blk\\.(0", type: "Q4_K" }, { pattern: "attn", type: "Q9_K" }] });
    assert.equal(recipe, undefined);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    assert.match(byPath.get("baseType")?.message ?? "", /quantized type/);
    assert.match(byPath.get("rules[0].pattern")?.message ?? "", /invalid regex/);
    assert.match(byPath.get("rules[1].type")?.message ?? "", /unknown type "Q9_K"/);
    assert.throws(() => parseRecipe(JSON.stringify({ baseType: "Q4_K", rules: [{ pattern: "(", type: "Q4_K" }] })), RecipeError);
    assert.throws(() => parseRecipe("{ not json"), /not valid JSON/);
  });

  it("refuses patterns llama-quantize's tensor-type file would read differently", () => {
    assert.equal(patternProblem("blk\\.\\d+\\.attn_v"), undefined);
    assert.match(patternProblem("\\S+attn") ?? "", /upper-case/);
    assert.match(patternProblem("attn q") ?? "", /whitespace/);
    assert.match(patternProblem("a=b") ?? "", /'='/);
    assert.match(patternProblem("(?<!blk)x") ?? "", /lookbehind/);
  });

  it("normalizes type spelling and keeps notes", () => {
    const { recipe } = parseRecipe(JSON.stringify({ baseType: "q4_k", rules: [{ pattern: "attn_v", type: "q6_k", note: "why" }] }));
    assert.equal(recipe.baseType, "Q4_K");
    assert.deepEqual(recipe.rules[0], { pattern: "attn_v", type: "Q6_K", note: "why" });
  });
});

describe("recipe resolution", () => {
  const tensors = [
    tensor("token_embd.weight", [256, 4096]),
    tensor("blk.0.attn_norm.weight", [256], 0),
    tensor("blk.0.ffn_gate_inp.weight", [256, 4], 0),
    tensor("blk.0.attn_q.weight", [256, 256]),
    tensor("blk.0.ffn_down.weight", [768, 256]),
    tensor("blk.1.ffn_down.weight", [96, 256]),
  ];

  it("lets the last matching rule win and reports which rule decided", () => {
    const recipe: QuantRecipe = { version: 1, baseType: "Q4_K", rules: [
      { pattern: "ffn_down", type: "Q2_K" }, { pattern: "blk\\.0\\.ffn_down", type: "Q6_K" }, { pattern: "nothing_here", type: "Q8_0" },
    ] };
    const r = resolveRecipe(recipe, tensors);
    const by = new Map(r.tensors.map((t) => [t.name, t]));
    assert.equal(by.get("blk.0.ffn_down.weight")?.type, "Q6_K");
    assert.deepEqual(by.get("blk.0.ffn_down.weight")?.source, { by: "rule", ruleIndex: 1 });
    assert.equal(by.get("blk.0.attn_q.weight")?.type, "Q4_K");
    assert.deepEqual(by.get("blk.0.attn_q.weight")?.source, { by: "base" });
    assert.deepEqual(r.ruleMatchCounts, [2, 1, 0]);
    assert.ok(r.problems.some((p) => p.path === "rules[2].pattern" && /matches no quantizable tensor/.test(p.message)));
  });

  it("keeps norms, the router and 1-D tensors in their source type", () => {
    const r = resolveRecipe({ version: 1, baseType: "Q2_K", rules: [{ pattern: ".", type: "Q2_K" }] }, tensors);
    const by = new Map(r.tensors.map((t) => [t.name, t]));
    assert.equal(by.get("blk.0.attn_norm.weight")?.type, "F32");
    assert.equal(by.get("blk.0.attn_norm.weight")?.source.by, "kept");
    assert.equal(by.get("blk.0.ffn_gate_inp.weight")?.type, "F32");
    assert.match(by.get("blk.0.ffn_gate_inp.weight")?.source.by === "kept" ? (by.get("blk.0.ffn_gate_inp.weight")?.source as { reason: string }).reason : "", /router/);
  });

  it("reports a shape fallback instead of hiding it", () => {
    const r = resolveRecipe({ version: 1, baseType: "Q4_K", rules: [] }, tensors);
    const f = r.tensors.find((t) => t.name === "blk.1.ffn_down.weight");
    assert.equal(f?.requestedType, "Q4_K");
    assert.equal(f?.type, "Q5_0");
    assert.match(f?.fallback?.reason ?? "", /96 is not a multiple of Q4_K's block size 256/);
    assert.equal(r.fallbacks.length, 1);
    assert.ok(r.problems.some((p) => /writes Q5_0 instead/.test(p.message)));
    // Bytes follow the written type: 96*256 values in Q5_0 (22 bytes per 32).
    assert.equal(f?.bytes, (96 * 256 / 32) * 22);
    assert.equal(fallbackType("IQ2_XXS", 96), "IQ4_NL");
    assert.equal(fallbackType("Q6_K", 48), "F16");
  });

  it("builds the Unsloth-style starting point from the model's own tensors", async () => {
    const moe = await loadRecipeModel(fixture("tiny-moe-f16.gguf"));
    const recipe = buildStartingRecipe("dynamic", moe.tensors, "Q3_K");
    const r = resolveForModel(recipe, moe);
    const by = new Map(r.tensors.map((t) => [t.name, t]));
    assert.equal(by.get("blk.1.ffn_up_exps.weight")?.type, "Q3_K", "routed experts at base");
    assert.equal(by.get("blk.1.attn_q.weight")?.type, "Q4_K", "attention higher in MoE");
    assert.equal(by.get("blk.0.ffn_down_exps.weight")?.type, "Q3_K", "routed experts lowest, even in the first layer");
    assert.equal(by.get("token_embd.weight")?.type, "IQ4_XS");
    assert.equal(r.problems.filter((p) => p.severity === "error").length, 0);
    assert.equal(by.get("blk.0.ffn_gate_inp.weight")?.source.by, "kept");
    const dense = await loadRecipeModel(fixture("tiny-llama-f16.gguf"));
    const d = resolveForModel(buildStartingRecipe("dynamic", dense.tensors, "Q4_K"), dense);
    const dby = new Map(d.tensors.map((t) => [t.name, t]));
    assert.equal(dby.get("blk.0.ffn_down.weight")?.type, "Q6_K");
    assert.equal(dby.get("blk.5.ffn_down.weight")?.type, "Q6_K");
    assert.equal(dby.get("blk.3.ffn_down.weight")?.type, "Q4_K");
    assert.equal(dby.get("blk.3.attn_q.weight")?.type, "Q4_K", "dense attention stays at base");
  });
});

describe("recipe compiler against llama-quantize", function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    if (!quantizeTool) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "recipe-test-"));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  async function dryRun(model: RecipeModel, recipe: QuantRecipe, tag: string) {
    const resolution = resolveForModel(recipe, model);
    const written = await writeCompiledRecipe(compileRecipe(recipe, resolution), path.join(dir, `${tag}.txt`));
    const lines: string[] = [];
    await runTool({
      executable: quantizeTool as string,
      args: [...written.extraArgs.filter((a, i, all) => a !== "--imatrix" && all[i - 1] !== "--imatrix"), "--dry-run", model.path, path.join(dir, `${tag}.gguf`), written.ftype, "2"],
      onLine: (l) => lines.push(l),
    });
    return { resolution, lines, written };
  }

  const cases: [string, string, "dynamic" | "uniform" | "stock-like"][] = [
    ["tiny-llama-f16.gguf", "Q4_K", "dynamic"],
    ["tiny-llama-f16.gguf", "Q2_K", "stock-like"],
    ["tiny-llama-f16.gguf", "IQ2_XXS", "dynamic"],
    ["tiny-moe-f16.gguf", "Q3_K", "dynamic"],
    ["tiny-moe-f16.gguf", "IQ4_XS", "uniform"],
  ];
  for (const [file, base, start] of cases) {
    it(`--dry-run agrees tensor by tensor on ${file} (${start} at ${base})`, async () => {
      const model = await loadRecipeModel(fixture(file));
      const recipe = buildStartingRecipe(start, model.tensors, base, { hasImatrix: base.startsWith("IQ") });
      const { resolution, lines } = await dryRun(model, recipe, `${file}-${base}-${start}`);
      const printed = lines.map(parseQuantizeTensorLine).filter((t) => t !== undefined);
      assert.equal(printed.length, model.tensors.length);
      const ours = new Map(resolution.tensors.map((t) => [t.name, t]));
      for (const p of printed) {
        const t = ours.get(p.name);
        assert.ok(t, p.name);
        assert.equal(p.targetType ?? p.sourceType, t.type, `${p.name} type`);
        // The tool prints MiB with 2 decimals (3 for copied tensors).
        const digits = p.targetType ? 2 : 3;
        assert.equal(p.targetMiB?.toFixed(digits), (t.bytes / 1048576).toFixed(digits), `${p.name} size`);
      }
      const total = lines.map((l) => /quant size\s*=\s*([\d.]+) MiB \(([\d.]+) BPW\)/.exec(l)).find((m) => m);
      assert.ok(total, "dry run printed a total");
      assert.equal(total[1], (resolution.tensorBytes / 1048576).toFixed(2));
      assert.equal(total[2], resolution.bitsPerWeight.toFixed(2));
      assert.equal(lines.some((l) => /fallback/.test(l)), resolution.fallbacks.length > 0);
    });
  }

  it("a real quantization writes exactly the bytes and types the recipe predicts", async () => {
    const model = await loadRecipeModel(fixture("tiny-llama-f16.gguf"));
    const recipe = buildStartingRecipe("dynamic", model.tensors, "Q3_K");
    const resolution = resolveForModel(recipe, model);
    const written = await writeCompiledRecipe(compileRecipe(recipe, resolution), path.join(dir, "real.txt"));
    const out = path.join(dir, "real.gguf");
    await runTool({ executable: quantizeTool as string, args: [...written.extraArgs, model.path, out, written.ftype, "2"] });
    const q = await readGgufFile(out);
    const ours = new Map(resolution.tensors.map((t) => [t.name, t]));
    for (const t of q.tensors) {
      assert.equal(t.typeName, ours.get(t.name)?.type, t.name);
      assert.equal(t.byteSize, ours.get(t.name)?.bytes, t.name);
    }
    assert.equal(q.fileSize - q.tensorDataOffset, resolution.paddedTensorBytes);
    const estimate = estimateOutputFileBytes(model, resolution);
    assert.ok(Math.abs(estimate - q.fileSize) < 1024, `estimate ${estimate} vs ${q.fileSize}`);
    assert.equal(written.ftype, ftypeForBaseType("Q3_K"));
  });

  it("runs through the quantize job (the one runner for presets and recipes)", async () => {
    const model = await loadRecipeModel(fixture("tiny-moe-f16.gguf"));
    const recipeFile = path.join(dir, "moe.quant.json");
    fs.writeFileSync(recipeFile, serializeRecipe(buildStartingRecipe("dynamic", model.tensors, "Q3_K")));
    const inputs = await prepareRecipeQuantize(recipeFile, model.path, path.join(dir, "moe.tensor-types.txt"));
    const out = path.join(dir, "moe-recipe.gguf");
    const result = await runQuantizeJob(
      { source: model.path, output: out, type: inputs.type, tensorTypeFile: inputs.tensorTypeFile, threads: 2 },
      { executables: { quantize: quantizeTool as string } },
    );
    assert.equal(result.estimate.bytes, inputs.estimatedFileBytes, "the job's dry-run estimate equals the recipe's");
    const q = await readGgufFile(out);
    for (const t of q.tensors) assert.equal(t.typeName, inputs.resolution.tensors.find((a) => a.name === t.name)?.type, t.name);
  });
});
