// The one HTML builder for every webview: strict CSP, a crypto nonce, assets only from dist/webview.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";

export function webviewAssetRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, "dist", "webview");
}

/** Options for createWebviewPanel / resolveCustomEditor: scripts on, resources limited to built assets. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [webviewAssetRoot(extensionUri)] };
}

export interface WebviewPage {
  /** Entry name under dist/webview: `<entry>.js` and, if it exists, `<entry>.css`. */
  readonly entry: string;
  readonly title: string;
  /** Allow `blob:`/`data:` images (chart PNG export). */
  readonly allowDataImages?: boolean;
}

export function buildWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(16).toString("base64");
  const root = webviewAssetRoot(extensionUri);
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, `${page.entry}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, `${page.entry}.css`));
  const img = page.allowDataImages ? `${webview.cspSource} data: blob:` : webview.cspSource;
  const csp = [
    "default-src 'none'",
    `img-src ${img}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}
