// Client of gguf-studio-probe (src/core/quant/native/probe-engine.cpp): one process that loads the
// base model once and answers probe requests over stdin/stdout, one JSON object per line. It runs
// under the one tool runner, so cancel kills it and a crash becomes a typed error; this module adds
// the request/reply matching, a time limit per request, and errors that name the probe in flight.
import { ToolCancelledError, runTool, type ToolRunOptions, type ToolRunResult } from "../native/toolRunner";

export interface ProbeEngineOptions {
  readonly executable: string;
  readonly basePath: string;
  readonly textPath: string;
  readonly contextSize: number;
  readonly chunks: number;
  readonly imatrix?: string;
  /** Activation statistics (an imatrix file) that weight the weight-error proxy only; quantization ignores them. */
  readonly proxyImatrix?: string;
  readonly gpuLayers?: number;
  readonly threads?: number;
  /** Base log-probabilities kept per scored token (plus the residual mass). Default 64. */
  readonly topK?: number;
  /** Also keep the full base distribution and report the exact KLD beside the top-k one. */
  readonly fullKld?: boolean;
  /** The GPU this engine runs on (one engine per GPU); default: llama.cpp's choice. */
  readonly device?: number;
  /** Memory the engine may use (bytes); it refuses to load a model that needs more. Default: what the machine has. */
  readonly maxMemoryBytes?: number;
  /** A request (one evaluation) that takes longer than this kills the engine. Default 10 min. */
  readonly requestTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onLine?: (line: string) => void;
  readonly run?: (options: ToolRunOptions) => Promise<ToolRunResult>;
}

export interface ProbeEngineReady {
  readonly loadMs: number;
  readonly baseMs: number;
  readonly tokens: number;
  readonly chunks: number;
  readonly nVocab: number;
  readonly topK: number;
  readonly full: boolean;
  readonly imatrixEntries: number;
  /** Tensors whose weight-error proxy is weighted by --proxy-imatrix activation statistics. */
  readonly proxyImatrixEntries?: number;
  readonly system: string;
}

export interface KldStats {
  readonly mean: number;
  readonly se: number;
  readonly p99_9: number;
}

export interface ProbeReading {
  /** Mean KLD: the exact one when the engine keeps the full base distribution, else the top-k one. */
  readonly kld: number;
  readonly topK: KldStats;
  readonly full?: KldStats;
  readonly sameTop: number;
  readonly tokens: number;
  readonly ms: { readonly quantize: number; readonly eval: number };
}

export interface TensorTypeAssignment {
  readonly name: string;
  readonly type: string;
}

/** A refusal the engine states before it loads anything (memory, text too short, bad arguments). */
export class ProbeEngineError extends Error {
  constructor(readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ProbeEngineError";
  }
}

interface Pending {
  readonly label: string;
  readonly resolve: (v: Record<string, unknown>) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class ProbeEngine implements ProbeEvaluator {
  readonly parallel = 1;
  private stdin: NodeJS.WritableStream | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly abort = new AbortController();
  private exited: Promise<void> = Promise.resolve();
  private exitError: Error | undefined;
  private startupError: ProbeEngineError | undefined;
  private readyInfo: ProbeEngineReady | undefined;

  private constructor(private readonly o: ProbeEngineOptions) {}

  get ready(): ProbeEngineReady {
    if (!this.readyInfo) throw new Error("the probe engine is not ready");
    return this.readyInfo;
  }

  static async start(o: ProbeEngineOptions): Promise<ProbeEngine> {
    const engine = new ProbeEngine(o);
    await engine.launch();
    return engine;
  }

  private launch(): Promise<void> {
    const o = this.o;
    const args = ["-m", o.basePath, "-f", o.textPath, "-c", String(o.contextSize), "--chunks", String(o.chunks), "--top-k", String(o.topK ?? 64)];
    if (o.imatrix) args.push("--imatrix", o.imatrix);
    if (o.proxyImatrix) args.push("--proxy-imatrix", o.proxyImatrix);
    if (o.gpuLayers) args.push("-ngl", String(o.gpuLayers));
    if (o.threads) args.push("-t", String(o.threads));
    if (o.fullKld) args.push("--full");
    if (o.maxMemoryBytes) args.push("--max-memory", String(Math.floor(o.maxMemoryBytes)));
    if (o.device !== undefined) args.push("--device", String(o.device));
    const onOuterAbort = () => this.abort.abort();
    o.signal?.addEventListener("abort", onOuterAbort, { once: true });
    if (o.signal?.aborted) this.abort.abort();
    return new Promise<void>((resolveReady, rejectReady) => {
      let readySettled = false;
      const settleReady = (e?: Error) => {
        if (readySettled) return;
        readySettled = true;
        if (e) rejectReady(e);
        else resolveReady();
      };
      this.exited = (o.run ?? runTool)({
        executable: o.executable,
        args,
        signal: this.abort.signal,
        killGraceMs: 1000,
        onStdin: (s) => { this.stdin = s; },
        onLine: (line, stream) => {
          if (stream === "stdout" && line.startsWith("{")) this.onMessage(line, settleReady);
          else o.onLine?.(line);
        },
      }).then(
        () => { this.exitError = new Error("the probe engine exited"); },
        (e: Error) => { this.exitError = e; },
      ).finally(() => {
        o.signal?.removeEventListener("abort", onOuterAbort);
        const err = this.describeExit();
        settleReady(err);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(err instanceof ToolCancelledError || err instanceof ProbeEngineError ? err : new Error(`the probe engine stopped while measuring ${p.label}: ${err.message}`));
          this.pending.delete(id);
        }
      });
    });
  }

