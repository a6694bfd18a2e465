// The loopback HTTP API between the test driver (outside, holding the real browser) and the tests
// running inside the extension host. One POST per request to `${GGUF_STUDIO_TEST_DRIVER}/<op>`,
// JSON body in, JSON `DriverReply` out. Shared by test/harness (server) and test/integration/driver.ts (client).

/** Env var carrying the driver's base URL (e.g. http://127.0.0.1:41234) into the extension host. */
export const DRIVER_URL_ENV = "GGUF_STUDIO_TEST_DRIVER";
/** Env var naming the workspace-trust mode of this run: "trusted" or "untrusted". */
export const TRUST_MODE_ENV = "GGUF_STUDIO_TEST_TRUST";
/** Env var naming which test files the in-host runner loads (see test/integration/index.ts). */
export const SUITE_ENV = "GGUF_STUDIO_TEST_SUITE";
/** Env var: optional mocha --grep pattern for the in-host runner. */
export const GREP_ENV = "GGUF_STUDIO_TEST_GREP";

export type TrustMode = "trusted" | "untrusted";
export type SuiteName = "integration" | "untrusted" | "vsix";

/** Selects one webview frame: the first frame (searched across all nested iframes) where `frameSelector` matches. */
export interface FrameQuery {
  frameSelector: string;
  /** How long to keep looking for the frame, in ms (default 20 000). */
  timeoutMs?: number;
}

export interface DriverRequests {
  /** Save a PNG of the whole workbench to .test-artifacts/screenshots/<name>.png. */
  screenshot: { name: string };
  /** Text content of the first element matching `selector` inside the frame. */
  webviewText: FrameQuery & { selector: string };
  /** Attribute value of the first element matching `selector` inside the frame (null when absent). */
  webviewAttribute: FrameQuery & { selector: string; attribute: string };
  /** Evaluate a JS expression inside the frame; the JSON-serialisable result is returned. */
  webviewEval: FrameQuery & { expression: string };
  webviewClick: FrameQuery & { selector: string };
  /** Real mouse: hover or click `selector` at (x, y) relative to its top-left corner (a canvas cell, say). */
  webviewMouse: FrameQuery & { selector: string; x: number; y: number; action: "hover" | "click" };
  webviewFill: FrameQuery & { selector: string; value: string };
  /** Focus `selector` in the frame (when given) and press keys, e.g. ["Enter"] or ["Control+A"]. */
  webviewPress: FrameQuery & { selector?: string; keys: string[] };
  /** Wait until `selector` is visible in some frame (or in the given frame). */
  webviewWaitFor: FrameQuery & { selector: string };
  /** Press keys in the workbench (Playwright key names: "Enter", "Escape", "ArrowDown", "Control+Shift+P"). */
  pressKeys: { keys: string[] };
  /** Type text into whatever has focus in the workbench (QuickPick / InputBox). */
  typeText: { text: string };
  /** innerText of every element matching `selector` in the workbench page. */
  workbenchText: { selector: string };
  /** Wait until `selector` (containing `text`, when given) is visible in the workbench page, or with `state: "hidden"` until none is. */
  workbenchWaitFor: { selector: string; text?: string; timeoutMs?: number; state?: "visible" | "hidden" };
  /** Click the first visible workbench element matching `selector` (and containing `text` when given). */
  workbenchClick: { selector: string; text?: string; timeoutMs?: number };
  /** Report mocha totals of the in-host run (the outer runner sums them). */
  report: { suite: string; passed: number; failed: number; pending: number; failures: string[] };
  /** A line for the driver's log. */
  log: { message: string };
}

export interface DriverResults {
  screenshot: { path: string };
  webviewText: { text: string };
  webviewAttribute: { value: string | null };
  webviewEval: { value: unknown };
  webviewClick: Record<string, never>;
  webviewMouse: Record<string, never>;
  webviewFill: Record<string, never>;
  webviewPress: Record<string, never>;
  webviewWaitFor: { frameUrl: string };
  pressKeys: Record<string, never>;
  typeText: Record<string, never>;
  workbenchText: { texts: string[] };
  workbenchWaitFor: { text: string };
  workbenchClick: Record<string, never>;
  report: Record<string, never>;
  log: Record<string, never>;
}

export type DriverOp = keyof DriverRequests;

export type DriverReply<Op extends DriverOp> = { ok: true; result: DriverResults[Op] } | { ok: false; error: string };

/** Per-suite totals the in-host runner reports; written by the driver to a results file for the outer runner. */
export interface SuiteReport {
  suite: string;
  passed: number;
  failed: number;
  pending: number;
  failures: string[];
}
