// The set of template engines available on this machine, each behind a small process pool.
// Discovery is by files under the extension root (dist/native-render-worker.js for the Node
// engines, bin/minja/<platform>-<arch>/minja-render) and by probing `python3 -c "import jinja2"`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EnginePool, type EngineProcessSpec } from "./engineProcess";
import { JINJA2_WORKER_SCRIPT } from "./jinja2Worker";
import { RenderCache } from "./renderCache";
import type { EngineId, RenderContext, RenderOutcome } from "./types";

export interface EngineSetOptions {
  /** Folder holding dist/ and bin/ (the extension root or the repo root). */
  readonly root: string;
  /** Python interpreter for jinja2; default "python3". */
  readonly python?: string;
  /** Processes per engine. Default 1 (the machines this runs on often have two cores). */
  readonly poolSize?: number;
  readonly timeoutMs?: number;
  readonly memoryCapMiB?: number;
  /** Finished batches kept per session (LRU); 0 disables the cache. Default 256. */
  readonly cacheEntries?: number;
}

export interface EngineAvailability {
  readonly engine: EngineId;
  readonly available: boolean;
  /** Why it is not available, or what runs it. */
  readonly detail: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MEMORY_CAP_MIB = 1024;
const MAX_REPLY_BYTES = 64 * 2 ** 20;
const DEFAULT_CACHE_ENTRIES = 256;

/** Walks up from `start` to the folder whose package.json is GGUF Studio's. */
export function findStudioRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "gguf-studio") return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function minjaExecutable(root: string): string {
  return path.join(root, "bin", "minja", `${process.platform}-${process.arch}`, process.platform === "win32" ? "minja-render.exe" : "minja-render");
}

const jinja2Probe = new Map<string, string | undefined>();

/** The jinja2 version importable by `python`, or undefined. Probed once per interpreter. */
export function probeJinja2(python: string): string | undefined {
  if (!jinja2Probe.has(python)) {
    const r = spawnSync(python, ["-c", "import jinja2; print(jinja2.__version__)"], { encoding: "utf8", timeout: 5000, shell: false });
    jinja2Probe.set(python, r.status === 0 ? r.stdout.trim() : undefined);
  }
  return jinja2Probe.get(python);
}

export class EngineSet {
  private readonly pools = new Map<EngineId, EnginePool>();
  private readonly specs = new Map<EngineId, EngineProcessSpec>();
  private readonly cache: RenderCache;
  readonly availability: ReadonlyMap<EngineId, EngineAvailability>;

  constructor(private readonly options: EngineSetOptions) {
    this.cache = new RenderCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
    const availability = new Map<EngineId, EngineAvailability>();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const memoryCapMiB = options.memoryCapMiB ?? DEFAULT_MEMORY_CAP_MIB;
    const base = { timeoutMs, memoryCapMiB, maxReplyBytes: MAX_REPLY_BYTES };

    const worker = path.join(options.root, "dist", "native-render-worker.js");
    // Inside VS Code, execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
    const nodeEnv = { ...process.env, ELECTRON_RUN_AS_NODE: "1" };
    const workerOk = fs.existsSync(worker);
    for (const engine of ["llama.cpp", "hf-jinja"] as const) {
      const heap = engine === "hf-jinja" ? [`--max-old-space-size=${Math.min(memoryCapMiB, 512)}`] : [];
      this.specs.set(engine, { ...base, command: process.execPath, args: [...heap, worker, "--engine", engine], env: nodeEnv });
      availability.set(engine, { engine, available: workerOk, detail: workerOk ? worker : `${worker} is missing: run \`node esbuild.mjs\`` });
    }

    const minja = minjaExecutable(options.root);
    const minjaOk = fs.existsSync(minja);
    this.specs.set("minja", { ...base, command: minja, args: [String(memoryCapMiB)] });
    availability.set("minja", {
      engine: "minja",
      available: minjaOk,
      detail: minjaOk ? minja : `${minja} is missing: run \`node scripts/build-minja.mjs\` (minja rules still apply)`,
    });

    // The first interpreter on PATH may be a pyenv/venv without jinja2 while the system one has it.
    const pythons = options.python ? [options.python] : ["python3", "/usr/bin/python3", "python"];
    const python = pythons.find((p) => probeJinja2(p) !== undefined) ?? pythons[0];
    const jinja2 = probeJinja2(python);
    this.specs.set("jinja2", { ...base, command: python, args: ["-c", JINJA2_WORKER_SCRIPT, String(memoryCapMiB)] });
    availability.set("jinja2", {
      engine: "jinja2",
      available: jinja2 !== undefined,
      detail: jinja2 ? `${python} with jinja2 ${jinja2}` : `no jinja2 importable by ${python} (skipped)`,
    });
    this.availability = availability;
  }

  isAvailable(engine: EngineId): boolean {
    return this.availability.get(engine)?.available ?? false;
  }

  /** The engine whose output is the reference for differential checks: jinja2 if present, else @huggingface/jinja. */
  get reference(): EngineId {
    return this.isAvailable("jinja2") ? "jinja2" : "hf-jinja";
  }

  /** Renders every context with one engine; never throws (failures are outcomes). */
  render(engine: EngineId, template: string, contexts: readonly RenderContext[], signal?: AbortSignal): Promise<RenderOutcome[]> {
    const a = this.availability.get(engine);
    if (!a?.available) return Promise.resolve(contexts.map(() => ({ ok: false, stage: "unavailable", error: a?.detail ?? engine }) as const));
    let pool = this.pools.get(engine);
    if (!pool) {
      const spec = this.specs.get(engine);
      if (!spec) throw new Error(`no spec for ${engine}`);
      pool = new EnginePool(spec, this.options.poolSize ?? 1);
      this.pools.set(engine, pool);
    }
    const key = this.cache.key(engine, template, contexts);
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    return pool.render(template, contexts, signal).then((outcomes) => {
      this.cache.remember(key, outcomes);
      return outcomes;
    });
  }

  /** Renders answered from the outcome cache so far. */
  get cacheHits(): number {
    return this.cache.hits;
  }

  /** Forgets cached outcomes (cold-start benchmarks). */
  clearCache(): void {
    this.cache.clear();
  }

  dispose(): void {
    this.cache.clear();
    for (const p of this.pools.values()) p.dispose();
    this.pools.clear();
  }
}
