// One build per target: the extension host (node), the CLI (node), each webview (browser),
// and the test bundles (node). Type checking is separate: `npm run typecheck`.
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";

const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");

function walk(dir, pattern) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, pattern) : pattern.test(e.name) ? [p] : [];
  });
}

const node = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: !production,
  minify: production,
  // node-llama-cpp is ESM with native addons and is loaded at run time from node_modules.
  external: ["vscode", "node-llama-cpp", "mocha", "playwright-core"],
  logLevel: "warning",
};

const webviewEntries = fs.existsSync("webview")
  ? fs.readdirSync("webview", { withFileTypes: true })
      .filter((e) => e.isDirectory() && fs.existsSync(path.join("webview", e.name, "main.ts")))
      .map((e) => e.name)
  : [];

const builds = [
  { ...node, entryPoints: { extension: "src/host/extension.ts" }, outdir: "dist" },
  { ...node, entryPoints: { cli: "src/cli/main.ts" }, outdir: "dist", banner: { js: "#!/usr/bin/env node" } },
  { ...node, entryPoints: { "native-render-worker": "src/core/templates/nativeRenderWorker.ts" }, outdir: "dist" },
  ...webviewEntries.map((name) => ({
    bundle: true,
    platform: "browser",
    target: "es2022",
    format: "iife",
    sourcemap: !production,
    minify: production,
    entryPoints: { [name]: `webview/${name}/main.ts` },
    outdir: "dist/webview",
    loader: { ".css": "css" },
    logLevel: "warning",
  })),
];

if (!production) {
  const tests = [
    ...walk("test/unit", /\.test\.ts$/),
    ...walk("test/integration", /\.ts$/),
    ...walk("test/harness", /\.ts$/),
    ...walk("test/desktop", /\.ts$/),
  ];
  const entryPoints = Object.fromEntries(tests.map((t) => [t.replace(/^test\//, "").replace(/\.ts$/, ""), t]));
  builds.push({ ...node, entryPoints, outdir: "out/test" });
}

const present = builds.filter((b) => Object.values(b.entryPoints).every((e) => fs.existsSync(e)));
if (watch) {
  // One "[watch] build started/finished" pair per rebuild of all targets: the end marker tells a
  // VS Code background task (.vscode/tasks.json) and `npm start --watch` that dist/ is up to date.
  let active = 0;
  const announce = {
    name: "watch-announce",
    setup(build) {
      build.onStart(() => {
        if (active++ === 0) console.log("[watch] build started");
      });
      build.onEnd((result) => {
        for (const { text, location } of result.errors) {
          console.error(`✘ [ERROR] ${text}`);
          if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
        }
        if (--active === 0) console.log("[watch] build finished");
      });
    },
  };
  for (const b of present) await (await esbuild.context({ ...b, logLevel: "silent", plugins: [announce] })).watch();
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
}
