// Recipe extraction: compact rules from a quant's header, and the round trip with the real
// llama-quantize (quantize → extract → quantize the base with the extracted recipe → same types
// and sizes), for a hand-made mixed recipe and for the stock presets, on both fixtures.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { runTool } from "../../../src/core/native/toolRunner";
import { ggmlTypeByName, readGgufFile, readGgufModel } from "../../../src/core/gguf";
import { contiguousRuns, describeLayers, layerAlternation, numberRangePieces } from "../../../src/core/quant/layerPattern";
import { findLayerExpression, formatLayerMapping, layersOfExpression, mapLayers, remapRecipeLayers, sourceLayerFor } from "../../../src/core/quant/recipeRemap";
import { checkReproduction, extractRecipe, extractRecipeFromFile, ExtractError } from "../../../src/core/quant/recipeExtract";
import { loadRecipeModel } from "../../../src/core/quant/recipeFile";
import { parseRecipe, serializeRecipe } from "../../../src/core/quant/recipeParse";
import { resolveRecipe } from "../../../src/core/quant/recipeResolve";
import type { QuantRecipe, RecipeTensor } from "../../../src/core/quant/recipeTypes";
import { CODE_CALIB, realTools, tempDir, TINY_LLAMA, TINY_MOE } from "./quantTestSupport";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

const typeId = (name: string) => (ggmlTypeByName(name) as { id: number }).id;

/** A 32-layer dense model quantized like Q4_K_M, with 288-wide ffn_down rows (fallbacks) and a Q5_K band. */
function syntheticQuant(): RecipeTensor[] {
  const tensors: RecipeTensor[] = [];
  const add = (name: string, shape: number[], type: string, layer?: number) =>
    tensors.push({ name, shape, ggmlType: typeId(type), elementCount: shape.reduce((a, b) => a * b, 1), layer, kind: name });
  for (let l = 0; l < 32; l++) {
    const more = l < 4 || l >= 28 || (l - 4) % 3 === 2;
    add(`blk.${l}.attn_norm.weight`, [4096], "F32", l);
    add(`blk.${l}.attn_q.weight`, [4096, 4096], l >= 10 && l < 20 ? "Q5_K" : "Q4_K", l);
    add(`blk.${l}.attn_k.weight`, [4096, 1024], "Q8_0", l);
    add(`blk.${l}.attn_v.weight`, [4096, 1024], more ? "Q6_K" : "Q4_K", l);
    // Rows of 288 do not fit 256-blocks: llama-quantize writes Q6_K as Q8_0 and Q4_K as Q5_0.
    add(`blk.${l}.ffn_down.weight`, [288, 4096], more ? "Q8_0" : "Q5_0", l);
    add(`blk.${l}.ffn_up.weight`, [4096, 288], "Q4_K", l);
  }
  add("token_embd.weight", [4096, 32000], "Q4_K");
  add("output.weight", [4096, 32000], "Q6_K");
  return tensors;
}

describe("layer patterns", () => {
  it("matches exactly the numbers of a range, for every range up to 130", () => {
    for (let lo = 0; lo < 130; lo += 7) {
      for (let hi = lo; hi < 130; hi += 11) {
        const re = new RegExp(`^(${numberRangePieces(lo, hi).join("|")})$`);
        for (let n = 0; n < 1100; n++) assert.equal(re.test(String(n)), n >= lo && n <= hi, `${lo}-${hi} on ${n}`);
      }
    }
  });

  it("lists short runs and writes long ones as ranges", () => {
    assert.equal(layerAlternation([2]), "2");
    assert.equal(layerAlternation([0, 1, 2]), "(0|1|2)");
    assert.equal(layerAlternation([0, 1, 2, 3, 9, 10, 11, 12, 13, 31]), "([0-3]|9|1[0-3]|31)");
    assert.deepEqual(contiguousRuns([5, 1, 2, 3, 5]), [[1, 3], [5, 5]]);
    const re = new RegExp(`^blk\\.${layerAlternation([0, 1, 2, 3, 9, 10, 11, 12, 13, 31])}\\.`);
    for (const l of [0, 3, 9, 13, 31]) assert.ok(re.test(`blk.${l}.ffn_down.weight`), String(l));
    for (const l of [4, 8, 14, 30, 130, 310]) assert.ok(!re.test(`blk.${l}.ffn_down.weight`), String(l));
  });
});

