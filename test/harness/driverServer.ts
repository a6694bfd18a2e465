// The loopback HTTP API through which tests inside the extension host use the real browser
// (see protocol.ts). Every operation has a timeout so a missing element fails the test instead of hanging it.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { Page } from "playwright-core";
import { findFrame } from "./browser";
import type { DriverOp, DriverReply, DriverRequests, DriverResults, SuiteReport } from "./protocol";
import { screenshotsDir } from "./paths";

type Handler<Op extends DriverOp> = (page: Page, body: DriverRequests[Op]) => Promise<DriverResults[Op]>;
type Handlers = { [Op in DriverOp]: Handler<Op> };

export interface DriverServer {
  url: string;
  /** Attach the page once the browser has opened it; requests before that wait for it. */
  attach(page: Page): void;
  reports: SuiteReport[];
  close(): Promise<void>;
}

const OP_TIMEOUT_MS = 60_000;

function safeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  if (!clean) throw new Error(`invalid screenshot name "${name}"`);
  return clean;
}

function handlers(reports: SuiteReport[], log: (line: string) => void): Handlers {
  return {
    async screenshot(page, { name }) {
      fs.mkdirSync(screenshotsDir, { recursive: true });
      const file = path.join(screenshotsDir, `${safeName(name)}.png`);
      await page.screenshot({ path: file });
      log(`[driver] screenshot ${path.relative(process.cwd(), file)}`);
      return { path: file };
    },
    async webviewText(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      return { text: (await frame.locator(q.selector).first().textContent()) ?? "" };
    },
    async webviewAttribute(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      return { value: await frame.locator(q.selector).first().getAttribute(q.attribute) };
    },
    async webviewEval(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      // Wrapped in Function so any expression (not only a function body) works; the value must be JSON-serialisable.
      const value: unknown = await frame.evaluate((expr) => new Function(`return (${expr});`)(), q.expression);
      return { value };
    },
    async webviewClick(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      await frame.locator(q.selector).first().click();
      return {};
    },
    async webviewMouse(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      const target = frame.locator(q.selector).first();
      if (q.action === "hover") await target.hover({ position: { x: q.x, y: q.y } });
      else await target.click({ position: { x: q.x, y: q.y } });
      return {};
    },
    async webviewFill(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      await frame.locator(q.selector).first().fill(q.value);
      return {};
    },
    async webviewPress(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      if (q.selector) await frame.locator(q.selector).first().focus();
      for (const key of q.keys) await page.keyboard.press(key);
      return {};
    },
    async webviewWaitFor(page, q) {
      const frame = await findFrame(page, q.frameSelector, q.timeoutMs);
      await frame.locator(q.selector).first().waitFor({ state: "visible", timeout: q.timeoutMs ?? 20_000 });
      return { frameUrl: frame.url() };
    },
    async pressKeys(page, { keys }) {
      for (const key of keys) await page.keyboard.press(key);
      return {};
    },
    async typeText(page, { text }) {
      await page.keyboard.type(text, { delay: 10 });
      return {};
    },
    async workbenchText(page, { selector }) {
      return { texts: await page.locator(selector).allInnerTexts() };
    },
    async workbenchWaitFor(page, { selector, text, timeoutMs, state }) {
      const loc = page.locator(selector, text === undefined ? {} : { hasText: text }).first();
      await loc.waitFor({ state: state ?? "visible", timeout: timeoutMs ?? 20_000 });
      return { text: state === "hidden" ? "" : await loc.innerText() };
    },
    async workbenchClick(page, { selector, text, timeoutMs }) {
      await page.locator(selector, text === undefined ? {} : { hasText: text }).first().click({ timeout: timeoutMs ?? 20_000 });
      return {};
    },
    async report(_page, r) {
      reports.push(r);
      return {};
    },
    async log(_page, { message }) {
      log(message);
      return {};
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function startDriverServer(log: (line: string) => void): Promise<DriverServer> {
  const reports: SuiteReport[] = [];
  const table = handlers(reports, log);
  let attachPage: (p: Page) => void = () => undefined;
  const pageReady = new Promise<Page>((r) => (attachPage = r));

  const server = http.createServer((req, res) => {
    const op = (req.url ?? "").replace(/^\//, "") as DriverOp;
    const send = (status: number, reply: DriverReply<DriverOp>) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    };
    if (req.method !== "POST" || !Object.prototype.hasOwnProperty.call(table, op)) {
      send(404, { ok: false, error: `unknown driver operation "${req.method} ${req.url}"` });
      return;
    }
    void (async () => {
      try {
        const body = JSON.parse((await readBody(req)) || "{}") as DriverRequests[DriverOp];
        const handler = table[op] as Handler<DriverOp>;
        const run = async () => handler(await pageReady, body);
        const result = await withTimeout(run(), OP_TIMEOUT_MS, `driver operation ${op}`);
        send(200, { ok: true, result });
      } catch (e) {
        send(200, { ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    attach: (p) => attachPage(p),
    reports,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
