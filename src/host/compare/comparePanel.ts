// "Compare Models…": two GGUFs (from the Models view with two selected, the explorer, or picked)
// diffed from their headers, shown with both tensor-type maps, the differences outlined.
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel, type GgufModel } from "../../core/gguf";
import { diffModels } from "../../core/models/modelDiff";
import { typeMapData } from "../../core/models/typeMapData";
import { FROM_COMPARE_SCHEMA, type CompareSideMap, type FromCompare, type ToCompare } from "../../shared/compareProtocol";
import { acceptWebviewMessage } from "../../shared/messageSchema";
import type { StudioContext } from "../context";
import { reportError } from "../errors";
import { saveTypeMapExport } from "../typeMapExport";
import { modelUriFromArgument } from "../views/modelNodes";
import { buildWebviewHtml, webviewOptions } from "../webviewHtml";

/** Tensor indices of `model` that differ from `other` in type or shape, or that `other` lacks. */
function differing(model: GgufModel, other: GgufModel): number[] {
  const byName = new Map(other.tensors.map((t) => [t.name, t]));
  const out: number[] = [];
  model.tensors.forEach((t, i) => {
    const o = byName.get(t.name);
    if (!o || o.ggmlType !== t.ggmlType || o.shape.length !== t.shape.length || o.shape.some((v, k) => v !== t.shape[k])) out.push(i);
  });
  return out;
}

function sideMap(model: GgufModel, other: GgufModel, alignable: boolean): CompareSideMap {
  return { label: path.basename(model.shards[0].path), map: typeMapData(model.tensors), differing: alignable ? differing(model, other) : [] };
}

/** Both paths: from (clicked, selected[]) of a view, an explorer multi-selection, {a, b}, or two picks. */
async function comparePaths(args: unknown[]): Promise<[string, string] | undefined> {
  const [first, second] = args;
  if (first && typeof first === "object" && "a" in first && "b" in first) {
    const { a, b } = first as { a: string; b: string };
    return [a, b];
  }
  const many = Array.isArray(second) ? second : [];
  const uris = many.map((x) => modelUriFromArgument(x, () => undefined)).filter((u): u is vscode.Uri => u !== undefined);
  if (uris.length >= 2) return [uris[0].fsPath, uris[1].fsPath];
  const one = modelUriFromArgument(first, () => undefined);
  const picked = await vscode.window.showOpenDialog({
    title: one ? `Compare ${path.basename(one.fsPath)} with…` : "Compare two models (select two GGUF files)",
    canSelectMany: !one, filters: { GGUF: ["gguf"] }, openLabel: "Compare",
  });
  if (!picked) return undefined;
  if (one && picked[0]) return [one.fsPath, picked[0].fsPath];
  if (picked.length >= 2) return [picked[0].fsPath, picked[1].fsPath];
  if (picked.length === 1) {
    const other = await vscode.window.showOpenDialog({ title: `Compare ${path.basename(picked[0].fsPath)} with…`, filters: { GGUF: ["gguf"] }, openLabel: "Compare" });
    return other?.[0] ? [picked[0].fsPath, other[0].fsPath] : undefined;
  }
  return undefined;
}

export class ComparePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private data: ToCompare | undefined;

  private constructor(private readonly ctx: StudioContext, readonly panel: vscode.WebviewPanel, private readonly paths: [string, string]) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = acceptWebviewMessage(FROM_COMPARE_SCHEMA, raw, "compare", (w) => ctx.log.warn(w));
        if (m) void this.onMessage(m);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  static async open(ctx: StudioContext, a: string, b: string): Promise<ComparePanel> {
    const [ma, mb] = await Promise.all([readGgufModel(a), readGgufModel(b)]);
    const diff = await diffModels(ma, mb);
    const panel = vscode.window.createWebviewPanel("ggufStudio.compare", `${path.basename(a)} ↔ ${path.basename(b)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true,
    });
    const view = new ComparePanel(ctx, panel, [a, b]);
    view.data = { type: "data", diff, a: sideMap(ma, mb, diff.alignable), b: sideMap(mb, ma, diff.alignable) };
    panel.webview.html = buildWebviewHtml(panel.webview, ctx.extension.extensionUri, { entry: "compare", title: "Compare models" });
    return view;
  }

  private async onMessage(m: FromCompare): Promise<void> {
    try {
      switch (m.type) {
        case "ready":
          this.ready = true;
          if (this.data) void this.panel.webview.postMessage(this.data);
          return;
        case "exportTypeMap": {
          const source = this.paths[m.side === "a" ? 0 : 1];
          const written = await saveTypeMapExport(m.format, m.data, source.replace(/\.gguf$/i, `.type-map.${m.format}`));
          if (written) void vscode.window.showInformationMessage(`Tensor-type map exported to ${written}`);
          return;
        }
        default: {
          const unknown: never = m;
          this.ctx.log.warn(`compare: unknown message ${JSON.stringify(unknown)}`);
        }
      }
    } catch (e) {
      await reportError("Compare models", e, this.ctx.log);
    }
  }

  get isReady(): boolean {
    return this.ready;
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

export async function compareModels(ctx: StudioContext, ...args: unknown[]): Promise<ComparePanel | undefined> {
  try {
    const paths = await comparePaths(args);
    if (!paths) return undefined;
    return await ComparePanel.open(ctx, paths[0], paths[1]);
  } catch (e) {
    await reportError("Compare models", e, ctx.log);
    return undefined;
  }
}
