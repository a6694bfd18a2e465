import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runTool } from "../../../src/core/native/toolRunner";
import { findBundledLlamaSource } from "../../../src/core/native/llamaSource";
import { parseQuantizeSummary } from "../../../src/core/quant/progress";
import { QUANT_PRESETS, canonicalPreset, findQuantPreset, presetBaseBitsPerWeight, presetForFileType } from "../../../src/core/quant/presets";
import { buildQuantizeArgs } from "../../../src/core/quant/quantizeArgs";
import { REPO_ROOT, TINY_LLAMA, realTools } from "./quantTestSupport";

/** llama.h's `LLAMA_FTYPE_* = N` values. */
function ftypeValues(llamaH: string): Map<string, number> {
  return new Map([...llamaH.matchAll(/^\s*(LLAMA_FTYPE_\w+)\s*=\s*(\d+),/gm)].map((m) => [m[1], Number(m[2])]));
}

describe("quant presets", () => {
  const source = findBundledLlamaSource(REPO_ROOT);

  it("match QUANT_OPTIONS of the bundled llama-quantize source: names, order, ftype ids, descriptions", function () {
    if (!source) this.skip();
    const cpp = fs.readFileSync(path.join(source, "tools/quantize/quantize.cpp"), "utf8");
    const ftypes = ftypeValues(fs.readFileSync(path.join(source, "include/llama.h"), "utf8"));
    const block = /QUANT_OPTIONS = \{([\s\S]*?)\n\};/.exec(cpp)?.[1] ?? "";
    const options = [...block.matchAll(/\{\s*"(\w+)",\s*(LLAMA_FTYPE_\w+),\s*"([^"]*)"/g)].map((m) => ({
      name: m[1],
      ftype: ftypes.get(m[2]),
      description: m[3].trim(),
    }));
    assert.ok(options.length > 30, `parsed ${options.length} options`);
    assert.deepEqual(
      QUANT_PRESETS.map((p) => ({ name: p.name, ftype: p.ftype, description: p.description })),
      options,
    );
  });

  it("have the base type llama_ftype_get_default_type gives each ftype", function () {
    if (!source) this.skip();
    const quant = fs.readFileSync(path.join(source, "src/llama-quant.cpp"), "utf8");
    const ftypes = ftypeValues(fs.readFileSync(path.join(source, "include/llama.h"), "utf8"));
    const fn = /ggml_type llama_ftype_get_default_type\(llama_ftype ftype\) \{([\s\S]*?)\n\}/.exec(quant)?.[1] ?? "";
    // Cases fall through to the next `return`: collect pending labels until one returns.
    const defaults = new Map<number, string>();
    let pending: number[] = [];
    for (const m of fn.matchAll(/case (LLAMA_FTYPE_\w+):(?:\s*return GGML_TYPE_(\w+);)?/g)) {
      const id = ftypes.get(m[1]);
      if (id !== undefined) pending.push(id);
      if (m[2]) {
        for (const p of pending) defaults.set(p, m[2]);
        pending = [];
      }
    }
    for (const p of QUANT_PRESETS) {
      if (p.name === "COPY") continue;
      assert.equal(p.baseType, defaults.get(p.ftype), `${p.name}`);
    }
  });

  it("flag exactly the types llama-quantize refuses without an imatrix (dry run on the tiny-llama fixture)", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(120_000);
    for (const p of QUANT_PRESETS.filter((q) => q.quantizes)) {
      const lines: string[] = [];
      await runTool({
        executable: tools.quantize,
        args: buildQuantizeArgs({ input: TINY_LLAMA, output: "/nonexistent/out.gguf", type: p.name, dryRun: true, threads: 1 }),
        onLine: (l) => lines.push(l),
      });
      assert.equal(parseQuantizeSummary(lines).requiresImatrix, p.requiresImatrix, `${p.name}: tool says ${String(parseQuantizeSummary(lines).requiresImatrix)}`);
    }
  });

  it("give the base bits per weight that a --pure dry run of the tool reports for the weights", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    for (const name of ["Q8_0", "Q6_K", "Q4_K_M", "IQ4_XS", "Q4_0"]) {
      const p = findQuantPreset(name);
      assert.ok(p);
      const lines: string[] = [];
      await runTool({
        executable: tools.quantize,
        args: buildQuantizeArgs({ input: TINY_LLAMA, output: "/nonexistent/out.gguf", type: p.name, dryRun: true, pure: true, threads: 1 }),
        onLine: (l) => lines.push(l),
      });
      const summary = parseQuantizeSummary(lines);
      assert.ok(summary.quantBpw !== undefined);
      // 1-D norms stay F32 (a tiny share of the weights), so the file's bpw is a hair above the type's.
      const bpw = presetBaseBitsPerWeight(p);
      assert.ok(summary.quantBpw >= bpw - 0.01 && summary.quantBpw < bpw + 0.1, `${name}: tool ${summary.quantBpw} vs table ${bpw}`);
    }
  });

  it("resolve names case-insensitively, aliases to their canonical preset, and file types back to presets", () => {
    assert.equal(findQuantPreset("q4_k_m")?.name, "Q4_K_M");
    assert.equal(findQuantPreset("Q4_K") && canonicalPreset(findQuantPreset("Q4_K")!).name, "Q4_K_M");
    assert.equal(findQuantPreset("Q9_X"), undefined);
    for (const p of QUANT_PRESETS.filter((q) => !q.aliasOf && q.name !== "COPY")) assert.equal(presetForFileType(p.ftype)?.name, p.name);
  });
});
