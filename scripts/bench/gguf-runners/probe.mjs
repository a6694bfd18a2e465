// Runs one reader on one file and reports what happened: ok / error message. Used by gguf-bad-input.mjs.
const [reader, file, bundle] = process.argv.slice(2);
try {
  let tensors;
  if (reader === "ours") {
    const { createRequire } = await import("node:module");
    const core = createRequire(import.meta.url)(bundle);
    tensors = (await core.readGgufModel(file)).tensors.map((t) => `${t.name}:${t.typeName}`);
  } else if (reader === "hf") {
    const { gguf } = await import("@huggingface/gguf");
    tensors = (await gguf(file, { allowLocalFile: true })).tensorInfos.map((t) => `${t.name}:${t.dtype}`);
  } else {
    const { readGgufFileInfo } = await import("node-llama-cpp");
    const r = await readGgufFileInfo(file);
    tensors = (r.fullTensorInfo ?? r.tensorInfo ?? []).map((t) => `${t.name}:${t.ggmlType}`);
  }
  console.log(JSON.stringify({ ok: true, tensors: tensors.length, sample: tensors.slice(-1)[0] ?? "", rss: process.resourceUsage().maxRSS }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e?.constructor?.name, code: e?.code, message: String(e?.message ?? e).slice(0, 140), rss: process.resourceUsage().maxRSS }));
}
