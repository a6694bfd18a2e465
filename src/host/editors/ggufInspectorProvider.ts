// The GGUF inspector: a read-only custom editor, the default for *.gguf. The document parses the
// header(s) once; each editor is a webview that asks for pages. Custom editors come back by
// themselves after a window reload (VS Code reopens the document), and the webview restores its
// own state through getState/setState, so no serializer is needed.
import * as vscode from "vscode";
import type { StudioContext } from "../context";
import { buildWebviewHtml, webviewOptions } from "../webviewHtml";
import { GgufDocument } from "./ggufDocument";
import { InspectorSession } from "./inspectorSession";

export class GgufInspectorProvider implements vscode.CustomReadonlyEditorProvider<GgufDocument> {
  static readonly viewType = "ggufStudio.inspector";
  private static instance: GgufInspectorProvider | undefined;

  private readonly documents = new Set<GgufDocument>();
  private activeDocument: GgufDocument | undefined;

  private constructor(private readonly ctx: StudioContext) {}

  static register(ctx: StudioContext): GgufInspectorProvider {
    const provider = new GgufInspectorProvider(ctx);
    GgufInspectorProvider.instance = provider;
    ctx.register(
      vscode.window.registerCustomEditorProvider(GgufInspectorProvider.viewType, provider, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
    return provider;
  }

  static get current(): GgufInspectorProvider | undefined {
    return GgufInspectorProvider.instance;
  }

  /** The document of the focused inspector (or the last one focused while it is still open). */
  get active(): GgufDocument | undefined {
    return this.activeDocument;
  }

  get openDocuments(): readonly GgufDocument[] {
    return [...this.documents];
  }

  /** Opens `uri` in the inspector (any shard of a split set opens the whole model). */
  static async open(uri: vscode.Uri): Promise<void> {
    await vscode.commands.executeCommand("vscode.openWith", uri, GgufInspectorProvider.viewType);
  }

  openCustomDocument(uri: vscode.Uri): GgufDocument {
    const started = Date.now();
    const doc = GgufDocument.open(uri);
    this.documents.add(doc);
    doc.onDidDispose(() => {
      this.documents.delete(doc);
      if (this.activeDocument === doc) this.activeDocument = undefined;
    });
    void doc.whenLoaded().then(() => {
      const what = doc.loaded ? `${doc.loaded.model.tensors.length} tensors` : `error ${doc.error?.code}: ${doc.error?.message}`;
      this.ctx.log.info(`inspector: read ${uri.fsPath} in ${Date.now() - started} ms (${what})`);
    });
    return doc;
  }

  async resolveCustomEditor(doc: GgufDocument, panel: vscode.WebviewPanel): Promise<void> {
    const root = this.ctx.extension.extensionUri;
    panel.webview.options = webviewOptions(root);
    const name = doc.uri.path.split("/").pop() ?? "GGUF";
    panel.webview.html = buildWebviewHtml(panel.webview, root, { entry: "inspector", title: name });
    const session = new InspectorSession(doc, panel.webview, this.ctx);
    if (panel.active) this.activeDocument = doc;
    const viewState = panel.onDidChangeViewState(() => {
      if (panel.active) this.activeDocument = doc;
      if (panel.visible) void doc.checkFiles();
    });
    panel.onDidDispose(() => {
      viewState.dispose();
      session.dispose();
    });
  }
}