describe("recipe extraction", () => {
  it("writes few readable rules and reproduces every type, fallbacks included", () => {
    const tensors = syntheticQuant();
    const r = extractRecipe({ fileName: "synthetic-Q4_K_M.gguf", metadata: new Map(), tensors });
    assert.equal(r.recipe.baseType, "Q4_K");
    // attn_k everywhere, output, one shared rule for attn_v + ffn_down on the use_more_bits
    // layers (ffn_down's Q8_0 is what Q6_K falls back to), and the Q5_K band of attn_q.
    assert.equal(r.ruleCount, 4, JSON.stringify(r.recipe.rules, null, 1));
    assert.ok(r.recipe.rules.some((x) => x.pattern === "^blk\\.([0-3]|6|9|12|15|18|21|24|2[7-9]|3[0-1])\\.(attn_v|ffn_down)\\." && x.type === "Q6_K"));
    assert.ok(r.recipe.rules.some((x) => x.pattern === "^blk\\.1[0-9]\\.attn_q\\." && x.type === "Q5_K"));
    assert.equal(r.fallbackCount, 32);
    assert.equal(r.keptCount, 32);
    const resolved = resolveRecipe(r.recipe, tensors);
    for (const a of resolved.tensors) assert.equal(a.type, a.sourceType, a.name);
    // The recipe is valid as a file (patterns llama-quantize can read).
    assert.deepEqual(parseRecipe(serializeRecipe(r.recipe)).recipe, r.recipe);
  });

  it("anchors a pattern when the short form would catch another tensor", () => {
    const tensors = syntheticQuant();
    const add = (name: string, type: string) => tensors.push({ name, shape: [4096, 4096], ggmlType: typeId(type), elementCount: 4096 * 4096, layer: 0, kind: name });
    add("v.blk.0.attn_k.weight", "Q4_K"); // a vision tower tensor that `\.attn_k\.` would also match
    const r = extractRecipe({ fileName: "x.gguf", metadata: new Map(), tensors });
    for (const a of resolveRecipe(r.recipe, tensors).tensors) assert.equal(a.type, a.sourceType, a.name);
    assert.ok(r.recipe.rules.some((x) => x.pattern.startsWith("^blk\\.\\d+\\.")), JSON.stringify(r.recipe.rules));
  });

  it("says nothing to extract for an F16 model", async () => {
    await assert.rejects(extractRecipeFromFile(TINY_LLAMA), (e: unknown) => e instanceof ExtractError && e.code === "nothing-to-extract" && /nothing to extract/.test(e.message) && /F16/.test(e.message));
    const { code, err } = await cli("recipe", "extract", TINY_MOE);
    assert.equal(code, 1);
    assert.match(err, /nothing to extract/);
  });

  it("names tensors whose type no llama-quantize run can write", () => {
    const tensors = syntheticQuant();
    tensors.push({ name: "blk.0.ffn_gate.weight", shape: [4096, 4096], ggmlType: typeId("Q8_K"), elementCount: 4096 * 4096, layer: 0, kind: "ffn_gate" });
    assert.throws(() => extractRecipe({ fileName: "x.gguf", metadata: new Map(), tensors }), (e: unknown) => e instanceof ExtractError && e.code === "unsupported-type" && /blk\.0\.ffn_gate\.weight \(Q8_K\)/.test(e.message));
  });
});

/** A hand-made mix per fixture: kinds, layer ranges, output/token_embd, types above and below the base. */
const HAND_MADE: Record<string, QuantRecipe> = {
  [TINY_LLAMA]: {
    version: 1, baseType: "Q4_K", rules: [
      { pattern: "^token_embd\\.weight$", type: "Q5_K" },
      { pattern: "^output\\.weight$", type: "Q8_0" },
      { pattern: "\\.attn_(q|k)\\.", type: "Q3_K" },
      { pattern: "^blk\\.(0|1|5)\\.ffn_down\\.", type: "Q6_K" },
      { pattern: "^blk\\.[2-4]\\.ffn_(up|gate)\\.", type: "IQ4_XS" },
      { pattern: "^blk\\.3\\.attn_v\\.", type: "Q5_0" },
    ],
  },
  [TINY_MOE]: {
    version: 1, baseType: "Q3_K", rules: [
      { pattern: "^token_embd\\.weight$", type: "Q4_K" },
      { pattern: "\\.attn_", type: "Q5_K" },
      { pattern: "^blk\\.0\\.ffn_down_exps\\.", type: "Q6_K" },
      { pattern: "^blk\\.(1|2)\\.ffn_(up|gate)_exps\\.", type: "Q2_K" },
      { pattern: "^blk\\.3\\.attn_output\\.", type: "Q8_0" },
    ],
  },
};

const STOCK_PRESETS = ["Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_0", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "IQ4_XS"];

