// The set of template engines available on this machine, each behind a small process pool.
// Discovery is by files under the extension root (dist/native-render-worker.js for the Node
// engines, bin/minja/<platform>-<arch>/minja-render) and by probing `python3 -I -c "import jinja2"`.
// Every engine runs from a fixed folder (the studio root) with a cleaned environment, Python with
// -I (isolated: no cwd, script dir, PYTHON* variables or user site-packages on its path), so a
// json.py or .python-version in the folder being linted is never picked up.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EnginePool, type EngineProcessSpec } from "./engineProcess";
import { JINJA2_WORKER_SCRIPT } from "./jinja2Worker";
import { RenderCache } from "./renderCache";
import type { EngineId, RenderContext, RenderOutcome } from "./types";
import { childProcessEnv, resolveExecutable } from "../native/childEnv";

export interface EngineSetOptions {
  /** Folder holding dist/ and bin/ (the extension root or the repo root). */
  readonly root: string;
  /** Python interpreter for jinja2; default "python3". */
  readonly python?: string;
  /**
   * Whether Python may be started (to probe for jinja2 and to render). Asked on first use, not at
   * construction: the extension answers with workspace trust, so restricted mode never runs it.
   */
  readonly allowPython?: () => boolean;
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

/** Python's isolated mode: ignores PYTHON* variables, the user site and the cwd/script folder. */
export const PYTHON_ISOLATION_ARGS = ["-I"] as const;

/**
 * The jinja2 version importable by `python` (an absolute path), or undefined. Runs isolated from
 * `cwd` (a folder we own). Probed once per interpreter.
 */
export function probeJinja2(python: string, cwd: string): string | undefined {
  if (!jinja2Probe.has(python)) {
    const r = spawnSync(python, [...PYTHON_ISOLATION_ARGS, "-c", "import jinja2; print(jinja2.__version__)"], {
      encoding: "utf8", timeout: 5000, shell: false, cwd, env: childProcessEnv(), windowsHide: true,
    });
    jinja2Probe.set(python, r.status === 0 ? r.stdout.trim() : undefined);
  }
  return jinja2Probe.get(python);
}

export class EngineSet {
  private readonly pools = new Map<EngineId, EnginePool>();
  private readonly specs = new Map<EngineId, EngineProcessSpec>();
  private readonly cache: RenderCache;
  private readonly known = new Map<EngineId, EngineAvailability>();
  private disposed = false;

  constructor(private readonly options: EngineSetOptions) {
    this.cache = new RenderCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
    const availability = this.known;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const memoryCapMiB = options.memoryCapMiB ?? DEFAULT_MEMORY_CAP_MIB;
    const base = { timeoutMs, memoryCapMiB, maxReplyBytes: MAX_REPLY_BYTES };

    const worker = path.join(options.root, "dist", "native-render-worker.js");
    // Inside VS Code, execPath is Electron: ELECTRON_RUN_AS_NODE makes it a plain Node.
    const nodeEnv = childProcessEnv(process.env, { ELECTRON_RUN_AS_NODE: "1" });
    const cwd = options.root;
    const workerOk = fs.existsSync(worker);
    for (const engine of ["llama.cpp", "hf-jinja"] as const) {
      const heap = engine === "hf-jinja" ? [`--max-old-space-size=${Math.min(memoryCapMiB, 512)}`] : [];
      this.specs.set(engine, { ...base, command: process.execPath, args: [...heap, worker, "--engine", engine, "--timeout-ms", String(timeoutMs), "--memory-mib", String(memoryCapMiB)], env: nodeEnv, cwd });
      availability.set(engine, { engine, available: workerOk, detail: workerOk ? worker : `${worker} is missing: run \`node esbuild.mjs\`` });
    }

    const minja = minjaExecutable(options.root);
    const minjaOk = fs.existsSync(minja);
    this.specs.set("minja", { ...base, command: minja, args: [String(memoryCapMiB), String(timeoutMs)], env: childProcessEnv(), cwd });
    availability.set("minja", {
      engine: "minja",
      available: minjaOk,
      detail: minjaOk ? minja : `${minja} is missing: run \`node scripts/build-minja.mjs\` (minja rules still apply)`,
    });
  }

  /** Each engine's availability; jinja2 is probed (Python started) on the first call that may. */
  get availability(): ReadonlyMap<EngineId, EngineAvailability> {
    if (!this.known.has("jinja2")) {
      const allowed = this.options.allowPython?.() ?? true;
      if (!allowed) return new Map([...this.known, ["jinja2", { engine: "jinja2", available: false, detail: "Python is not run in an untrusted workspace" }]]);
      this.known.set("jinja2", this.findJinja2());
    }
    return this.known;
  }

  private findJinja2(): EngineAvailability {
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const memoryCapMiB = o.memoryCapMiB ?? DEFAULT_MEMORY_CAP_MIB;
    // The first interpreter on PATH may be a pyenv/venv without jinja2 while the system one has it.
    const names = o.python ? [o.python] : ["python3", "/usr/bin/python3", "python"];
    const pythons = [...new Set(names.map((n) => resolveExecutable(n)).filter((p): p is string => p !== undefined))];
    const python = pythons.find((p) => probeJinja2(p, o.root) !== undefined);
    if (!python) return { engine: "jinja2", available: false, detail: `no jinja2 importable by ${pythons.join(", ") || names.join(", ")} (skipped)` };
    this.specs.set("jinja2", {
      timeoutMs, memoryCapMiB, maxReplyBytes: MAX_REPLY_BYTES,
      command: python,
      args: [...PYTHON_ISOLATION_ARGS, "-c", JINJA2_WORKER_SCRIPT, String(memoryCapMiB), String(timeoutMs)],
      env: childProcessEnv(),
      cwd: o.root,
    });
    return { engine: "jinja2", available: true, detail: `${python} with jinja2 ${probeJinja2(python, o.root)}` };
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
    const a = this.disposed ? { available: false, detail: "cancelled" } : this.availability.get(engine);
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
    this.disposed = true;
    this.cache.clear();
    for (const p of this.pools.values()) p.dispose();
    this.pools.clear();
  }
}
