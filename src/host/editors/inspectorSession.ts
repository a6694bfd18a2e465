// One inspector webview bound to one GgufDocument: streams the model to it (preview, model, tensor
// chunks), answers its requests and pushes file-state changes. The switch over FromInspector is exhaustive.
import * as vscode from "vscode";
import { formatMetadataValue, tensorColumns } from "../../core/models/inspectorData";
import { modelMessage, previewMessage, streamTensorChunks } from "../../core/models/inspectorStream";
import { FROM_INSPECTOR_SCHEMA, type FromInspector, type ToInspector } from "../../shared/inspectorProtocol";
import type { StudioContext } from "../context";
import { Disposable } from "../disposable";
import { reportError } from "../errors";
import type { GgufDocument } from "./ggufDocument";
import { exportModelReport } from "./inspectorExport";
import { acceptWebviewMessage } from "../../shared/messageSchema";
import { saveTypeMapExport } from "../typeMapExport";
import { evalSummaryFor } from "../../core/eval/resultsJoin";
import { kldStore } from "../kld/kldFeature";

/** Largest tensor page answered at once, whatever the webview asks for. */
const MAX_TENSOR_PAGE = 50_000;

export class InspectorSession extends Disposable {
  /** Counts "ready" messages: a webview recreated after being hidden starts a new stream. */
  private readyCount = 0;
  private closed = false;

  constructor(
    private readonly doc: GgufDocument,
    private readonly webview: vscode.Webview,
    private readonly ctx: StudioContext,
  ) {
    super();
    this._register(webview.onDidReceiveMessage((raw: unknown) => {
      const m = acceptWebviewMessage(FROM_INSPECTOR_SCHEMA, raw, "inspector", (w) => ctx.log.warn(w));
      if (m) void this.handle(m);
    }));
    this._register(doc.onDidChangeFileState((state) => this.post({ type: "fileState", state })));
    this._register(doc.onDidReload(() => void this.sendModel().catch((e: unknown) => reportError("GGUF inspector", e, this.ctx.log))));
  }

  private post(message: ToInspector): void {
    void this.webview.postMessage(message);
  }

  override dispose(): void {
    this.closed = true;
    super.dispose();
  }

  /** After "ready": the preview while the header is still being parsed, then the model and its rows. */
  private async open(): Promise<void> {
    const ready = ++this.readyCount;
    const generation = this.doc.generation;
    if (!this.doc.settled) {
      const preview = await this.doc.whenPreview();
      if (preview && !this.doc.settled && generation === this.doc.generation && ready === this.readyCount) this.post(previewMessage(preview, generation));
    }
    await this.doc.whenLoaded();
    if (generation !== this.doc.generation || ready !== this.readyCount) return; // a reload or a newer webview sends its own
    await this.sendModel();
    await this.doc.checkFiles();
    await this.sendEvalResults();
  }

  /** The Overview's "Evaluation" section: this file's latest results against its base (store read only). */
  private async sendEvalResults(): Promise<void> {
    const bases = await kldStore(this.ctx).listBases();
    if (this.closed) return;
    this.post({ type: "evalResults", summary: evalSummaryFor(bases.map((b) => b.data), this.doc.uri.fsPath) });
  }

  private async sendModel(): Promise<void> {
    const loaded = this.doc.loaded;
    const generation = this.doc.generation;
    const ready = this.readyCount;
    if (loaded) this.post(modelMessage(loaded, generation));
    else this.post({ type: "error", error: this.doc.error ?? { code: "unexpected", message: "the file was not read", path: this.doc.uri.fsPath } });
    if (this.doc.fileState !== "present") this.post({ type: "fileState", state: this.doc.fileState });
    if (!loaded) return;
    // A webview disposed between two chunks rejects the post: that ends this stream, quietly.
    let delivered = true;
    const send = async (m: ToInspector): Promise<void> => {
      delivered = await Promise.resolve(this.webview.postMessage(m)).catch(() => false);
    };
    const current = (): boolean => delivered && !this.closed && generation === this.doc.generation && ready === this.readyCount;
    await streamTensorChunks(loaded, generation, send, current);
  }

  private async handle(m: FromInspector): Promise<void> {
    try {
      switch (m.type) {
        case "ready":
          return await this.open();
        case "requestTensors": {
          await this.doc.whenLoaded();
          const loaded = this.doc.loaded;
          if (!loaded) return this.post({ type: "requestFailed", requestId: m.requestId, message: "the model is not loaded" });
          const columns = tensorColumns(loaded, m.offset, Math.min(m.count, MAX_TENSOR_PAGE));
          return this.post({ type: "tensorPage", requestId: m.requestId, offset: m.offset, total: loaded.model.tensors.length, columns });
        }
        case "requestArrayPage": {
          await this.doc.whenLoaded();
          const arrays = this.doc.arrays;
          if (!arrays) return this.post({ type: "requestFailed", requestId: m.requestId, message: "the model is not loaded" });
          try {
            const page = await arrays.page(m.key, m.offset, m.count, m.query);
            return this.post({ type: "arrayPage", requestId: m.requestId, key: m.key, query: m.query, ...page });
          } catch (e) {
            return this.post({ type: "requestFailed", requestId: m.requestId, message: e instanceof Error ? e.message : String(e) });
          }
        }
        case "copyText":
          await vscode.env.clipboard.writeText(m.text);
          return this.post({ type: "notice", message: `Copied ${m.what}.` });
        case "copyMetadataValue":
          return await this.copyMetadataValue(m.key);
        case "editChatTemplate":
          await vscode.commands.executeCommand("ggufStudio.editChatTemplate", this.doc.uri, m.key);
          return;
        case "export": {
          const loaded = this.doc.loaded;
          if (!loaded) return;
          const written = await exportModelReport(loaded, m.table, m.format);
          if (written) this.post({ type: "notice", message: `Exported ${m.table} to ${written}` });
          return;
        }
        case "exportTypeMap": {
          const written = await saveTypeMapExport(m.format, m.data, this.doc.uri.fsPath.replace(/\.gguf$/i, `.type-map.${m.format}`));
          if (written) this.post({ type: "notice", message: `Exported the tensor-type map to ${written}` });
          return;
        }
        case "extractRecipe":
          await vscode.commands.executeCommand("ggufStudio.extractRecipe", this.doc.uri);
          return;
        case "reload":
          await this.doc.reload();
          return;
        default: {
          const unknown: never = m;
          this.ctx.log.warn(`inspector: unknown message ${JSON.stringify(unknown)}`);
        }
      }
    } catch (e) {
      await reportError("GGUF inspector", e, this.ctx.log);
    }
  }

  private async copyMetadataValue(key: string): Promise<void> {
    const loaded = this.doc.loaded;
    const entry = loaded?.model.metadata.get(key);
    if (!loaded || !entry) return;
    let text: string;
    const v = entry.value;
    if (typeof v === "object" && v.kind === "lazy-array" && this.doc.arrays) {
      // A vocabulary copies as a JSON array of its strings.
      const all = await this.doc.arrays.allValues(key);
      text = JSON.stringify(all);
    } else text = formatMetadataValue(v);
    await vscode.env.clipboard.writeText(text);
    this.post({ type: "notice", message: `Copied ${key} (${text.length.toLocaleString("en-US")} characters).` });
  }
}
