// Whole-process runner for @huggingface/gguf 0.4.6.
const t0 = performance.now();
const { gguf } = await import("@huggingface/gguf");
const t1 = performance.now();
const r = await gguf(process.argv[2], { allowLocalFile: true });
const t2 = performance.now();
console.log(JSON.stringify({ loadMs: t1 - t0, parseMs: t2 - t1, tensors: r.tensorInfos.length, keys: Object.keys(r.metadata).length, maxRssKB: process.resourceUsage().maxRSS }));
