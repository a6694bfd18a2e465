#!/usr/bin/env node
// Builds llama.cpp's quantization tools from the exact source node-llama-cpp bundles
// (node_modules/node-llama-cpp/llama/gitRelease.bundle) into bin/<platform>-<arch>-<backend>/.
//
// Usage: node scripts/build-native.mjs [--backend auto|cpu|cuda|metal] [--force] [--cuda-arch 90]
// Env:   GGUF_STUDIO_BACKEND (same values as --backend), GGUF_STUDIO_CUDA_ARCH.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The four llama.cpp tools, and our probe engine (src/core/quant/native), built in the same tree.
const TOOLS = ["llama-quantize", "llama-imatrix", "llama-perplexity", "llama-gguf-split", "gguf-studio-probe"];
const ENGINE_SRC = path.join(root, "src", "core", "quant", "native");
const ENGINE_FILES = ["CMakeLists.txt", "probe-engine.cpp"];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const force = process.argv.includes("--force");

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

function which(cmd) {
  const r = spawnSync(process.platform === "win32" ? "where" : "which", [cmd], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split(/\r?\n/)[0].trim() : undefined;
}

function run(cmd, args, opts = {}) {
  console.log(`build-native: $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.error) fail(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} exited with code ${r.status}`);
}

function nvidiaGpuVisible() {
  if (fs.existsSync("/dev/nvidia0")) return true;
  const smi = which("nvidia-smi");
  return !!smi && spawnSync(smi, ["-L"], { encoding: "utf8" }).status === 0;
}

// auto: Metal on macOS; CUDA only when nvcc AND a GPU are present (a toolkit without a GPU,
// as on CI runners, would spend many minutes building kernels nothing can run).
function chooseBackend(requested) {
  if (requested === "cpu" || requested === "cuda" || requested === "metal") return requested;
  if (requested !== "auto") fail(`unknown backend "${requested}" (use auto, cpu, cuda or metal)`);
  if (process.platform === "darwin") return "metal";
  if (which("nvcc")) {
    if (nvidiaGpuVisible()) return "cuda";
    console.log("build-native: nvcc found but no NVIDIA GPU is visible; building the CPU backend (--backend cuda forces CUDA)");
  }
  return "cpu";
}

const backend = chooseBackend(arg("backend", process.env.GGUF_STUDIO_BACKEND || "auto"));

// Preflight: name what to install instead of failing deep inside cmake.
const missing = [];
if (!which("cmake")) missing.push("cmake");
if (!which("git")) missing.push("git");
if (!(which("c++") || which("g++") || which("clang++"))) missing.push("a C++ compiler (g++ or clang++)");
if (backend === "cuda" && !which("nvcc")) missing.push("the CUDA toolkit (nvcc)");
if (missing.length) {
  const hint = process.platform === "darwin" ? "xcode-select --install && brew install cmake" : "sudo apt-get install cmake build-essential git";
  fail(`missing ${missing.join(", ")}. Install them (e.g. \`${hint}\`) and run again.`);
}

const nlcDir = path.join(root, "node_modules", "node-llama-cpp");
const bundle = path.join(nlcDir, "llama", "gitRelease.bundle");
if (!fs.existsSync(bundle)) fail(`${bundle} not found: run npm ci first`);
const nlcVersion = JSON.parse(fs.readFileSync(path.join(nlcDir, "package.json"), "utf8")).version;

const cmakeFlags = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_SERVER=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_CURL=OFF",
  // Portable baseline (AVX2/FMA/F16C on x86-64) so bin/ can ship in a VSIX.
  "-DGGML_NATIVE=OFF",
];
if (backend === "cuda") {
  cmakeFlags.push("-DGGML_CUDA=ON", `-DCMAKE_CUDA_ARCHITECTURES=${arg("cuda-arch", process.env.GGUF_STUDIO_CUDA_ARCH || "native")}`);
}
if (backend === "metal") cmakeFlags.push("-DGGML_METAL=ON", "-DGGML_METAL_EMBED_LIBRARY=ON");
if (backend !== "metal" && process.platform === "darwin") cmakeFlags.push("-DGGML_METAL=OFF");
if (which("ccache")) cmakeFlags.push("-DGGML_CCACHE=ON");

