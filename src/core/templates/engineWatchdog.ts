// Limits an engine process enforces on itself, so they hold even when its parent is gone (killed
// CLI or extension host) or too busy to enforce them: the process ends when its parent dies, when
// one batch runs far past the time limit, or when its resident memory passes the cap. Node has no
// parent-death signal, and a render blocks the main thread, so the checks run on a worker thread
// (sharing the batch start time through a SharedArrayBuffer) and end the process with SIGKILL.
import { Worker } from "node:worker_threads";

export interface EngineLimits {
  /** Render time limit per batch (ms); the process ends at selfDeadlineMs(this). 0: no limit. */
  readonly timeoutMs: number;
  /** Resident memory cap (MiB). 0: no cap. */
  readonly memoryCapMiB: number;
}

export interface BatchClock {
  start(): void;
  end(): void;
}

/**
 * The parent's own limits fire first whenever it is alive: it allows a batch the limit plus 10 s
 * for a fresh process's engine load (engineProcess.ts); the engine counts from when it read the
 * batch, so twice the limit plus 11 s is always later. These are the backstop.
 */
export function selfDeadlineMs(timeoutMs: number): number {
  return timeoutMs > 0 ? 2 * timeoutMs + 11_000 : 0;
}

const WATCHDOG_SOURCE = String.raw`
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const started = new Float64Array(workerData.shared);
const { parentPid, deadlineMs, memoryCapBytes } = workerData;
const statm = "/proc/self/statm";
const hasProc = fs.existsSync(statm);
const end = () => process.kill(process.pid, "SIGKILL");
setInterval(() => {
  if (process.ppid !== parentPid) end();
  const t = started[0];
  if (deadlineMs > 0 && t > 0 && Date.now() - t > deadlineMs) end();
  if (memoryCapBytes > 0 && hasProc) {
    try {
      if (Number(fs.readFileSync(statm, "utf8").split(" ")[1]) * 4096 > memoryCapBytes) end();
    } catch {}
  }
}, 100);
`;

/** Starts the watchdog thread; returns the clock the render loop marks each batch with. */
export function startEngineWatchdog(limits: EngineLimits): BatchClock {
  const shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const started = new Float64Array(shared);
  const worker = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: { shared, parentPid: process.ppid, deadlineMs: selfDeadlineMs(limits.timeoutMs), memoryCapBytes: limits.memoryCapMiB * 2 ** 20 },
    // The watchdog needs almost nothing; keep its heap small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  return {
    start: () => { started[0] = Date.now(); },
    end: () => { started[0] = 0; },
  };
}
