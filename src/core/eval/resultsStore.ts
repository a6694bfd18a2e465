// KLD results, one JSON file per base model, with what is needed to trust and redo a number:
// the tool version, the exact command line, the eval text and its fingerprint, context and chunks.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "../atomicWrite";
import type { AccuracyResultRecord, DivergenceResultRecord } from "./accuracyRecords";
import type { KldSummary, PerplexityOutput } from "./perplexityParser";

export type QuantOrigin = "preset" | "recipe" | "optimizer" | "other";

export interface KldResultRecord {
  readonly id: string;
  readonly quantPath: string;
  readonly quantName: string;
  readonly quantFingerprint: string;
  /** File size on disk (all shards). */
  readonly quantBytes: number;
  /** Tensor data bits per weight of the quant. */
  readonly bitsPerWeight: number;
  readonly label: string;
  readonly origin: QuantOrigin;
  readonly recipePath?: string;
  readonly evalPath: string;
  readonly evalFingerprint: string;
  readonly contextSize: number;
  readonly chunks: number;
  readonly toolVersion: string;
  readonly commandLine: string;
  readonly createdAt: string;
  readonly durationMs: number;
  readonly summary: KldSummary;
  /** Every printed statistic, by section. */
  readonly sections: PerplexityOutput["sections"];
}

export interface KldResultsFile {
  readonly version: 1;
  readonly base: { readonly path: string; readonly name: string; readonly fingerprint: string; readonly bytes: number; readonly bitsPerWeight: number };
  readonly results: readonly KldResultRecord[];
  /** Multiple-choice accuracy runs (base and quants), joined to KLD results by quant fingerprint. */
  readonly accuracy?: readonly AccuracyResultRecord[];
  /** Greedy divergence runs of quants against this base. */
  readonly divergence?: readonly DivergenceResultRecord[];
}

export function resultsFileName(baseName: string, baseFingerprint: string): string {
  const stem = baseName.replace(/\.gguf$/i, "").replace(/[^\w.-]+/g, "_").slice(0, 80);
  return `${stem}-${baseFingerprint.replace(/^[\w-]+:/, "").slice(0, 12)}.kld-results.json`;
}

export class KldResultsStore {
  constructor(readonly dir: string) {}

  fileFor(baseName: string, baseFingerprint: string): string {
    return path.join(this.dir, resultsFileName(baseName, baseFingerprint));
  }

  async read(file: string): Promise<KldResultsFile | undefined> {
    try {
      const data = JSON.parse(await fs.promises.readFile(file, "utf8")) as KldResultsFile;
      return data.version === 1 && Array.isArray(data.results) ? data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Every results file in the store (one per base model). */
  async listBases(): Promise<{ file: string; data: KldResultsFile }[]> {
    let names: string[] = [];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return [];
    }
    const out: { file: string; data: KldResultsFile }[] = [];
    for (const n of names.filter((x) => x.endsWith(".kld-results.json"))) {
      const data = await this.read(path.join(this.dir, n));
      if (data) out.push({ file: path.join(this.dir, n), data });
    }
    return out;
  }

  /**
   * Adds a result, replacing an earlier one of the same quant content measured the same way
   * (same eval text, context and chunks). Written to a temp file and renamed.
   */
  async add(base: KldResultsFile["base"], record: KldResultRecord): Promise<string> {
    const same = (r: KldResultRecord) =>
      r.quantFingerprint === record.quantFingerprint && r.evalFingerprint === record.evalFingerprint &&
      r.contextSize === record.contextSize && r.chunks === record.chunks;
    return this.update(base, (old) => ({ results: [...(old?.results ?? []).filter((r) => !same(r)), record] }));
  }

  /** Adds an accuracy result, replacing one of the same model content on the same set, shots, format and limit. */
  async addAccuracy(base: KldResultsFile["base"], record: AccuracyResultRecord): Promise<string> {
    const same = (r: AccuracyResultRecord) =>
      r.quantFingerprint === record.quantFingerprint && r.isBase === record.isBase && r.setFingerprint === record.setFingerprint &&
      r.shots === record.shots && r.format === record.format && r.limit === record.limit;
    return this.update(base, (old) => ({ accuracy: [...(old?.accuracy ?? []).filter((r) => !same(r)), record] }));
  }

  /** Adds a divergence result, replacing one of the same quant content on the same prompts and token count. */
  async addDivergence(base: KldResultsFile["base"], record: DivergenceResultRecord): Promise<string> {
    const same = (r: DivergenceResultRecord) =>
      r.quantFingerprint === record.quantFingerprint && r.promptsFingerprint === record.promptsFingerprint && r.tokens === record.tokens;
    return this.update(base, (old) => ({ divergence: [...(old?.divergence ?? []).filter((r) => !same(r)), record] }));
  }

  /** Reads the base's file, applies `change` to it and writes it back (temp file + rename). */
  private async update(base: KldResultsFile["base"], change: (old: KldResultsFile | undefined) => Partial<KldResultsFile>): Promise<string> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    const file = this.fileFor(base.name, base.fingerprint);
    const old = await this.read(file);
    const data: KldResultsFile = { ...old, version: 1, base, results: old?.results ?? [], ...change(old) };
    await writeFileAtomically(file, JSON.stringify(data, null, 2));
    return file;
  }
}
