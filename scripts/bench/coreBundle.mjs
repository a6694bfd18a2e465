// What every bench that drives the domain core needs: the core's TypeScript bundled for Node by
// esbuild (the benches run from plain .mjs), loaded, and the built native tools located.
//   const { core, tools, root, done } = await loadCore("oracle", ["./src/core/quant/optimizer", ...], { need: [...] });
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/**
 * `modules`: core modules re-exported whole (`export *`), or `{ from, names }` for a few names (where
 * two modules export the same name). `need`: native tools that must be built.
 */
export async function loadCore(tag, modules, { need = [] } = {}) {
  const bundle = path.join(os.tmpdir(), `gguf-studio-bench-${tag}-${process.pid}.cjs`);
  const contents = modules.map((m) => (typeof m === "string" ? `export * from "${m}";` : `export { ${m.names.join(", ")} } from "${m.from}";`)).join("\n")
    + `\nexport { locateTools } from "./src/core/native/toolLocator";`;
  await esbuild.build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true, platform: "node", format: "cjs", outfile: bundle, logLevel: "warning",
  });
  const core = createRequire(import.meta.url)(bundle);
  const tools = core.locateTools({ extensionRoot: root }).found;
  for (const t of need) if (!tools[t]) throw new Error(`${t} is not built: run npm run build:native`);
  return { core, tools, root, done: () => fs.rmSync(bundle, { force: true }) };
}
