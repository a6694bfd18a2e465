// A persistent child process speaking one JSON line per request and per reply, with the limits
// every template render needs: a wall-clock limit, SIGKILL (native renders ignore SIGTERM),
// a resident-memory cap polled from /proc, and a reply-size cap. A crash, a timeout or a blown
// cap fails only the batch in flight; the next request starts a fresh process.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import type { RenderContext, RenderOutcome, RenderFailureStage } from "./types";
import { childProcessEnv } from "../native/childEnv";

export interface EngineProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Working folder: a fixed one we own, never the folder of the template being linted. */
  readonly cwd?: string;
  /** Wall-clock limit per batch. */
  readonly timeoutMs: number;
  /** Resident set size cap (MiB), enforced by polling /proc/<pid>/statm where it exists. */
  readonly memoryCapMiB: number;
  /** Largest reply line accepted (bytes). */
  readonly maxReplyBytes: number;
}

interface BatchReply {
  readonly id?: number;
  readonly results?: RenderOutcome[];
  readonly error?: string;
}

interface Pending {
  readonly id: number;
  readonly count: number;
  readonly resolve: (r: RenderOutcome[]) => void;
  timer?: NodeJS.Timeout;
  memoryTimer?: NodeJS.Timeout;
}

const PAGE_SIZE = 4096;

function failAll(count: number, stage: RenderFailureStage, error: string): RenderOutcome[] {
  return Array.from({ length: count }, () => ({ ok: false, stage, error }) as const);
}

/** Extra time allowed for the first request of a newly started process. */
const STARTUP_GRACE_MS = 10_000;

/** One child process; serves one batch at a time. */
export class EngineProcess {
  private child?: ChildProcessWithoutNullStreams;
  private pending?: Pending;
  private buffer = "";
  private nextId = 1;
  private disposed = false;
  /** Why the last process ended abnormally (for the crash message). */
  private killReason?: { stage: RenderFailureStage; error: string };

  constructor(private readonly spec: EngineProcessSpec) {}

  get busy(): boolean {
    return this.pending !== undefined;
  }

  render(template: string, contexts: readonly RenderContext[]): Promise<RenderOutcome[]> {
    if (this.disposed) return Promise.resolve(failAll(contexts.length, "unavailable", "engine disposed"));
    if (this.pending) throw new Error("EngineProcess is busy");
    const fresh = !this.child;
    const child = this.ensureChild();
    const id = this.nextId++;
    // A fresh process first loads its engine (node-llama-cpp's addon, Python): on a loaded machine
    // that alone can take seconds, and must not count as the template's render time.
    const limitMs = this.spec.timeoutMs + (fresh ? STARTUP_GRACE_MS : 0);
    return new Promise<RenderOutcome[]>((resolve) => {
      const p: Pending = { id, count: contexts.length, resolve };
      this.pending = p;
      p.timer = setTimeout(() => this.kill("timeout", `render exceeded ${this.spec.timeoutMs} ms (killed)`), limitMs);
      if (fs.existsSync(`/proc/${child.pid}/statm`)) {
        p.memoryTimer = setInterval(() => this.checkMemory(child), 20);
      }
      child.stdin.write(JSON.stringify({ id, template, contexts }) + "\n");
    });
  }

  private checkMemory(child: ChildProcessWithoutNullStreams): void {
    try {
      const pages = Number(fs.readFileSync(`/proc/${child.pid}/statm`, "utf8").split(" ")[1]);
      if ((pages * PAGE_SIZE) / 2 ** 20 > this.spec.memoryCapMiB) {
        this.kill("limit", `render exceeded the ${this.spec.memoryCapMiB} MiB memory cap (killed)`);
      }
    } catch {
      // The process is gone; its exit handler reports it.
    }
  }

  private kill(stage: RenderFailureStage, error: string): void {
    this.killReason = { stage, error };
    this.child?.kill("SIGKILL");
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: this.spec.env ?? childProcessEnv(),
      cwd: this.spec.cwd,
      shell: false,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    this.child = child;
    this.buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => this.onData(chunk));
    child.stderr.on("data", () => undefined); // drained; native loggers may write here
    child.stdin.on("error", () => undefined); // EPIPE after a crash is reported by "exit"
    child.on("error", (e) => this.onExit(child, null, null, e.message));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    return child;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > this.spec.maxReplyBytes && !this.buffer.includes("\n")) {
      this.kill("limit", `render output exceeded ${this.spec.maxReplyBytes} bytes (killed)`);
      return;
    }
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p || line.trim().length === 0) return;
    let reply: BatchReply;
    try {
      reply = JSON.parse(line) as BatchReply;
    } catch {
      return; // stray output from a library; replies are always JSON
    }
    if (reply.id !== p.id && reply.id !== 0) return;
    const results = reply.results && reply.results.length === p.count ? reply.results : failAll(p.count, "crash", reply.error ?? "malformed reply");
    this.settle(results);
  }

  private settle(results: RenderOutcome[]): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (p.timer) clearTimeout(p.timer);
    if (p.memoryTimer) clearInterval(p.memoryTimer);
    p.resolve(results);
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    const reason = this.killReason;
    this.killReason = undefined;
    if (!this.pending) return;
    const how = spawnError ? `could not start (${spawnError})` : signal ? `crashed (${signal})` : `exited with code ${code}`;
    const count = this.pending.count;
    this.settle(reason ? failAll(count, reason.stage, reason.error) : failAll(count, spawnError ? "unavailable" : "crash", `engine process ${how}`));
  }

  dispose(): void {
    this.disposed = true;
    const p = this.pending;
    if (p) this.settle(failAll(p.count, "unavailable", "engine disposed"));
    this.child?.kill("SIGKILL");
    this.child = undefined;
  }
}

/** A few EngineProcesses behind a queue. Aborting drops a queued batch (stale keystrokes). */
export class EnginePool {
  private readonly processes: EngineProcess[];
  private readonly queue: { template: string; contexts: readonly RenderContext[]; resolve: (r: RenderOutcome[]) => void; signal?: AbortSignal }[] = [];

  constructor(spec: EngineProcessSpec, size: number) {
    this.processes = Array.from({ length: Math.max(1, size) }, () => new EngineProcess(spec));
  }

  render(template: string, contexts: readonly RenderContext[], signal?: AbortSignal): Promise<RenderOutcome[]> {
    if (contexts.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.queue.push({ template, contexts, resolve, signal });
      this.pump();
    });
  }

  private pump(): void {
    for (const proc of this.processes) {
      if (proc.busy) continue;
      let job = this.queue.shift();
      while (job?.signal?.aborted) {
        job.resolve(failAll(job.contexts.length, "unavailable", "cancelled"));
        job = this.queue.shift();
      }
      if (!job) return;
      const j = job;
      proc.render(j.template, j.contexts).then((r) => {
        j.resolve(r);
        this.pump();
      });
    }
  }

  dispose(): void {
    for (const job of this.queue.splice(0)) job.resolve(failAll(job.contexts.length, "unavailable", "engine disposed"));
    for (const p of this.processes) p.dispose();
  }
}
