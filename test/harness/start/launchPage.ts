// The page `npm start` prints: served by a tiny loopback server and reached through code-server's
// own /proxy/<port>/ route, so it runs on the workbench's origin. There it
//  - grants workspace trust to the sample folder only, and
//  - forwards to the workbench with the extension under development in the `payload` parameter.
//
// Why a page: code-server's web workbench keeps the trusted-folder list in the BROWSER (IndexedDB
// "vscode-web-state-db-global", key "content.trust.model.key", application scope; see VS Code's
// workspaceTrust.ts and the browser storageService.ts), not in the server's user-data dir, and
// there is no server flag that trusts one folder (`--disable-workspace-trust` trusts everything).
// So the page adds exactly one entry, for the sample folder, the way the Workspace Trust editor's
// "Trust" button stores it. A folder given with --folder gets no entry: it is untrusted as usual.
// The remote authority the workbench uses is `location.host`, so the page builds the URIs there
// (this also makes the link work through another host name when bound to another interface).
import crypto from "node:crypto";
import http from "node:http";
import { workbenchUrl } from "../browser";

/** Must match VS Code 1.100's WORKSPACE_TRUST_STORAGE_KEY and its web application storage. */
const TRUST_DB = "vscode-web-state-db-global";
const TRUST_STORE = "ItemTable";
const TRUST_KEY = "content.trust.model.key";
/** Stands for the browser's host:port in the workbench URL until the page knows it. */
const HOST_PLACEHOLDER = "gguf-studio-launch-host.invalid";

export interface LaunchPageOptions {
  folder: string;
  extensionDevelopmentPath: string;
  /** Grant workspace trust to `folder` (the sample workspace only). */
  trustFolder: boolean;
}

export interface LaunchPage {
  port: number;
  /** Path of the page on code-server's origin. */
  path: string;
  close(): Promise<void>;
}

function pageHtml(o: LaunchPageOptions, nonce: string): string {
  const template = workbenchUrl({ origin: `http://${HOST_PLACEHOLDER}`, workspace: o.folder, extensionDevelopmentPath: o.extensionDevelopmentPath });
  const config = {
    // The page sits at <base>/proxy/<port>/, the workbench at <base>/.
    target: template.slice(`http://${HOST_PLACEHOLDER}/`.length),
    placeholder: encodeURIComponent(HOST_PLACEHOLDER),
    trustPath: o.trustFolder ? o.folder : null,
    db: TRUST_DB, store: TRUST_STORE, key: TRUST_KEY,
  };
  const script = `
const c = ${JSON.stringify(config).replace(/</g, "\\u003c")};
function open(version) {
  return new Promise((resolve, reject) => {
    const r = version === undefined ? indexedDB.open(c.db) : indexedDB.open(c.db, version);
    r.onupgradeneeded = () => { if (!r.result.objectStoreNames.contains(c.store)) r.result.createObjectStore(c.store); };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
function done(req) { return new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); }); }
async function trust(folderPath) {
  let db = await open();
  if (!db.objectStoreNames.contains(c.store)) { const v = db.version + 1; db.close(); db = await open(v); }
  const store = db.transaction(c.store, "readwrite").objectStore(c.store);
  let info = { uriTrustInfo: [] };
  try { info = JSON.parse((await done(store.get(c.key))) || "{}"); } catch { /* a damaged entry is replaced */ }
  const uri = { scheme: "vscode-remote", authority: location.host, path: folderPath, query: "", fragment: "" };
  const same = (u) => u && u.scheme === uri.scheme && u.authority === uri.authority && u.path === uri.path;
  info.uriTrustInfo = (Array.isArray(info.uriTrustInfo) ? info.uriTrustInfo : []).filter((t) => !same(t.uri)).concat([{ uri, trusted: true }]);
  await done(store.put(JSON.stringify(info), c.key));
  db.close();
}
(async () => {
  if (c.trustPath) {
    try { await trust(c.trustPath); } catch (e) { console.error("GGUF Studio: could not pre-trust the sample folder", e); }
  }
  const target = c.target.split(c.placeholder).join(encodeURIComponent(location.host));
  location.replace(new URL("../../" + target, location.href).href);
})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'">
<title>GGUF Studio</title></head>
<body><p>Opening GGUF Studio…</p><script nonce="${nonce}">${script}</script></body></html>`;
}

export function startLaunchPage(o: LaunchPageOptions): Promise<LaunchPage> {
  const server = http.createServer((req, res) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || (req.url ?? "/").split("?")[0] !== "/") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const nonce = crypto.randomBytes(16).toString("base64");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(pageHtml(o, nonce));
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    // Only code-server's proxy (on this machine) needs to reach it.
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        path: `/proxy/${port}/`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            // Keep-alive connections from code-server's proxy would hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