const bundleHash = createHash("sha256").update(fs.readFileSync(bundle)).digest("hex").slice(0, 16);
// Small fixes we carry on top of the bundled source (each explained in its file).
const patchDir = path.join(root, "scripts", "native-patches");
const patches = fs.existsSync(patchDir) ? fs.readdirSync(patchDir).filter((f) => f.endsWith(".patch")).sort() : [];
const patchHash = createHash("sha256");
for (const p of patches) patchHash.update(p).update(fs.readFileSync(path.join(patchDir, p)));
const patchesSha256 = patchHash.digest("hex").slice(0, 16);
const engineHash = createHash("sha256");
for (const f of ENGINE_FILES) engineHash.update(f).update(fs.readFileSync(path.join(ENGINE_SRC, f)));
const engineSha256 = engineHash.digest("hex").slice(0, 16);
const stamp = { nodeLlamaCpp: nlcVersion, bundleSha256: bundleHash, patches, patchesSha256, engineSha256, backend, flags: cmakeFlags };
const outDir = path.join(root, "bin", `${process.platform}-${process.arch}-${backend}`);
const stampFile = path.join(outDir, "build-stamp.json");
const exe = (t) => (process.platform === "win32" ? `${t}.exe` : t);

const upToDate = () => {
  try {
    const old = JSON.parse(fs.readFileSync(stampFile, "utf8"));
    return JSON.stringify(old) === JSON.stringify(stamp) && TOOLS.every((t) => fs.existsSync(path.join(outDir, exe(t))));
  } catch {
    return false;
  }
};
if (!force && upToDate()) {
  console.log(`build-native: ${path.relative(root, outDir)} is up to date (node-llama-cpp ${nlcVersion}, ${backend}); --force rebuilds`);
  process.exit(0);
}

const work = path.join(root, ".native");
const src = path.join(work, `llama.cpp-${bundleHash}`);
if (!fs.existsSync(path.join(src, "CMakeLists.txt"))) {
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  run("git", ["clone", "--quiet", bundle, src]);
}
// Re-apply patches on a clean tree whenever the patch set changed.
const patchMarker = path.join(src, ".gguf-studio-patches");
if (!fs.existsSync(patchMarker) || fs.readFileSync(patchMarker, "utf8") !== patchesSha256) {
  run("git", ["-C", src, "checkout", "--quiet", "--", "."]);
  for (const p of patches) run("git", ["-C", src, "apply", path.join(patchDir, p)]);
  fs.writeFileSync(patchMarker, patchesSha256);
}
// The probe engine joins the tree as tools/gguf-studio-probe (copied, so the bundle stays pristine
// apart from the patches; the add_subdirectory line is re-added after every checkout).
const engineDir = path.join(src, "tools", "gguf-studio-probe");
fs.mkdirSync(engineDir, { recursive: true });
for (const f of ENGINE_FILES) fs.copyFileSync(path.join(ENGINE_SRC, f), path.join(engineDir, f));
const toolsCmake = path.join(src, "tools", "CMakeLists.txt");
if (!fs.readFileSync(toolsCmake, "utf8").includes("add_subdirectory(gguf-studio-probe)")) {
  fs.appendFileSync(toolsCmake, "\nadd_subdirectory(gguf-studio-probe)\n");
}
const buildDir = path.join(work, `build-${backend}`);
const started = Date.now();
// A base dir lets ccache share hits between checkouts at different paths.
const buildEnv = { ...process.env, CCACHE_BASEDIR: root };
run("cmake", ["-S", src, "-B", buildDir, ...cmakeFlags], { env: buildEnv });
const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
run("cmake", ["--build", buildDir, "--config", "Release", "-j", jobs, "--target", ...TOOLS], { env: buildEnv });

fs.mkdirSync(outDir, { recursive: true });
for (const tool of TOOLS) {
  const candidates = [path.join(buildDir, "bin", exe(tool)), path.join(buildDir, "bin", "Release", exe(tool))];
  const built = candidates.find((c) => fs.existsSync(c));
  if (!built) fail(`${tool} was not produced by the build (looked in ${candidates.join(", ")})`);
  const dest = path.join(outDir, exe(tool));
  fs.copyFileSync(built, `${dest}.tmp`);
  fs.chmodSync(`${dest}.tmp`, 0o755);
  fs.renameSync(`${dest}.tmp`, dest);
}
fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + "\n");
console.log(`build-native: built ${TOOLS.length} tools into ${path.relative(root, outDir)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
