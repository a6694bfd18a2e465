// The chat-template preview: the active template rendered for one conversation of the built-in
// suite by every engine side by side, with token counts from the GGUF's vocabulary (vocab-only
// load) and the model's special tokens highlighted. Re-renders as the document changes.
import * as path from "node:path";
import * as vscode from "vscode";
import { buildConversationSuite, DEFAULT_SPECIAL_TOKENS, type SpecialTokens, type SuiteConversation } from "../../core/templates/conversationSuite";
import { EngineSet } from "../../core/templates/engines";
import { readGgufTemplates } from "../../core/templates/sources";
import { ENGINE_IDS, ENGINE_LABELS, type EngineId, type RenderOutcome } from "../../core/templates/types";
import { openModelVocab, type ModelVocab } from "../../core/quant/calibration";
import { TEMPLATE_PREVIEW_FROM_WEBVIEW_SCHEMA, type PreviewColumn, type PreviewState, type TemplatePreviewFromWebview, type TemplatePreviewToWebview } from "../../shared/templatePreviewProtocol";
import type { StudioContext } from "../context";
import { reportError } from "../errors";
import { buildWebviewHtml, webviewOptions } from "../webviewHtml";
import { GGUF_TEMPLATE_SCHEME, parseTemplateUri } from "./ggufTemplateFs";
import { isTemplateDocument, templateRegions } from "./templateDocuments";
import { acceptWebviewMessage } from "../../shared/messageSchema";

const DEBOUNCE_MS = 200;
/** `<|...|>`-style added tokens (ChatML, Llama 3, Phi...). */
const ADDED_TOKEN = /<\|[^<>|\s]{1,64}\|>/g;

