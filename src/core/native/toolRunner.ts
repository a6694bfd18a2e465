// The one place that starts native processes. No shell: arguments go to the kernel as-is,
// so paths with spaces or quotes are never reinterpreted. The environment is passed through,
// cleaned of what could inject code from the working folder (childEnv.ts), and never logged.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pickToolErrorLine } from "./toolErrorLine";
import { childProcessEnv } from "./childEnv";

export type OutputStream = "stdout" | "stderr";

export interface ToolProgress {
  /** 0..1 when the tool tells how far it is. */
  readonly fraction?: number;
  readonly message: string;
}

export interface ToolRunOptions {
  /** Absolute path of the executable. */
  readonly executable: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting kills the process (SIGTERM, then SIGKILL) and rejects with ToolCancelledError. */
  readonly signal?: AbortSignal;
  /** Every output line, as it arrives. */
  readonly onLine?: (line: string, stream: OutputStream) => void;
  /** Turns an output line into progress; the runner throttles what reaches onProgress. */
  readonly parseProgress?: (line: string, stream: OutputStream) => ToolProgress | undefined;
  readonly onProgress?: (progress: ToolProgress) => void;
  /** Minimum milliseconds between onProgress calls (the last update is always delivered). Default 100. */
  readonly progressIntervalMs?: number;
  /** Files this run creates; removed when the run fails or is cancelled, so nothing partial is left. */
  readonly outputs?: readonly string[];
  /** Milliseconds between SIGTERM and SIGKILL on cancel. Default 2000. */
  readonly killGraceMs?: number;
  /**
   * For request/response tools (the probe engine): called once with the child's stdin; without it
   * stdin is closed. Closing the stream tells such a tool to finish.
   */
  readonly onStdin?: (stdin: NodeJS.WritableStream) => void;
}

export interface ToolRunResult {
  readonly durationMs: number;
  readonly stdoutTail: string;
  readonly stderrTail: string;
}

const TAIL_LINES = 40;

export class ToolMissingError extends Error {
  constructor(readonly executable: string, detail: string) {
    super(`${path.basename(executable)} could not be started (${detail}): ${executable}`);
    this.name = "ToolMissingError";
  }
}

export class ToolCancelledError extends Error {
  constructor(readonly executable: string) {
    super(`${path.basename(executable)} was cancelled`);
    this.name = "ToolCancelledError";
  }
}

export class ToolFailedError extends Error {
  constructor(
    readonly executable: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: string,
    readonly stdoutTail: string,
  ) {
    const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
    const cause = pickToolErrorLine(stderrTail, stdoutTail);
    super(`${path.basename(executable)} ${how}${cause ? `: ${cause}` : ""}`);
    this.name = "ToolFailedError";
  }
}

class LineTail {
  private readonly lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }
  text(): string {
    return this.lines.join("\n");
  }
}

/**
 * Splits a byte stream into lines; llama.cpp tools also use bare \r for in-place updates.
 * `onPartial` sees an unfinished line as it grows: llama-imatrix prints its per-chunk
 * markers on one line and ends it only when all chunks are done.
 */
function lineSplitter(onLine: (line: string) => void, onPartial: (line: string) => void): { write(chunk: Buffer): void; end(): void } {
  let pending = "";
  return {
    write(chunk) {
      pending += chunk.toString("utf8");
      const parts = pending.split(/\r\n|\n|\r/);
      pending = parts.pop() ?? "";
      for (const p of parts) onLine(p);
      if (pending.length > 0) onPartial(pending);
    },
    end() {
      if (pending.length > 0) onLine(pending);
      pending = "";
    },
  };
}

export async function removeOutputs(outputs: readonly string[] | undefined): Promise<void> {
  for (const file of outputs ?? []) {
    await fs.promises.rm(file, { force: true, recursive: true }).catch(() => undefined);
  }
}

export function runTool(options: ToolRunOptions): Promise<ToolRunResult> {
  const started = Date.now();
  const stdoutTail = new LineTail();
  const stderrTail = new LineTail();
  const interval = options.progressIntervalMs ?? 100;
  let lastProgressAt = 0;
  let pendingProgress: ToolProgress | undefined;

  const deliverProgress = (force: boolean) => {
    if (!pendingProgress || !options.onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgressAt < interval) return;
    lastProgressAt = now;
    const p = pendingProgress;
    pendingProgress = undefined;
    options.onProgress(p);
  };

  return new Promise<ToolRunResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ToolCancelledError(options.executable));
      return;
    }
    if (!fs.existsSync(options.executable)) {
      reject(new ToolMissingError(options.executable, "file not found"));
      return;
    }
    const child = spawn(options.executable, [...options.args], {
      cwd: options.cwd,
      env: childProcessEnv(options.env ?? process.env),
      shell: false,
      stdio: [options.onStdin ? "pipe" : "ignore", "pipe", "pipe"],
      windowsHide: true,
    });
    if (options.onStdin && child.stdin) {
      // A tool that dies mid-request makes writes fail with EPIPE: the exit reports it, not this.
      child.stdin.on("error", () => undefined);
      options.onStdin(child.stdin);
    }

    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cancelled = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), options.killGraceMs ?? 2000);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const progressFrom = (line: string, stream: OutputStream) => {
      const p = options.parseProgress?.(line, stream);
      if (p) {
        pendingProgress = p;
        deliverProgress(false);
      }
    };
    const handle = (stream: OutputStream, tail: LineTail) =>
      lineSplitter(
        (line) => {
          tail.push(line);
          options.onLine?.(line, stream);
          progressFrom(line, stream);
        },
        (partial) => progressFrom(partial, stream),
      );
    const out = handle("stdout", stdoutTail);
    const err = handle("stderr", stderrTail);
    child.stdout?.on("data", (c: Buffer) => out.write(c));
    child.stderr?.on("data", (c: Buffer) => err.write(c));

    let spawnError: Error | undefined;
    child.on("error", (e) => {
      spawnError = e;
    });

    child.on("close", (code, signal) => {
      out.end();
      err.end();
      options.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      const finish = async () => {
        if (spawnError && code === null && !signal) {
          await removeOutputs(options.outputs);
          throw new ToolMissingError(options.executable, spawnError.message);
        }
        if (cancelled) {
          await removeOutputs(options.outputs);
          throw new ToolCancelledError(options.executable);
        }
        if (code !== 0) {
          await removeOutputs(options.outputs);
          throw new ToolFailedError(options.executable, code, signal, stderrTail.text(), stdoutTail.text());
        }
        deliverProgress(true);
        return { durationMs: Date.now() - started, stdoutTail: stdoutTail.text(), stderrTail: stderrTail.text() };
      };
      finish().then(resolve, reject);
    });
  });
}
