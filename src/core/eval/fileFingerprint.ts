// Content fingerprints for cache keys. Files up to FULL_HASH_LIMIT are hashed whole; bigger ones
// (multi-GB models) are hashed from their size plus 64 evenly spaced 1 MiB samples, which tells
// apart any two real model files in seconds instead of minutes. The prefix says which was used.
import { createHash } from "node:crypto";
import fs from "node:fs";

export const FULL_HASH_LIMIT = 512 * 1024 * 1024;
const SAMPLE_COUNT = 64;
const SAMPLE_BYTES = 1024 * 1024;

const memo = new Map<string, string>();

export async function fileFingerprint(file: string): Promise<string> {
  const st = await fs.promises.stat(file);
  const memoKey = `${file}\u0000${st.size}\u0000${st.mtimeMs}`;
  const known = memo.get(memoKey);
  if (known) return known;
  const hash = createHash("sha256");
  let result: string;
  if (st.size <= FULL_HASH_LIMIT) {
    await new Promise<void>((resolve, reject) => {
      fs.createReadStream(file).on("data", (c) => hash.update(c)).on("end", resolve).on("error", reject);
    });
    result = `sha256:${hash.digest("hex")}`;
  } else {
    const fh = await fs.promises.open(file, "r");
    try {
      hash.update(String(st.size));
      const buf = Buffer.alloc(SAMPLE_BYTES);
      for (let i = 0; i < SAMPLE_COUNT; i++) {
        const pos = Math.floor(((st.size - SAMPLE_BYTES) * i) / (SAMPLE_COUNT - 1));
        const { bytesRead } = await fh.read(buf, 0, SAMPLE_BYTES, pos);
        hash.update(buf.subarray(0, bytesRead));
      }
    } finally {
      await fh.close();
    }
    result = `sampled-sha256:${hash.digest("hex")}`;
  }
  memo.set(memoKey, result);
  return result;
}

export function textFingerprint(text: string | Buffer): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}