/** Special-token candidates in rendered texts: the GGUF's BOS/EOS/EOT plus `<|...|>` tokens, longest first. */
export function specialTokenCandidates(tokens: SpecialTokens, texts: readonly string[]): string[] {
  const found = new Set<string>([tokens.bos, tokens.eos, tokens.eot ?? ""].filter((t) => t.length > 0 && texts.some((x) => x.includes(t))));
  for (const t of texts) for (const m of t.matchAll(ADDED_TOKEN)) found.add(m[0]);
  return [...found].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

interface TemplateSource {
  readonly template: string;
  readonly ggufPath?: string;
}

export class TemplatePreviewPanel implements vscode.Disposable {
  private static current: TemplatePreviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly engines: EngineSet;
  private vocab: { path: string; vocab: Promise<ModelVocab | undefined> } | undefined;
  private tokens: { path: string | undefined; tokens: Promise<SpecialTokens> } | undefined;
  private conversation = "plain";
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  private renderDone: Promise<void> = Promise.resolve();
  /** The state last sent to the webview (tests compare it with the DOM). */
  lastState: PreviewState | undefined;

  static async show(ctx: StudioContext, doc: vscode.TextDocument): Promise<TemplatePreviewPanel> {
    if (!TemplatePreviewPanel.current) {
      const panel = vscode.window.createWebviewPanel("ggufStudio.templatePreview", "Chat Template Preview", vscode.ViewColumn.Beside, {
        ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true,
      });
      panel.webview.html = buildWebviewHtml(panel.webview, ctx.extension.extensionUri, { entry: "templatePreview", title: "Chat Template Preview" });
      TemplatePreviewPanel.current = new TemplatePreviewPanel(ctx, panel);
    }
    const c = TemplatePreviewPanel.current;
    c.document = doc;
    c.panel.title = `Preview: ${path.basename(doc.uri.path)}`;
    c.panel.reveal(vscode.ViewColumn.Beside, true);
    await c.rerender();
    return c;
  }

  private document: vscode.TextDocument | undefined;

  private constructor(private readonly ctx: StudioContext, readonly panel: vscode.WebviewPanel) {
    this.engines = new EngineSet({ root: ctx.extensionRoot, allowPython: () => vscode.workspace.isTrusted });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = acceptWebviewMessage(TEMPLATE_PREVIEW_FROM_WEBVIEW_SCHEMA, raw, "template preview", (w) => ctx.log.warn(w));
        if (m) this.onMessage(m);
      }),
      panel.onDidDispose(() => this.dispose()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.document) this.schedule();
      }),
    );
  }

  /** Resolves when the render started last (and any debounced one) has been sent. */
  async whenRendered(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 50));
    await this.renderDone;
  }

  private onMessage(m: TemplatePreviewFromWebview): void {
    switch (m.type) {
      case "ready":
        if (this.lastState) this.post({ type: "state", state: this.lastState });
        return;
      case "selectConversation":
        this.conversation = m.name;
        void this.rerender();
        return;
    }
  }

  private post(m: TemplatePreviewToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.rerender();
    }, DEBOUNCE_MS);
  }

  rerender(): Promise<void> {
    this.inFlight?.abort();
    const abort = new AbortController();
    this.inFlight = abort;
    this.renderDone = this.render(abort.signal).catch(async (e: unknown) => {
      await reportError("Chat template preview failed", e, this.ctx.log);
    });
    return this.renderDone;
  }

  private source(doc: vscode.TextDocument): TemplateSource {
    const template = templateRegions(doc)[0]?.template ?? "";
    return doc.uri.scheme === GGUF_TEMPLATE_SCHEME ? { template, ggufPath: parseTemplateUri(doc.uri).ggufPath } : { template };
  }

  private specialTokens(ggufPath: string | undefined): Promise<SpecialTokens> {
    if (this.tokens && this.tokens.path === ggufPath) return this.tokens.tokens;
    const tokens = ggufPath ? readGgufTemplates(ggufPath).then((g) => g.tokens, () => DEFAULT_SPECIAL_TOKENS) : Promise.resolve(DEFAULT_SPECIAL_TOKENS);
    this.tokens = { path: ggufPath, tokens };
    return tokens;
  }

  private modelVocab(ggufPath: string): Promise<ModelVocab | undefined> {
    if (this.vocab && this.vocab.path === ggufPath) return this.vocab.vocab;
    void this.vocab?.vocab.then((v) => v?.dispose());
    const vocab = openModelVocab(ggufPath).catch((e: unknown) => {
      this.ctx.log.warn(`preview: no vocabulary from ${ggufPath}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    });
    this.vocab = { path: ggufPath, vocab };
    return vocab;
  }

  /** Native code (llama.cpp, minja, node-llama-cpp) does not run in untrusted workspaces. */
  private enginesToRun(): EngineId[] {
    return vscode.workspace.isTrusted ? [...ENGINE_IDS] : ["hf-jinja"];
  }

  private async render(signal: AbortSignal): Promise<void> {
    const doc = this.document;
    if (!doc) return;
    this.post({ type: "rendering" });
    const { template, ggufPath } = this.source(doc);
    const tokens = await this.specialTokens(ggufPath);
    const suite = buildConversationSuite(tokens);
    const chosen: SuiteConversation = suite.find((c) => c.name === this.conversation) ?? suite[0];
    this.conversation = chosen.name;
    const run = new Set(this.enginesToRun());
    const outcomes = await Promise.all(
      ENGINE_IDS.map(async (engine): Promise<RenderOutcome> =>
        run.has(engine)
          ? ((await this.engines.render(engine, template, [chosen.context], signal))[0] ?? { ok: false, stage: "crash", error: "no outcome" })
          : { ok: false, stage: "unavailable", error: "native engines do not run in untrusted workspaces" },
      ),
    );
    const vocab = ggufPath && vscode.workspace.isTrusted ? await this.modelVocab(ggufPath) : undefined;
    if (signal.aborted) return;
    const reference = this.engines.reference;
    const referenceOutcome = outcomes[ENGINE_IDS.indexOf(reference)];
    const referenceText = referenceOutcome?.ok ? referenceOutcome.output : undefined;
    const columns: PreviewColumn[] = ENGINE_IDS.map((engine, i) => {
      const o = outcomes[i];
      const text = o.ok ? o.output : o.error;
      return {
        engine,
        label: ENGINE_LABELS[engine],
        ok: o.ok,
        text,
        ...(o.ok ? {} : { stage: o.stage }),
        ...(o.ok && vocab ? { tokenCount: vocab.countTokens(o.output) } : {}),
        charCount: o.ok ? o.output.length : 0,
        isReference: engine === reference,
        differsFromReference: o.ok && referenceText !== undefined && o.output !== referenceText,
      };
    });
    const rendered = outcomes.flatMap((o) => (o.ok ? [o.output] : []));
    // A candidate counts as special when the vocabulary has it as one token (when there is a vocabulary).
    const candidates = specialTokenCandidates(tokens, rendered);
    const specialTokens = candidates.filter((t) => !vocab || vocab.countTokens(t) === 1);
    this.lastState = {
      title: path.basename(doc.uri.path),
      conversations: suite.map((c) => c.name),
      conversation: chosen.name,
      reference,
      vocabulary: vocab && ggufPath ? { source: path.basename(ggufPath) } : { missing: ggufPath ? "no vocabulary (it could not be loaded)" : "no vocabulary (the template is not from a GGUF)" },
      specialTokens,
      notSpecialTokens: candidates.filter((t) => !specialTokens.includes(t)),
      columns,
    };
    this.post({ type: "state", state: this.lastState });
  }

  dispose(): void {
    if (TemplatePreviewPanel.current === this) TemplatePreviewPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.inFlight?.abort();
    while (this.disposables.length) this.disposables.pop()?.dispose();
    this.engines.dispose();
    void this.vocab?.vocab.then((v) => v?.dispose());
    this.panel.dispose();
  }
}

/** `ggufStudio.previewTemplate [uri]`: previews the given (or active) chat-template document. */
export async function previewTemplate(ctx: StudioContext, arg: unknown): Promise<TemplatePreviewPanel | undefined> {
  const doc = arg instanceof vscode.Uri ? await vscode.workspace.openTextDocument(arg) : vscode.window.activeTextEditor?.document;
  if (!doc || !isTemplateDocument(doc)) {
    void vscode.window.showInformationMessage("Open a chat template (.jinja, tokenizer_config.json or a GGUF's template) to preview it.");
    return undefined;
  }
  return TemplatePreviewPanel.show(ctx, doc);
}
