// Diagnostics and quick fixes for chat templates. Linting is debounced per document and every
// new edit aborts the render in flight for that document, so only the latest text reports.
import * as vscode from "vscode";
import type { SpecialTokens } from "../../core/templates/conversationSuite";
import { applyEdits, nonOverlapping } from "../../core/templates/edits";
import type { EngineSet } from "../../core/templates/engines";
import { lintTemplate, verifyLintFixes } from "../../core/templates/linter";
import { readGgufTemplates } from "../../core/templates/sources";
import { ENGINE_LABELS, parseEngineId, type EngineId, type Severity, type TemplateFinding, type TemplateFix } from "../../core/templates/types";
import type { StudioContext } from "../context";
import { Disposable } from "../disposable";
import { GGUF_TEMPLATE_SCHEME, parseTemplateUri } from "./ggufTemplateFs";
import { isTemplateDocument, templateRegions, type TemplateRegion } from "./templateDocuments";

const DEBOUNCE_MS = 60;

interface DocumentLint {
  readonly version: number;
  /** Fix verification runs after the diagnostics are published; code actions wait for it. */
  readonly verified: Promise<void>;
  readonly entries: { readonly region: TemplateRegion; readonly finding: TemplateFinding; readonly diagnostic: vscode.Diagnostic }[];
}

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export class TemplateLinting extends Disposable implements vscode.CodeActionProvider {
  private readonly collection: vscode.DiagnosticCollection;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly results = new Map<string, DocumentLint>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly tokenCache = new Map<string, Promise<SpecialTokens | undefined>>();

  constructor(private readonly ctx: StudioContext, private readonly engines: EngineSet) {
    super();
    this.collection = this._register(vscode.languages.createDiagnosticCollection("gguf-studio-templates"));
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)));
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)));
    this._register(vscode.languages.registerCodeActionsProvider([{ scheme: "file" }, { scheme: "untitled" }, { scheme: GGUF_TEMPLATE_SCHEME }], this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
    ctx.onConfigChange((e) => {
      if (e.affectsConfiguration("ggufStudio.templates")) for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
    });
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => {
      for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
    }));
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  targets(): EngineId[] {
    // Untrusted workspaces get the JavaScript engine only: the native llama.cpp engine and the
    // minja binary are native code, and native code does not run there (see README, Workspace trust).
    if (!vscode.workspace.isTrusted) return ["hf-jinja"];
    return [...new Set(this.ctx.config.templateTargets.map(parseEngineId).filter((e): e is EngineId => e !== undefined))];
  }

  /** Resolves when the document's diagnostics reflect its current version (tests, commands). */
  whenLinted(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    if (this.results.get(key)?.version === doc.version && !this.timers.has(key) && !this.inFlight.has(key)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]));
  }

  findings(doc: vscode.TextDocument): TemplateFinding[] {
    return this.results.get(doc.uri.toString())?.entries.map((e) => e.finding) ?? [];
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!isTemplateDocument(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.inFlight.get(key)?.abort();
    this.timers.set(key, setTimeout(() => void this.lint(doc), delay));
  }

  private forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.inFlight.get(key)?.abort();
    this.results.delete(key);
    this.collection.delete(doc.uri);
  }

  private modelTokens(doc: vscode.TextDocument): Promise<SpecialTokens | undefined> {
    if (doc.uri.scheme !== GGUF_TEMPLATE_SCHEME) return Promise.resolve(undefined);
    const { ggufPath } = parseTemplateUri(doc.uri);
    let p = this.tokenCache.get(ggufPath);
    if (!p) {
      p = readGgufTemplates(ggufPath).then((t) => t.tokens, () => undefined);
      this.tokenCache.set(ggufPath, p);
    }
    return p;
  }

  private async lint(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    this.timers.delete(key);
    const controller = new AbortController();
    this.inFlight.set(key, controller);
    const version = doc.version;
    try {
      const tokens = await this.modelTokens(doc);
      const targets = this.targets();
      const entries: DocumentLint["entries"][number][] = [];
      const verifications: (() => Promise<void>)[] = [];
      for (const region of templateRegions(doc)) {
        const result = await lintTemplate(this.engines, region.template, { targets, tokens, tokensFromModel: tokens !== undefined, signal: controller.signal, verifyFixes: false });
        if (controller.signal.aborted || doc.version !== version) return;
        for (const finding of result.findings) entries.push({ region, finding, diagnostic: this.toDiagnostic(doc, region, finding) });
        verifications.push(() => verifyLintFixes(this.engines, region.template, result, { targets, signal: controller.signal }));
      }
      // Diagnostics first (keystroke latency), then the fixes' verification for the code actions.
      this.collection.set(doc.uri, entries.map((e) => e.diagnostic));
      const verified = (async () => {
        for (const v of verifications) await v();
      })().catch((e: unknown) => this.ctx.log.warn(`template fix verification failed: ${e instanceof Error ? e.message : String(e)}`));
      this.results.set(key, { version, entries, verified });
    } catch (e) {
      this.ctx.log.error(`template lint failed for ${doc.uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (this.inFlight.get(key) === controller) this.inFlight.delete(key);
      if (this.results.get(key)?.version === doc.version && !this.timers.has(key)) {
        for (const w of this.waiters.get(key) ?? []) w();
        this.waiters.delete(key);
      }
    }
  }

  private toDiagnostic(doc: vscode.TextDocument, region: TemplateRegion, f: TemplateFinding): vscode.Diagnostic {
    const r = region.toDocument(f.range);
    const range = new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end));
    const d = new vscode.Diagnostic(range, f.message, SEVERITY[f.severity]);
    d.code = f.ruleId;
    d.source = f.engine ? `GGUF Studio · ${ENGINE_LABELS[f.engine]}${f.ruleBased ? " (rule)" : ""}` : "GGUF Studio";
    return d;
  }

  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): Promise<vscode.CodeAction[]> {
    const lint = this.results.get(doc.uri.toString());
    if (!lint) return [];
    await lint.verified;
    const actions: vscode.CodeAction[] = [];
    const allSafe: { region: TemplateRegion; fix: TemplateFix; edits: readonly { start: number; end: number; newText: string }[] }[] = [];
    for (const { region, finding, diagnostic } of lint.entries) {
      for (const fix of finding.fixes ?? []) {
        if (fix.safe) allSafe.push({ region, fix, edits: fix.edits });
        if (!diagnostic.range.intersection(range) && !diagnostic.range.contains(range)) continue;
        const title = fix.safe ? `${fix.title} (verified: same output)` : `${fix.title} (unverified: ${fix.verdict ?? "not checked"})`;
        const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = fix.safe === true;
        action.edit = this.workspaceEdit(doc, region, [fix]);
        actions.push(action);
      }
      if (finding.diff && diagnostic.range.intersection(range)) {
        const show = new vscode.CodeAction(`Show render diff (${finding.engine} vs ${finding.diff.reference})`, vscode.CodeActionKind.QuickFix);
        show.diagnostics = [diagnostic];
        show.command = { command: "ggufStudio.showTemplateDiff", title: "Show Template Render Diff", arguments: [doc.uri, finding.ruleId, finding.engine] };
        actions.push(show);
      }
    }
    const regions = new Set(allSafe.map((a) => a.region));
    if (allSafe.length > 1 && regions.size === 1) {
      const [region] = regions;
      const fixAll = new vscode.CodeAction("Fix all verified template issues", vscode.CodeActionKind.QuickFix);
      fixAll.edit = this.workspaceEdit(doc, region, nonOverlapping(allSafe.map((a) => a.fix)));
      actions.push(fixAll);
    }
    return actions;
  }

  private workspaceEdit(doc: vscode.TextDocument, region: TemplateRegion, fixes: readonly TemplateFix[]): vscode.WorkspaceEdit {
    const edits = fixes.flatMap((f) => f.edits);
    const docEdits = region.editsToDocument(edits, (t) => applyEdits(t, edits));
    const we = new vscode.WorkspaceEdit();
    for (const e of docEdits) we.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
    return we;
  }

  override dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const c of this.inFlight.values()) c.abort();
    super.dispose();
  }
}
