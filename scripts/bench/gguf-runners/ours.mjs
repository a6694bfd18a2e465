// Whole-process runner: load our GGUF core bundle, read + summarize FILE, print timings as JSON.
import { createRequire } from "node:module";
const t0 = performance.now();
const core = createRequire(import.meta.url)(process.env.GGUF_CORE_BUNDLE);
const file = process.argv[2];
const full = process.argv[3] === "full";
const t1 = performance.now();
const model = await core.readGgufModel(file, full ? { maxMaterializedArrayLength: Infinity } : {});
const summary = core.summarizeGguf(model);
const t2 = performance.now();
if (summary.tensorCount !== model.tensors.length) throw new Error("inconsistent");
console.log(JSON.stringify({ loadMs: t1 - t0, parseMs: t2 - t1, tensors: model.tensors.length, keys: model.metadata.size, maxRssKB: process.resourceUsage().maxRSS }));