describe("recipe extraction round trip with llama-quantize", function () {
  this.timeout(600_000);
  const tools = realTools();
  let dir: string;
  before(function () {
    if (!tools) this.skip();
    dir = tempDir("extract");
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  const toolsDir = () => path.dirname((tools as { quantize: string }).quantize);

  /** Extracts QUANT's recipe with the CLI, quantizes BASE with it, and compares the two files. */
  async function roundTrip(base: string, quant: string, tag: string): Promise<{ rules: number; tensors: number }> {
    const recipeFile = path.join(dir, `${tag}.quant.json`);
    const extracted = await cli("recipe", "extract", quant, "--out", recipeFile, "--base", base);
    assert.equal(extracted.code, 0, extracted.err + extracted.out);
    assert.match(extracted.out, /wrote .*: \d+ rules? for \d+ tensors/);
    assert.match(extracted.out, /reproduces all \d+ tensor types/);
    const again = path.join(dir, `${tag}-again.gguf`);
    const q = await cli("quantize", base, again, "--recipe", recipeFile, "--threads", "2", "--tools", toolsDir());
    assert.equal(q.code, 0, q.err);
    const [a, b] = await Promise.all([readGgufFile(quant), readGgufFile(again)]);
    assert.equal(b.tensors.length, a.tensors.length);
    const byName = new Map(b.tensors.map((t) => [t.name, t]));
    for (const t of a.tensors) {
      assert.equal(byName.get(t.name)?.typeName, t.typeName, `${tag}: ${t.name} type`);
      assert.equal(byName.get(t.name)?.byteSize, t.byteSize, `${tag}: ${t.name} bytes`);
    }
    assert.equal(b.fileSize, a.fileSize, `${tag}: file size`);
    const { recipe } = parseRecipe(fs.readFileSync(recipeFile, "utf8"));
    return { rules: recipe.rules.length, tensors: a.tensors.length };
  }

  for (const base of [TINY_LLAMA, TINY_MOE]) {
    const fixture = path.basename(base, ".gguf");
    it(`a hand-made mixed recipe survives quantize → extract → quantize on ${fixture}`, async () => {
      const handMade = path.join(dir, `${fixture}-handmade.quant.json`);
      fs.writeFileSync(handMade, serializeRecipe(HAND_MADE[base]));
      const quant = path.join(dir, `${fixture}-hand.gguf`);
      const q = await cli("quantize", base, quant, "--recipe", handMade, "--threads", "2", "--tools", toolsDir());
      assert.equal(q.code, 0, q.err);
      const { rules } = await roundTrip(base, quant, `${fixture}-hand`);
      assert.ok(rules <= HAND_MADE[base].rules.length, `compact: ${rules} rules for a ${HAND_MADE[base].rules.length}-rule mix`);
      // The source file, its file type and the absence of an imatrix are recorded.
      const extracted = await extractRecipeFromFile(quant);
      assert.equal(extracted.recipe.generatedBy?.source, path.basename(quant));
      assert.equal(extracted.recipe.generatedBy?.imatrix, false);
      assert.equal(typeof extracted.quantizationVersion, "number");
    });
  }

  for (const base of [TINY_LLAMA, TINY_MOE]) {
    const fixture = path.basename(base, ".gguf");
    it(`reproduces every stock preset (${STOCK_PRESETS.join(", ")}) on ${fixture}`, async () => {
      const model = await loadRecipeModel(base);
      const counts: string[] = [];
      for (const preset of STOCK_PRESETS) {
        const quant = path.join(dir, `${fixture}-${preset}.gguf`);
        // The stock quant straight from the tool (it is only the input); the reproduction goes through the CLI's job.
        await runTool({ executable: (tools as { quantize: string }).quantize, args: [base, quant, preset, "2"] });
        const extracted = await extractRecipeFromFile(quant);
        const quantModel = await readGgufModel(quant);
        assert.deepEqual(checkReproduction(extracted.recipe, quantModel.tensors, model).mismatches, [], preset);
        const { rules } = await roundTrip(base, quant, `${fixture}-${preset}`);
        counts.push(`${preset}: ${rules}`);
        fs.rmSync(path.join(dir, `${fixture}-${preset}-again.gguf`), { force: true });
        fs.rmSync(quant, { force: true });
      }
      // A stock mix is a handful of rules, never one per tensor.
      for (const c of counts) assert.ok(Number(c.split(": ")[1]) <= 6, counts.join(", "));
    });
  }

  it("refuses to overwrite a recipe without --overwrite, and records imatrix use", async () => {
    const quant = path.join(dir, "llama-q4.gguf");
    assert.equal((await cli("quantize", TINY_LLAMA, quant, "Q4_K_M", "--threads", "2", "--tools", toolsDir())).code, 0);
    const out = path.join(dir, "exists.quant.json");
    fs.writeFileSync(out, "keep me");
    const refused = await cli("recipe", "extract", quant, "--out", out);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /exists; pass --overwrite/);
    assert.equal(fs.readFileSync(out, "utf8"), "keep me");
    const replaced = await cli("recipe", "extract", quant, "--out", out, "--overwrite", "--json");
    assert.equal(replaced.code, 0, replaced.err);
    const summary = JSON.parse(replaced.out) as { rules: number; tensors: number; baseType: string; fileType: string };
    assert.equal(summary.tensors, 57);
    assert.equal(summary.baseType, "Q4_K");
    assert.equal(summary.fileType, "Q4_K_M");
    // A quant made with an imatrix (computed here from the calibration text) says so.
    const withImatrix = path.join(dir, "llama-q4-imatrix.gguf");
    const q = await cli("quantize", TINY_LLAMA, withImatrix, "Q4_K_M", "--calib", CODE_CALIB, "--chunks", "2", "--ctx", "128", "--threads", "2", "--tools", toolsDir());
    assert.equal(q.code, 0, q.err);
    const r = await extractRecipeFromFile(withImatrix);
    assert.ok(r.imatrix, "imatrix recorded");
    assert.equal(r.imatrix.chunks, 2);
    assert.match(r.recipe.notes ?? "", /with an importance matrix/);
    assert.deepEqual(r.recipe.rules, (await extractRecipeFromFile(quant)).recipe.rules, "the imatrix changes values, not the mix");
  });
});

describe("recipe layer mapping by relative depth", () => {
  const model = (layers: number): RecipeTensor[] => {
    const out: RecipeTensor[] = [];
    for (let l = 0; l < layers; l++) {
      for (const k of ["attn_v", "ffn_down", "attn_norm"]) {
        const shape = k === "attn_norm" ? [256] : [256, 256];
        out.push({ name: `blk.${l}.${k}.weight`, shape, ggmlType: 1, elementCount: shape.reduce((a, b) => a * b, 1), layer: l, kind: k });
      }
    }
    out.push({ name: "output.weight", shape: [256, 1000], ggmlType: 1, elementCount: 256000, layer: undefined, kind: "output" });
    return out;
  };

  it("maps each target layer to the source layer at the same depth, first and last kept", () => {
    assert.deepEqual(Array.from({ length: 48 }, (_, t) => sourceLayerFor(t, 32, 48)).filter((s, i, a) => a.indexOf(s) === i), Array.from({ length: 32 }, (_, i) => i));
    assert.deepEqual(mapLayers([0], 32, 48), [0]);
    assert.deepEqual(mapLayers([31], 32, 48), [47]);
    assert.deepEqual(mapLayers([0, 1, 2, 3], 32, 48), [0, 1, 2, 3, 4, 5]);
    // Down-scaling: a source layer between two target layers' depths maps to none.
    assert.deepEqual(mapLayers([1], 4, 2), []);
    assert.deepEqual(mapLayers([0, 1, 2, 3], 4, 2), [0, 1]);
    assert.deepEqual(findLayerExpression("^blk\\.([0-3]|6|1[0-2])\\.(attn_v|ffn_down)\\."), { start: 6, end: 22, expression: "([0-3]|6|1[0-2])" });
    assert.deepEqual(layersOfExpression("([0-3]|6|1[0-2])", 32), [0, 1, 2, 3, 6, 10, 11, 12]);
    assert.equal(findLayerExpression("^output\\.weight$"), undefined);
  });

  it("rewrites an extracted 32-layer recipe for a 48-layer model and reports rules that match nothing", () => {
    const recipe: QuantRecipe = {
      version: 1, baseType: "Q4_K", generatedBy: { layerCount: 32 }, rules: [
        { pattern: "\\.attn_v\\.", type: "Q5_K" },
        { pattern: "^blk\\.([0-3]|2[8-9]|3[0-1])\\.ffn_down\\.", type: "Q6_K" },
        { pattern: "^blk\\.\\d+\\.ffn_gate_exps\\.", type: "Q2_K" },
        { pattern: "^output\\.weight$", type: "Q8_0" },
      ],
    };
    const target = model(48);
    const m = remapRecipeLayers(recipe, 32, target);
    assert.equal(m.toLayerCount, 48);
    assert.equal(m.rows[1].mappedPattern, "^blk\\.([0-5]|4[2-7])\\.ffn_down\\.");
    assert.deepEqual(m.rows[1].toLayers, [0, 1, 2, 3, 4, 5, 42, 43, 44, 45, 46, 47]);
    assert.equal(m.rows[0].mappedPattern, recipe.rules[0].pattern, "no layer part: as written");
    assert.equal(m.rows[2].mappedPattern, "^blk\\.\\d+\\.ffn_gate_exps\\.");
    assert.deepEqual(m.unmatched.map((r) => r.ruleIndex), [2], "a dense model has no experts");
    const resolved = resolveRecipe(m.recipe, target);
    assert.equal(resolved.tensors.filter((t) => t.type === "Q6_K").length, 12);
    assert.match(formatLayerMapping(m, describeLayers), /layers 0-3, 28-31 → 0-5, 42-47/);
    assert.deepEqual(parseRecipe(serializeRecipe(m.recipe)).recipe.rules, m.recipe.rules);
  });
});
