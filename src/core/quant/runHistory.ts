// Every quantization run, kept as JSON in the extension's storage: what went in, the exact command
// lines, the tool version, and what came out. Written atomically (temp + rename); writes are
// serialized so two runs finishing together do not lose each other.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const RUN_HISTORY_VERSION = 1;
/** Oldest runs are dropped past this, so the file stays small. */
export const RUN_HISTORY_MAX_ENTRIES = 500;

export type RunStatus = "succeeded" | "failed" | "cancelled";

export interface RunCommand {
  readonly tool: string;
  readonly executable: string;
  readonly args: readonly string[];
  /** Shell-quoted for display and copy; never run through a shell. */
  readonly commandLine: string;
  readonly durationMs?: number;
}

export interface RunRecord {
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: RunStatus;
  readonly source: string;
  readonly output: string;
  readonly type: string;
  readonly recipe?: string;
  readonly imatrix?: string;
  readonly calibration?: string;
  /** Flags the user chose (threads, pure, keepSplit...), as given. */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  readonly commands: readonly RunCommand[];
  readonly toolVersion?: string;
  readonly durationMs: number;
  readonly sourceBytes?: number;
  readonly outputBytes?: number;
  readonly estimatedBytes?: number;
  readonly sha256?: string;
  readonly error?: string;
}

interface RunHistoryFile {
  readonly version: number;
  readonly runs: RunRecord[];
}

export class RunHistoryStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Newest first. A missing file is an empty history; an unreadable one is reported, not overwritten silently. */
  async list(): Promise<RunRecord[]> {
    const data = await this.read();
    return [...data.runs].reverse();
  }

  append(record: Omit<RunRecord, "id"> & { id?: string }): Promise<RunRecord> {
    const full: RunRecord = { ...record, id: record.id ?? newRunId() };
    return this.serialize(async () => {
      const data = await this.read();
      const runs = [...data.runs, full].slice(-RUN_HISTORY_MAX_ENTRIES);
      await this.write({ version: RUN_HISTORY_VERSION, runs });
      return full;
    });
  }

  remove(id: string): Promise<boolean> {
    return this.serialize(async () => {
      const data = await this.read();
      const runs = data.runs.filter((r) => r.id !== id);
      if (runs.length === data.runs.length) return false;
      await this.write({ version: RUN_HISTORY_VERSION, runs });
      return true;
    });
  }

  clear(): Promise<void> {
    return this.serialize(() => this.write({ version: RUN_HISTORY_VERSION, runs: [] }));
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<RunHistoryFile> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: RUN_HISTORY_VERSION, runs: [] };
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`Run history ${this.file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); move it away to start a new one`);
    }
    if (typeof parsed !== "object" || parsed === null || !Array.isArray((parsed as { runs?: unknown }).runs)) {
      throw new Error(`Run history ${this.file} has no "runs" list; move it away to start a new one`);
    }
    const runs = ((parsed as { runs: unknown[] }).runs).filter(isRunRecord);
    return { version: RUN_HISTORY_VERSION, runs };
  }

  private async write(data: RunHistoryFile): Promise<void> {
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${crypto.randomBytes(3).toString("hex")}.tmp`;
    try {
      await fs.promises.writeFile(temp, JSON.stringify(data, null, 2) + "\n", "utf8");
      await fs.promises.rename(temp, this.file);
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
  }
}

function isRunRecord(v: unknown): v is RunRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.id === "string" && typeof r.source === "string" && typeof r.output === "string" && typeof r.status === "string" && Array.isArray(r.commands);
}

export function newRunId(): string {
  return `${Date.now().toString(36)}-${crypto.randomBytes(4).toString("hex")}`;
}
