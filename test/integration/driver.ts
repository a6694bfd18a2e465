// Typed client for the browser driver (test/harness/driverServer.ts), used by integration tests
// running inside the extension host: screenshots, webview DOM reads and clicks, workbench keys.
// Under @vscode/test-electron (desktop) there is no driver: `hasBrowserDriver()` is false,
// `screenshot()` does nothing, and the other calls throw DriverUnavailableError.
import type { DriverOp, DriverReply, DriverRequests, DriverResults, SuiteReport } from "../harness/protocol";
import { DRIVER_URL_ENV } from "../harness/protocol";

export class DriverUnavailableError extends Error {
  constructor(op: string) {
    super(`browser driver not available (${DRIVER_URL_ENV} unset) for "${op}": this runs only in the code-server harness`);
    this.name = "DriverUnavailableError";
  }
}

export class DriverOperationError extends Error {
  constructor(op: string, detail: string) {
    super(`driver ${op} failed: ${detail}`);
    this.name = "DriverOperationError";
  }
}

export function hasBrowserDriver(): boolean {
  return !!process.env[DRIVER_URL_ENV];
}

async function call<Op extends DriverOp>(op: Op, body: DriverRequests[Op]): Promise<DriverResults[Op]> {
  const base = process.env[DRIVER_URL_ENV];
  if (!base) throw new DriverUnavailableError(op);
  // A little above the server's own per-operation limit, so its clearer message wins.
  const res = await fetch(`${base}/${op}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(75_000),
  });
  const reply = (await res.json()) as DriverReply<Op>;
  if (!reply.ok) throw new DriverOperationError(op, reply.error);
  return reply.result;
}

/** Saves .test-artifacts/screenshots/<name>.png of the whole workbench; returns its path (undefined without a driver). */
export async function screenshot(name: string): Promise<string | undefined> {
  if (!hasBrowserDriver()) return undefined;
  return (await call("screenshot", { name })).path;
}

/** Options shared by webview calls: how long to look for the frame. */
export interface FrameOptions {
  timeoutMs?: number;
}

/**
 * `frameSelector` picks the webview: the first frame (among all nested iframes) in which it matches,
 * e.g. "#gguf-inspector-root". `selector` then addresses an element inside that frame.
 */
export async function webviewText(frameSelector: string, selector: string, o: FrameOptions = {}): Promise<string> {
  return (await call("webviewText", { frameSelector, selector, ...o })).text;
}

export async function webviewAttribute(frameSelector: string, selector: string, attribute: string, o: FrameOptions = {}): Promise<string | null> {
  return (await call("webviewAttribute", { frameSelector, selector, attribute, ...o })).value;
}

/** Evaluates a JS expression in the webview frame; the result must be JSON-serialisable. */
export async function webviewEval<T>(frameSelector: string, expression: string, o: FrameOptions = {}): Promise<T> {
  return (await call("webviewEval", { frameSelector, expression, ...o })).value as T;
}

export async function webviewClick(frameSelector: string, selector: string, o: FrameOptions = {}): Promise<void> {
  await call("webviewClick", { frameSelector, selector, ...o });
}

/** Moves the real mouse over (or clicks) `selector` at (x, y) from its top-left corner. */
export async function webviewMouse(frameSelector: string, selector: string, x: number, y: number, action: "hover" | "click", o: FrameOptions = {}): Promise<void> {
  await call("webviewMouse", { frameSelector, selector, x, y, action, ...o });
}

export async function webviewFill(frameSelector: string, selector: string, value: string, o: FrameOptions = {}): Promise<void> {
  await call("webviewFill", { frameSelector, selector, value, ...o });
}

/** Focuses `selector` (when given) in the webview, then presses keys ("Enter", "ArrowDown", "Control+A"). */
export async function webviewPress(frameSelector: string, keys: string[], selector?: string, o: FrameOptions = {}): Promise<void> {
  await call("webviewPress", { frameSelector, keys, selector, ...o });
}

/** Waits until `selector` is visible in the webview identified by `frameSelector` (defaults to `selector` itself). */
export async function waitForWebview(selector: string, frameSelector = selector, o: FrameOptions = {}): Promise<void> {
  await call("webviewWaitFor", { frameSelector, selector, ...o });
}

/** Presses keys in the workbench, e.g. to accept a QuickPick: pressKeys("Enter"). */
export async function pressKeys(...keys: string[]): Promise<void> {
  await call("pressKeys", { keys });
}

/** Types into whatever the workbench has focused (QuickPick filter, InputBox). */
export async function typeText(text: string): Promise<void> {
  await call("typeText", { text });
}

/** innerText of each workbench element matching `selector` (e.g. ".notifications-toasts", ".markers-panel"). */
export async function workbenchText(selector: string): Promise<string[]> {
  return (await call("workbenchText", { selector })).texts;
}

/** Waits until a workbench element matching `selector` (containing `text`, when given) is visible; returns its text. */
export async function waitForWorkbench(selector: string, text?: string, timeoutMs?: number): Promise<string> {
  return (await call("workbenchWaitFor", { selector, text, timeoutMs })).text;
}

/** Waits until no visible workbench element matches `selector` (containing `text`, when given). */
export async function waitForWorkbenchGone(selector: string, text?: string, timeoutMs?: number): Promise<void> {
  await call("workbenchWaitFor", { selector, text, timeoutMs, state: "hidden" });
}

export async function workbenchClick(selector: string, text?: string, timeoutMs?: number): Promise<void> {
  await call("workbenchClick", { selector, text, timeoutMs });
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A line in the outer runner's output (no-op without a driver). */
export async function log(message: string): Promise<void> {
  if (!hasBrowserDriver()) {
    console.log(message);
    return;
  }
  await call("log", { message });
}

/** Used by test/integration/index.ts to hand mocha totals to the outer runner. */
export async function reportTotals(report: SuiteReport): Promise<void> {
  if (!hasBrowserDriver()) return;
  await call("report", report);
}
