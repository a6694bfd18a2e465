// Flips and divergence compare answers token by token, which means nothing when a quant's vocabulary
// differs from its base's. The fingerprint hashes the token strings as stored in the header (a big
// vocabulary is a lazy array: its bytes are hashed straight from the file), plus the tokenizer model.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { metadataString, metadataValue, readGgufFile } from "../gguf";

export async function vocabFingerprint(modelPath: string): Promise<string> {
  const file = await readGgufFile(modelPath);
  const hash = createHash("sha256");
  hash.update(`${metadataString(file.metadata, "tokenizer.ggml.model") ?? ""}\0`);
  const tokens = metadataValue(file.metadata, "tokenizer.ggml.tokens");
  if (tokens === undefined) return "no-vocabulary";
  if (typeof tokens === "object" && tokens !== null && "kind" in tokens && tokens.kind === "lazy-array") {
    const handle = await fs.promises.open(modelPath, "r");
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (let done = 0; done < tokens.byteLength;) {
        const want = Math.min(chunk.length, tokens.byteLength - done);
        const { bytesRead } = await handle.read(chunk, 0, want, tokens.byteOffset + done);
        if (bytesRead === 0) break;
        hash.update(chunk.subarray(0, bytesRead));
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
  } else {
    hash.update(JSON.stringify(tokens, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
  }
  return `sha256:${hash.digest("hex")}`;
}
