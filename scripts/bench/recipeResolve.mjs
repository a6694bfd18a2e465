// How fast the recipe editor can recompute the exact size after an edit on a huge model:
// resolve + the editor's view model for a synthetic 60,000-tensor MoE-like model, median of 7.
//   node scripts/bench/recipeResolve.mjs
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const bundle = path.join(os.tmpdir(), `gguf-studio-bench-resolve-${process.pid}.cjs`);
await esbuild.build({
  stdin: { contents: `export * from "./src/core/quant/recipeStarts"; export * from "./src/core/quant/recipeResolve"; export { buildState } from "./src/host/recipes/recipeView"; export { compileRecipe } from "./src/core/quant/recipeCompile";`, resolveDir: root, loader: "ts" },
  bundle: true, platform: "node", format: "cjs", outfile: bundle, logLevel: "warning",
});
const core = createRequire(import.meta.url)(bundle);
const kinds = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps", "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp", "ffn_gate_inp", "attn_norm", "ffn_norm"];
const tensors = [];
for (let l = 0; tensors.length < 60000; l++) {
  for (const k of kinds) {
    const shape = k.endsWith("_norm") ? [4096] : k === "ffn_gate_inp" ? [4096, 64] : k.endsWith("_exps") ? [4096, 1536, 64] : [4096, 4096];
    tensors.push({ name: `blk.${l}.${k}.weight`, shape, ggmlType: k.endsWith("_norm") || k === "ffn_gate_inp" ? 0 : 30, elementCount: shape.reduce((a, b) => a * b, 1), layer: l, kind: k });
  }
}
tensors.push({ name: "token_embd.weight", shape: [4096, 150000], ggmlType: 30, elementCount: 4096 * 150000, layer: undefined, kind: "token_embd" });
const model = { path: "synthetic.gguf", tensors, alignment: 32, headerBytes: 10_000_000, sourceFileBytes: 1e12, vocabSize: 150000, architecture: "synthetic" };
const recipe = core.buildStartingRecipe("dynamic", tensors, "Q3_K");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { resolve: [], state: [], compile: [] };
for (let i = 0; i < 7; i++) {
  let t = performance.now();
  const r = core.resolveRecipe(recipe, tensors, { alignment: 32 });
  times.resolve.push(performance.now() - t);
  t = performance.now();
  core.buildState(recipe, model, "x.quant.json");
  times.state.push(performance.now() - t);
  t = performance.now();
  core.compileRecipe(recipe, r);
  times.compile.push(performance.now() - t);
}
console.log(`tensors ${tensors.length}, rules ${recipe.rules.length}`);
for (const [k, v] of Object.entries(times)) console.log(`${k}: median ${median(v).toFixed(1)} ms (min ${Math.min(...v).toFixed(1)})`);
