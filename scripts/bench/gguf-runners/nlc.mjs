// Whole-process runner for node-llama-cpp 3.22.1 readGgufFileInfo (ESM, loaded dynamically).
const t0 = performance.now();
const { readGgufFileInfo } = await import("node-llama-cpp");
const t1 = performance.now();
const r = await readGgufFileInfo(process.argv[2]);
const t2 = performance.now();
console.log(JSON.stringify({ loadMs: t1 - t0, parseMs: t2 - t1, tensors: (r.fullTensorInfo ?? r.tensorInfo ?? []).length, keys: Object.keys(r.metadata).length, maxRssKB: process.resourceUsage().maxRSS }));
