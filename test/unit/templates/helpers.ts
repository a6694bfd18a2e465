// Not a test file (no .test.ts suffix): bundled into each test that imports it.
// Shared setup for the template tests: the engines (real processes) and the corpus location.
import fs from "node:fs";
import path from "node:path";
import { findBundledLlamaSource } from "../../../src/core/native/llamaSource";
import { EngineSet, findStudioRoot } from "../../../src/core/templates/index";

export function studioRoot(): string {
  const root = findStudioRoot(__dirname);
  if (!root) throw new Error(`cannot find the gguf-studio package root above ${__dirname}`);
  return root;
}

export function createEngines(): EngineSet {
  return new EngineSet({ root: studioRoot(), poolSize: 2 });
}

/** Every models/templates/*.jinja of the bundled llama.cpp source; fails clearly when setup has not run. */
export function corpusTemplates(): { name: string; text: string }[] {
  const src = findBundledLlamaSource(studioRoot());
  if (!src) throw new Error("bundled llama.cpp source not found under .native/llama.cpp-*: run `npm run setup` (scripts/build-native.mjs clones it)");
  const dir = path.join(src, "models", "templates");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jinja"))
    .sort()
    .map((f) => ({ name: f, text: fs.readFileSync(path.join(dir, f), "utf8") }));
}
