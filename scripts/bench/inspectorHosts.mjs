// The two code paths `npm run bench:inspector` compares in the same run: "current" (this tree's
// webview bundle and host-side core, answering as GgufDocument + InspectorSession do) and "anchor"
// (an older commit's, built from `git archive` into .bench/, answering with its own protocol).
// Each host records when its stages end (performance.now() of this process) in `marks`.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";

const CORE_EXPORTS = `export { readGgufModel } from "./src/core/gguf";
  export { buildLoadedModel, tensorColumns } from "./src/core/models/inspectorData";
  export { MetadataArrayBrowser } from "./src/core/models/arrayBrowser";`;

async function buildCore(srcRoot, outfile, extra = "") {
  await esbuild.build({
    stdin: { contents: CORE_EXPORTS + extra, resolveDir: srcRoot, loader: "ts" },
    bundle: true, platform: "node", format: "cjs", target: "node20", outfile, logLevel: "warning",
  });
  return (await import(`${outfile}?${Date.now()}`)).default;
}

/** Answers requestArrayPage the same way in both variants. */
async function arrayPage(arrays, m, send) {
  const page = await arrays.page(m.key, m.offset, m.count, m.query);
  await send({ type: "arrayPage", requestId: m.requestId, key: m.key, query: m.query, ...page });
}

/** This tree: dist/webview (built by `node esbuild.mjs`) and the core as the custom editor runs it. */
export async function currentVariant(root, benchDir) {
  const js = path.join(root, "dist/webview/inspector.js");
  if (!fs.existsSync(js)) throw new Error("dist/webview/inspector.js is missing: run `node esbuild.mjs` first");
  const core = await buildCore(root, path.join(benchDir, "inspector-core.cjs"), `
    export { loadInspectorPreview, modelMessage, previewMessage, streamTensorChunks, PARSE_SLICE_MS } from "./src/core/models/inspectorStream";`);
  return {
    name: "current",
    js,
    css: path.join(root, "dist/webview/inspector.css"),
    core,
    startHost(file, marks) {
      let settled = false;
      let previewDone;
      const previewing = new Promise((r) => (previewDone = r));
      // GgufDocument.load: the preview first, then the whole header in slices, then the summary.
      const loading = (async () => {
        const preview = await core.loadInspectorPreview(file).catch(() => undefined);
        marks.previewRead = performance.now();
        previewDone(preview);
        const model = await core.readGgufModel(file, { yieldEveryMs: core.PARSE_SLICE_MS });
        marks.headerParsed = performance.now();
        const loaded = core.buildLoadedModel(file, model);
        marks.summarized = performance.now();
        settled = true;
        return { loaded, arrays: new core.MetadataArrayBrowser(file, model.metadata) };
      })();
      return {
        loading,
        // InspectorSession.open.
        async onMessage(m, send) {
          if (m.type === "requestArrayPage") return arrayPage((await loading).arrays, m, send);
          if (m.type !== "ready") return;
          if (!settled) {
            const preview = await previewing;
            if (preview && !settled) await send(core.previewMessage(preview, 1));
          }
          const { loaded } = await loading;
          await send(core.modelMessage(loaded, 1));
          await core.streamTensorChunks(loaded, 1, send, () => true);
        },
      };
    },
  };
}

/** `commit`'s inspector, built into .bench/anchor-<commit>/ (kept between runs). */
export async function anchorVariant(root, benchDir, commit) {
  const sha = execFileSync("git", ["rev-parse", "--short", commit], { cwd: root, encoding: "utf8" }).trim();
  const dir = path.join(benchDir, `anchor-${sha}`);
  const js = path.join(dir, "dist/inspector.js");
  if (!fs.existsSync(js)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", "--format=tar", sha, "src", "webview"], { cwd: root, maxBuffer: 1 << 28 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    // Built as `node esbuild.mjs` builds webviews (development build).
    await esbuild.build({
      entryPoints: { inspector: path.join(dir, "webview/inspector/main.ts") },
      bundle: true, platform: "browser", target: "es2022", format: "iife", sourcemap: true,
      outdir: path.join(dir, "dist"), loader: { ".css": "css" }, logLevel: "warning",
      nodePaths: [path.join(root, "node_modules")],
    });
  }
  const core = await buildCore(dir, path.join(dir, "inspector-core.cjs"));
  return {
    name: `anchor ${sha}`,
    sha,
    js,
    css: path.join(dir, "dist/inspector.css"),
    core,
    startHost(file, marks) {
      // That commit's GgufDocument.load and InspectorSession: the whole header, then `model` with
      // 2,000 rows, then the webview asks for the rest page by page.
      const loading = (async () => {
        const model = await core.readGgufModel(file);
        marks.headerParsed = performance.now();
        const loaded = core.buildLoadedModel(file, model);
        marks.summarized = performance.now();
        return { loaded, arrays: new core.MetadataArrayBrowser(file, model.metadata) };
      })();
      return {
        loading,
        async onMessage(m, send) {
          const { loaded, arrays } = await loading;
          if (m.type === "ready") return send({ type: "model", model: loaded.view, firstTensors: core.tensorColumns(loaded, 0, 2000) });
          if (m.type === "requestTensors") {
            return send({ type: "tensorPage", requestId: m.requestId, offset: m.offset, total: loaded.model.tensors.length, columns: core.tensorColumns(loaded, m.offset, m.count) });
          }
          if (m.type === "requestArrayPage") return arrayPage(arrays, m, send);
        },
      };
    },
  };
}
