// Shared setup for the models unit tests: fixture paths, temp folders, a split set made by the
// real llama-gguf-split from the tiny fixture.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const repoRoot = path.resolve(__dirname, "../../../..");
export const fixtures = path.join(repoRoot, "test", "fixtures");
export const tinyLlama = path.join(fixtures, "tiny-llama-f16.gguf");
export const tinyMoe = path.join(fixtures, "tiny-moe-f16.gguf");

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gguf-studio-${prefix}-`));
}

export function ggufSplitTool(): string | undefined {
  const p = path.join(repoRoot, "bin", `${process.platform}-${process.arch}-cpu`, process.platform === "win32" ? "llama-gguf-split.exe" : "llama-gguf-split");
  return fs.existsSync(p) ? p : undefined;
}

/** Splits `source` into shards of at most `maxTensors` tensors in `dir`; returns the shard paths. */
export function splitModel(source: string, dir: string, prefix: string, maxTensors = 20): string[] {
  const tool = ggufSplitTool();
  if (!tool) throw new Error("llama-gguf-split is not built: run npm run build:native");
  const r = spawnSync(tool, ["--split", "--split-max-tensors", String(maxTensors), source, path.join(dir, prefix)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`llama-gguf-split failed: ${r.stderr}`);
  return fs.readdirSync(dir).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith(".gguf")).sort().map((f) => path.join(dir, f));
}
