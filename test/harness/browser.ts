// Headless Debian Chromium (through playwright-core, never a downloaded browser) showing the
// code-server workbench with our extension under development and the mocha suite as its tests.
import { chromium, type Browser, type Frame, type Page } from "playwright-core";
import { findChromium } from "./paths";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

export interface Workbench {
  browser: Browser;
  page: Page;
  /** Resolves with the code the workbench passed to codeAutomationExit (the mocha run's result). */
  exitCode: Promise<number>;
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  origin: string;
  workspace: string;
  extensionDevelopmentPath: string;
  extensionTestsPath: string;
  onLog(line: string): void;
}

/**
 * The `payload` query parameter is how code-server's workbench takes extension-development arguments
 * (`npm start` gives no tests path). The remote authority in it must be the host the browser uses.
 */
export function workbenchUrl(
  o: Pick<WorkbenchOptions, "origin" | "workspace" | "extensionDevelopmentPath"> & { extensionTestsPath?: string },
): string {
  const remote = (p: string) => `vscode-remote://${new URL(o.origin).host}${p}`;
  const payload = [["extensionDevelopmentPath", remote(o.extensionDevelopmentPath)]];
  if (o.extensionTestsPath) payload.push(["extensionTestsPath", remote(o.extensionTestsPath)]);
  return `${o.origin}/?folder=${encodeURIComponent(o.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Headless Debian Chromium with the harness's flags and a 1400×900 page. */
export async function launchChromium(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    return { browser, page: await context.newPage() };
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
}

export async function openWorkbench(o: WorkbenchOptions): Promise<Workbench> {
  const { browser, page } = await launchChromium();
  try {
    page.setDefaultTimeout(20_000);
    let resolveExit: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((r) => (resolveExit = r));
    await page.exposeFunction("codeAutomationLog", (type: string, args: unknown[]) => {
      o.onLog(`[host ${type}] ${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`);
    });
    await page.exposeFunction("codeAutomationExit", (code: number) => resolveExit(code));
    page.on("pageerror", (e) => o.onLog(`[page error] ${e.message}`));
    await page.goto(workbenchUrl(o), { waitUntil: "domcontentloaded", timeout: 60_000 });
    return {
      browser,
      page,
      exitCode,
      async close() {
        await browser.close().catch(() => undefined);
      },
    };
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The first frame (webviews are nested cross-origin iframes, so search every frame) in which
 * `selector` matches, polling until `timeoutMs`.
 */
export async function findFrame(page: Page, frameSelector: string, timeoutMs = 20_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      try {
        if ((await frame.locator(frameSelector).count()) > 0) return frame;
      } catch {
        // Frame detached while we looked.
      }
    }
    if (Date.now() > deadline) {
      const urls = page.frames().map((f) => f.url().slice(0, 120));
      throw new Error(`no webview frame contains "${frameSelector}" after ${timeoutMs} ms (frames: ${urls.join(" | ")})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
