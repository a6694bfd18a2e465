// Where the llama.cpp source bundled with node-llama-cpp was cloned by scripts/build-native.mjs.
import fs from "node:fs";
import path from "node:path";

/** `<root>/.native/llama.cpp-<hash>/`, or undefined when the native build has not run. */
export function findBundledLlamaSource(repoRoot: string): string | undefined {
  const dir = path.join(repoRoot, ".native");
  if (!fs.existsSync(dir)) return undefined;
  const match = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith("llama.cpp-"))
    .map((n) => path.join(dir, n))
    .find((p) => fs.existsSync(path.join(p, "CMakeLists.txt")));
  return match;
}
