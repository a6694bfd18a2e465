// Cache of llama-perplexity --kl-divergence-base files. They hold, per scored token, the base
// model's log-probabilities over the whole vocabulary as uint16, so they grow with vocab × tokens
// (~37 GiB for Llama-3 8B on wikitext-2). Entries are keyed by (base fingerprint, eval text
// fingerprint, context, chunks), sized before creation, capped (least recently used go first)
// and removable by a clean-up command.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { formatBytes } from "../../shared/formatBytes";
export { formatBytes };

export interface LogitsKey {
  readonly baseFingerprint: string;
  readonly evalFingerprint: string;
  readonly contextSize: number;
  /** Chunks requested; undefined means "all of the text". */
  readonly chunks: number | undefined;
}

export interface LogitsEntry extends LogitsKey {
  readonly id: string;
  readonly file: string;
  readonly bytes: number;
  readonly basePath: string;
  readonly evalPath: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
}

/**
 * Exact size of a base-logits file (perplexity.cpp kl_divergence base writer):
 * "_logits_" + n_ctx + n_vocab + n_chunk (4 bytes each), the tokens (int32 × n_ctx × n_chunk), then
 * for each chunk the second half minus one token: nv = 2*ceil(n_vocab/2)+4 uint16 per token.
 */
export function estimateBaseLogitsBytes(vocabSize: number, contextSize: number, chunks: number): number {
  const nv = 2 * Math.ceil(vocabSize / 2) + 4;
  const scored = contextSize - 1 - Math.floor(contextSize / 2);
  return 8 + 4 + 4 + 4 + chunks * contextSize * 4 + chunks * scored * nv * 2;
}

/** Chunks a text will give, from its size: ~4 bytes per token (code and English); an estimate. */
export function estimateChunks(textBytes: number, contextSize: number, maxChunks?: number): number {
  const chunks = Math.floor(textBytes / 4 / contextSize);
  return maxChunks !== undefined ? Math.min(maxChunks, chunks) : chunks;
}

export function logitsKeyId(key: LogitsKey): string {
  return createHash("sha256")
    .update(JSON.stringify([key.baseFingerprint, key.evalFingerprint, key.contextSize, key.chunks ?? "all"]))
    .digest("hex")
    .slice(0, 24);
}

export class LogitsCacheFullError extends Error {
  constructor(readonly neededBytes: number, readonly capBytes: number) {
    super(`base logits need ${formatBytes(neededBytes)}, more than the cache cap of ${formatBytes(capBytes)} (setting ggufStudio.kld.cacheMaxGiB); use fewer chunks or raise the cap`);
    this.name = "LogitsCacheFullError";
  }
}


export class LogitsCache {
  constructor(readonly dir: string, readonly capBytes: number) {}

  private metaPath(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  fileFor(key: LogitsKey): string {
    return path.join(this.dir, `${logitsKeyId(key)}.kld`);
  }

  /** All entries whose data file still exists (orphaned metadata is dropped). */
  async list(): Promise<LogitsEntry[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return [];
    }
    const out: LogitsEntry[] = [];
    for (const n of names.filter((x) => x.endsWith(".json"))) {
      try {
        const e = JSON.parse(await fs.promises.readFile(path.join(this.dir, n), "utf8")) as LogitsEntry;
        if (fs.existsSync(e.file)) out.push(e);
        else await fs.promises.rm(path.join(this.dir, n), { force: true });
      } catch {
        // unreadable metadata: not ours to interpret; leave it
      }
    }
    return out;
  }

  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((s, e) => s + e.bytes, 0);
  }

  /** The cached entry for a key, touched as recently used; undefined when absent or its file is gone. */
  async get(key: LogitsKey): Promise<LogitsEntry | undefined> {
    const id = logitsKeyId(key);
    try {
      const e = JSON.parse(await fs.promises.readFile(this.metaPath(id), "utf8")) as LogitsEntry;
      if (!fs.existsSync(e.file)) return undefined;
      const touched = { ...e, lastUsedAt: new Date().toISOString() };
      await fs.promises.writeFile(this.metaPath(id), JSON.stringify(touched, null, 2));
      return touched;
    } catch {
      return undefined;
    }
  }

  /** Frees room for `neededBytes` by removing least recently used entries; throws when it cannot fit. */
  async makeRoom(neededBytes: number, keep?: string): Promise<LogitsEntry[]> {
    if (neededBytes > this.capBytes) throw new LogitsCacheFullError(neededBytes, this.capBytes);
    const entries = (await this.list()).sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt));
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    const removed: LogitsEntry[] = [];
    for (const e of entries) {
      if (total + neededBytes <= this.capBytes) break;
      if (e.id === keep) continue;
      await this.remove(e.id);
      total -= e.bytes;
      removed.push(e);
    }
    return removed;
  }

  /** Records a finished base-logits file (already written at fileFor(key)). */
  async put(key: LogitsKey, info: { basePath: string; evalPath: string }): Promise<LogitsEntry> {
    const id = logitsKeyId(key);
    const file = this.fileFor(key);
    const bytes = (await fs.promises.stat(file)).size;
    const now = new Date().toISOString();
    const entry: LogitsEntry = { ...key, id, file, bytes, basePath: info.basePath, evalPath: info.evalPath, createdAt: now, lastUsedAt: now };
    await fs.promises.writeFile(this.metaPath(id), JSON.stringify(entry, null, 2));
    await this.makeRoom(0, id);
    return entry;
  }

  async remove(id: string): Promise<void> {
    await fs.promises.rm(path.join(this.dir, `${id}.kld`), { force: true });
    await fs.promises.rm(this.metaPath(id), { force: true });
  }

  /** Removes every entry (or those unused since `olderThan`); returns bytes freed. */
  async clean(olderThan?: Date): Promise<{ removed: number; bytes: number }> {
    let removed = 0;
    let bytes = 0;
    for (const e of await this.list()) {
      if (olderThan && new Date(e.lastUsedAt) >= olderThan) continue;
      await this.remove(e.id);
      removed++;
      bytes += e.bytes;
    }
    // Leftover partial files of runs killed without clean-up.
    try {
      for (const n of await fs.promises.readdir(this.dir)) {
        if (n.endsWith(".kld") && !fs.existsSync(this.metaPath(n.slice(0, -4)))) {
          const p = path.join(this.dir, n);
          bytes += (await fs.promises.stat(p)).size;
          await fs.promises.rm(p, { force: true });
        }
      }
    } catch {
      // no cache folder yet
    }
    return { removed, bytes };
  }
}