  private describeExit(): Error {
    if (this.o.signal?.aborted) return new ToolCancelledError(this.o.executable);
    if (this.startupError) return this.startupError;
    return this.exitError ?? new Error("the probe engine exited");
  }

  private onMessage(line: string, settleReady: (e?: Error) => void): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.o.onLine?.(line);
      return;
    }
    if (msg.event === "ready") {
      this.readyInfo = msg as unknown as ProbeEngineReady;
      settleReady();
      return;
    }
    if (msg.event === "error") {
      const { code, message, ...details } = msg;
      this.startupError = new ProbeEngineError(String(code), String(message), details);
      return;
    }
    const id = typeof msg.id === "number" ? msg.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (typeof msg.error === "string") p.reject(new Error(`probe ${p.label}: ${msg.error}`));
    else p.resolve(msg);
  }

  private request(body: Record<string, unknown>, label: string): Promise<Record<string, unknown>> {
    if (this.exitError || !this.stdin) return Promise.reject(this.describeExit());
    const id = this.nextId++;
    const timeoutMs = this.o.requestTimeoutMs ?? 10 * 60_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the probe engine did not answer within ${Math.round(timeoutMs / 1000)} s while measuring ${label}; it was stopped`));
        this.abort.abort();
      }, timeoutMs);
      this.pending.set(id, { label, resolve, reject, timer });
      this.stdin?.write(JSON.stringify({ id, ...body }) + "\n");
    });
  }

  /** Quantizes these tensors in memory, measures KLD on the probe chunks, restores them. */
  async evaluate(tensors: readonly TensorTypeAssignment[], label: string): Promise<ProbeReading> {
    const r = await this.request({ op: "eval", tensors: tensors.map((t) => ({ name: t.name, type: t.type })) }, label);
    return r as unknown as ProbeReading;
  }

  /** Relative (imatrix-weighted) squared quantization error of each tensor at each type, from a row sample. */
  async weightErrors(tensors: readonly string[], types: readonly string[], maxRows = 256): Promise<Map<string, Map<string, number>>> {
    const r = await this.request({ op: "weight-error", tensors, types, maxRows }, `weight errors of ${tensors.length} tensors`);
    const out = new Map<string, Map<string, number>>();
    const errors = r.errors as Record<string, { relativeError: Record<string, number | null> }>;
    for (const [name, e] of Object.entries(errors)) {
      out.set(name, new Map(Object.entries(e.relativeError).filter((kv): kv is [string, number] => typeof kv[1] === "number")));
    }
    return out;
  }

  /** Asks the engine to finish and waits for it; kills it if it does not within a few seconds. */
  async close(): Promise<void> {
    if (!this.exitError && this.stdin) {
      this.stdin.write(JSON.stringify({ op: "quit" }) + "\n");
      this.stdin.end();
    }
    const killer = setTimeout(() => this.abort.abort(), 5000);
    await this.exited;
    clearTimeout(killer);
  }
}

/** What the optimizer needs of a probe engine; one engine or a pool of them (one per GPU). */
export interface ProbeEvaluator {
  readonly ready: ProbeEngineReady;
  evaluate(tensors: readonly TensorTypeAssignment[], label: string): Promise<ProbeReading>;
  weightErrors(tensors: readonly string[], types: readonly string[], maxRows?: number): Promise<Map<string, Map<string, number>>>;
  /** How many evaluations can run at once. */
  readonly parallel: number;
  close(): Promise<void>;
}

/** Several engines (one per GPU) sharing the probes: each request goes to the next free engine. */
export class ProbeEnginePool implements ProbeEvaluator {
  private readonly free: ProbeEngine[];
  private readonly waiting: ((e: ProbeEngine) => void)[] = [];

  constructor(private readonly engines: readonly ProbeEngine[]) {
    if (engines.length === 0) throw new Error("a probe engine pool needs at least one engine");
    this.free = [...engines];
  }

  static async start(o: ProbeEngineOptions, devices: readonly (number | undefined)[]): Promise<ProbeEnginePool> {
    const started = await Promise.allSettled(devices.map((device) => ProbeEngine.start(device === undefined ? o : { ...o, device })));
    const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(ok.map((e) => e.close()));
      throw failed.reason;
    }
    return new ProbeEnginePool(ok);
  }

  get ready(): ProbeEngineReady {
    return this.engines[0].ready;
  }

  get parallel(): number {
    return this.engines.length;
  }

  private async acquire(): Promise<ProbeEngine> {
    const e = this.free.shift();
    if (e) return e;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(e: ProbeEngine): void {
    const next = this.waiting.shift();
    if (next) next(e);
    else this.free.push(e);
  }

  private async withEngine<T>(f: (e: ProbeEngine) => Promise<T>): Promise<T> {
    const e = await this.acquire();
    try {
      return await f(e);
    } finally {
      this.release(e);
    }
  }

  evaluate(tensors: readonly TensorTypeAssignment[], label: string): Promise<ProbeReading> {
    return this.withEngine((e) => e.evaluate(tensors, label));
  }

  weightErrors(tensors: readonly string[], types: readonly string[], maxRows?: number): Promise<Map<string, Map<string, number>>> {
    return this.withEngine((e) => e.weightErrors(tensors, types, maxRows));
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((e) => e.close()));
  }
}
