// Shared by the quantize unit tests: repository paths, the real tools, temp folders, tmpfs mounts.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { locateTools } from "../../../src/core/native/toolLocator";

/** out/test/unit/quant → repository root. */
export const REPO_ROOT = path.resolve(__dirname, "../../../..");
export const FIXTURES = path.join(REPO_ROOT, "test/fixtures");
export const TINY_LLAMA = path.join(FIXTURES, "tiny-llama-f16.gguf");
export const TINY_MOE = path.join(FIXTURES, "tiny-moe-f16.gguf");
export const CODE_CALIB = path.join(FIXTURES, "code-calib.txt");
export const FAKE_CRASH_QUANTIZE = path.join(FIXTURES, "fake-tools/llama-quantize-crash");

export interface RealTools {
  quantize: string;
  imatrix: string;
  split: string;
}

/** The bundled CPU tools; undefined when `npm run build:native` has not run. */
export function realTools(): RealTools | undefined {
  const found = locateTools({ extensionRoot: REPO_ROOT, pathEnv: "" }).found;
  const q = found["llama-quantize"];
  const i = found["llama-imatrix"];
  const s = found["llama-gguf-split"];
  return q && i && s ? { quantize: q.path, imatrix: i.path, split: s.path } : undefined;
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gguf-studio-${tag}-`));
}

export function sha256File(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/**
 * Mounts a tmpfs of `sizeKiB` (read-only when asked). Undefined when mounting is not permitted
 * (not root, or no CAP_SYS_ADMIN in a container); callers skip with that reason.
 */
export function mountTmpfs(dir: string, sizeKiB: number, readOnly = false): { unmount(): void } | undefined {
  fs.mkdirSync(dir, { recursive: true });
  const opts = `size=${sizeKiB}k${readOnly ? ",ro" : ""}`;
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return { unmount: () => void spawnSync("umount", [dir]) };
}

/** Number of threads for tool runs in tests: the machine is small and shared. */
export const TEST_THREADS = 2;
