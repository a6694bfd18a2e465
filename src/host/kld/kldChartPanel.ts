// The KLD chart panel: reads the results store, sends points to the webview, and saves exports
// (PNG/SVG/CSV rendered by the webview) where the user chooses.
import path from "node:path";
import * as vscode from "vscode";
import { writeFileAtomically } from "../../core/atomicWrite";
import type { KldResultsFile } from "../../core/eval/resultsStore";
import { joinedChartPoints, kldChartPoint } from "../../core/eval/resultsJoin";
import { CHARTS_FROM_WEBVIEW_SCHEMA, type ChartMetric, type ChartPoint, type ChartsFromWebview, type ChartsToWebview, type ExportFormat } from "../../shared/chartsProtocol";
import type { StudioContext } from "../context";
import { buildWebviewHtml, webviewOptions } from "../webviewHtml";
import { kldStore } from "./kldFeature";
import { acceptWebviewMessage } from "../../shared/messageSchema";

/** Kept for callers of the KLD-only shape; the chart itself draws joinedChartPoints. */
export const chartPoint = kldChartPoint;

export class KldChartPanel implements vscode.Disposable {
  private static current: KldChartPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private nextRequest = 1;
  private readonly pending = new Map<number, (data: string) => void>();
  private selected: string | undefined;
  /** Sent with the next data message only: an explicit switch, not a setting that overrides the user's later choice. */
  private pendingMetric: ChartMetric | undefined;
  /** Until the webview says "ready", a posted message may arrive before its listener: keep the pending metric. */
  private webviewReady = false;
  /** Points last sent (tests compare them with the DOM). */
  lastPoints: readonly ChartPoint[] = [];

  static async show(ctx: StudioContext, resultsFile?: string, basePath?: string, metric?: ChartMetric): Promise<KldChartPanel> {
    if (!KldChartPanel.current) {
      const panel = vscode.window.createWebviewPanel("ggufStudio.kldChart", "KLD vs size", vscode.ViewColumn.Active, {
        ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true,
      });
      panel.webview.html = buildWebviewHtml(panel.webview, ctx.extension.extensionUri, { entry: "charts", title: "KLD chart", allowDataImages: true });
      KldChartPanel.current = new KldChartPanel(ctx, panel);
    }
    const c = KldChartPanel.current;
    if (basePath && !resultsFile) {
      resultsFile = (await kldStore(ctx).listBases()).find((b) => path.resolve(b.data.base.path) === path.resolve(basePath))?.file;
    }
    if (resultsFile) c.selected = resultsFile;
    if (metric) c.pendingMetric = metric;
    c.panel.reveal();
    await c.refresh();
    return c;
  }

  private constructor(private readonly ctx: StudioContext, readonly panel: vscode.WebviewPanel) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = acceptWebviewMessage(CHARTS_FROM_WEBVIEW_SCHEMA, raw, "KLD chart", (w) => ctx.log.warn(w));
        if (m) this.onMessage(m).catch((e) => ctx.log.error(String(e)));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  async refresh(): Promise<void> {
    const bases = await kldStore(this.ctx).listBases();
    if (!this.selected || !bases.some((b) => b.file === this.selected)) {
      this.selected = bases.sort((a, b) => latest(b.data) .localeCompare(latest(a.data)))[0]?.file;
    }
    const data = bases.find((b) => b.file === this.selected)?.data;
    this.lastPoints = data ? joinedChartPoints(data) : [];
    const metric = this.pendingMetric;
    if (this.webviewReady) this.pendingMetric = undefined;
    this.post({
      type: "data", selected: this.selected, points: this.lastPoints, ...(metric ? { metric } : {}),
      bases: bases.map((b) => ({ file: b.file, name: b.data.base.name, bytes: b.data.base.bytes })),
    });
  }

  private post(m: ChartsToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  /** Has the webview render an export and returns its content (PNG as base64). */
  requestExport(format: ExportFormat): Promise<string> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(requestId); reject(new Error(`chart export (${format}) timed out`)); }, 30_000);
      this.pending.set(requestId, (d) => { clearTimeout(timer); resolve(d); });
      this.post({ type: "export", requestId, format });
    });
  }

  /** Renders an export and writes it to `file` (temp name, then rename). */
  async exportTo(format: ExportFormat, file: string): Promise<string> {
    const data = await this.requestExport(format);
    await writeExport(format, data, file);
    return file;
  }

  private async onMessage(m: ChartsFromWebview): Promise<void> {
    switch (m.type) {
      case "ready":
        this.webviewReady = true;
        return this.refresh();
      case "selectBase":
        this.selected = m.file;
        return this.refresh();
      case "exported":
        this.pending.get(m.requestId)?.(m.data);
        this.pending.delete(m.requestId);
        return;
      case "exportRequested": {
        const stem = path.basename(this.selected ?? "kld", ".kld-results.json");
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(path.join(path.dirname(this.selected ?? this.ctx.storageDir), `${stem}.${m.format}`)),
          filters: { [m.format.toUpperCase()]: [m.format] },
        });
        if (!target) return;
        await writeExport(m.format, m.data, target.fsPath);
        void vscode.window.showInformationMessage(`Chart exported to ${target.fsPath}`);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  dispose(): void {
    if (KldChartPanel.current === this) KldChartPanel.current = undefined;
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

function latest(d: KldResultsFile): string {
  return [...d.results, ...(d.accuracy ?? []), ...(d.divergence ?? [])].map((r) => r.createdAt).sort().at(-1) ?? "";
}

async function writeExport(format: ExportFormat, data: string, file: string): Promise<void> {
  await writeFileAtomically(file, format === "png" ? Buffer.from(data, "base64") : data);
}
