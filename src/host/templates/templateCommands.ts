// Commands: open a GGUF's chat template for editing (a ChatML starter when it has none), save an
// edited template into a new GGUF or into the original (replaced, with a backup),
// and show an engine's rendered output against the reference engine's in a diff editor.
import * as path from "node:path";
import * as vscode from "vscode";
import { GgufValueType, writeGgufWithMetadata } from "../../core/gguf/index";
import { confirmOverwrite, existingPaths } from "../confirmOverwrite";
import { GGUF_TEMPLATE_KEY, readGgufTemplates } from "../../core/templates/sources";
import { ENGINE_LABELS, parseEngineId } from "../../core/templates/types";
import type { StudioContext } from "../context";
import { reportError } from "../errors";
import { GGUF_TEMPLATE_SCHEME, parseTemplateUri, templateUri } from "./ggufTemplateFs";
import { nextBackupPath, replaceTemplateKeepingBackup, type ReplaceResult } from "./ggufReplace";
import { TEMPLATE_LANGUAGE_ID } from "./templateDocuments";
import type { TemplateLinting } from "./templateLinting";
import { assertTrustedToWriteModels } from "../trust";

export const RENDER_SCHEME = "gguf-template-render";

/** Read-only documents holding rendered prompts for the diff view. */
export class RenderedOutputProvider implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  set(uri: vscode.Uri, text: string): void {
    this.contents.set(uri.toString(), text);
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }
}

function asPath(arg: unknown): string | undefined {
  if (typeof arg === "string") return arg;
  if (arg instanceof vscode.Uri) return arg.scheme === GGUF_TEMPLATE_SCHEME ? parseTemplateUri(arg).ggufPath : arg.fsPath;
  if (arg && typeof arg === "object" && "fsPath" in arg && typeof (arg as { fsPath: unknown }).fsPath === "string") return (arg as { fsPath: string }).fsPath;
  return undefined;
}

async function pickGguf(title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { "GGUF models": ["gguf"] } });
  return picked?.[0]?.fsPath;
}

/** What a GGUF without a chat template starts from: a ChatML template, to adapt to the model's tokens. */
export const STARTER_TEMPLATE = `{#- This GGUF has no chat template. A ChatML starter: adapt it to the model's special tokens, then "Save Chat Template into GGUF…". -#}
{%- for message in messages %}<|im_start|>{{ message['role'] }}
{{ message['content'] }}<|im_end|>
{% endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif -%}
`;

export async function editChatTemplate(_ctx: StudioContext, arg?: unknown, key?: unknown): Promise<vscode.Uri | undefined> {
  const gguf = asPath(arg) ?? (await pickGguf("Edit the chat template of…"));
  if (!gguf) return undefined;
  const uri = templateUri(gguf, typeof key === "string" ? key : GGUF_TEMPLATE_KEY);
  let doc = await vscode.workspace.openTextDocument(uri);
  if (doc.languageId !== TEMPLATE_LANGUAGE_ID) doc = await vscode.languages.setTextDocumentLanguage(doc, TEMPLATE_LANGUAGE_ID);
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  if (doc.getText().length === 0) {
    // The edit leaves the document dirty: nothing is written until the user saves it into a GGUF.
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), STARTER_TEMPLATE));
    void vscode.window.showInformationMessage(`${path.basename(gguf)} has no chat template: adapt the ChatML starter, then “Save Chat Template into GGUF…”.`);
  }
  return uri;
}

/** Default output name: "<model>.fixed.gguf" next to the source. */
export function defaultFixedPath(ggufPath: string): string {
  return path.join(path.dirname(ggufPath), `${path.basename(ggufPath, ".gguf")}.fixed.gguf`);
}

/** QuickPick titles of the save flow (tests answer them by title). */
export const SAVE_TITLES = { target: "Save the chat template into…", confirmReplace: "Replace the original GGUF?" } as const;

type SaveTarget = "new" | "replace";

/** Asks where to save: a new GGUF (default) or the original, replaced after a confirmation. Modal-free. */
async function pickSaveTarget(source: string): Promise<SaveTarget | undefined> {
  const backup = await nextBackupPath(source);
  const items: (vscode.QuickPickItem & { target: SaveTarget })[] = [
    { target: "new", label: "Save as new GGUF…", description: path.basename(defaultFixedPath(source)), detail: "The original model is not touched." },
    { target: "replace", label: "Replace the original (keeps a backup)…", description: path.basename(source), detail: `The original is renamed to ${path.basename(backup)} once the new file is written and verified.` },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: SAVE_TITLES.target, ignoreFocusOut: true });
  if (picked?.target !== "replace") return picked?.target;
  const confirm = await vscode.window.showQuickPick(
    [
      { label: `Replace ${path.basename(source)}`, detail: `Backup: ${path.basename(backup)}`, replace: true },
      { label: "Cancel", replace: false },
    ],
    { title: SAVE_TITLES.confirmReplace, ignoreFocusOut: true },
  );
  return confirm?.replace ? "replace" : undefined;
}

/** Runs a GGUF write with a cancellable progress notification. */
function withWriteProgress(title: string, write: (signal: AbortSignal, onProgress: (f: number) => void) => Promise<unknown>): Thenable<void> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      let last = 0;
      await write(abort.signal, (f) => {
        progress.report({ increment: (f - last) * 100 });
        last = f;
      });
    } finally {
      sub.dispose();
    }
  });
}

/**
 * Saves the active (or given) template document into a GGUF: a new file (`outputArg`, or chosen),
 * or the original replaced with a backup. Returns the path written.
 */
export async function saveTemplateToGguf(ctx: StudioContext, arg?: unknown, outputArg?: unknown): Promise<string | undefined> {
  try {
    assertTrustedToWriteModels();
    const doc =
      arg instanceof vscode.Uri && arg.scheme === GGUF_TEMPLATE_SCHEME
        ? await vscode.workspace.openTextDocument(arg)
        : vscode.window.activeTextEditor?.document;
    if (!doc) throw new Error("open a chat template first (GGUF Studio: Edit Chat Template)");
    const fromGguf = doc.uri.scheme === GGUF_TEMPLATE_SCHEME ? parseTemplateUri(doc.uri) : undefined;
    const source = fromGguf?.ggufPath ?? asPath(arg !== doc.uri ? arg : undefined) ?? (await pickGguf("Save this template into a copy of…"));
    if (!source) return undefined;
    const key = fromGguf?.key ?? GGUF_TEMPLATE_KEY;
    const template = doc.getText();
    let output = typeof outputArg === "string" ? outputArg : undefined;
    // A path given as an argument was never confirmed by a save dialog: ask before replacing it.
    if (output && !(await confirmOverwrite([output]))) return undefined;
    if (!output) {
      const target = await pickSaveTarget(source);
      if (!target) return undefined;
      if (target === "replace") {
        let result: ReplaceResult | undefined;
        await withWriteProgress(`Replacing ${path.basename(source)}`, async (signal, onProgress) => {
          result = await replaceTemplateKeepingBackup({ source, key, template, signal, onProgress });
        });
        if (!result) return undefined;
        ctx.log.info(`chat template saved into ${result.output}; original kept as ${result.backup}`);
        void vscode.window.showInformationMessage(`Replaced the chat template of ${path.basename(source)} (tensor data verified identical); the original is ${path.basename(result.backup)}.`);
        return result.output;
      }
      const picked = await vscode.window.showSaveDialog({ title: "Save the model with this chat template as…", defaultUri: vscode.Uri.file(defaultFixedPath(source)), filters: { "GGUF models": ["gguf"] } });
      output = picked?.fsPath;
    }
    if (!output) return undefined;
    if (path.resolve(output) === path.resolve(source)) throw new Error("the output must be a new file: choose “Replace the original (keeps a backup)…” to replace it");
    const outPath = output;
    const replacing = (await existingPaths([outPath])).length > 0;
    await withWriteProgress(`Writing ${path.basename(outPath)}`, (signal, onProgress) =>
      // Confirmed above or by the save dialog; a file that appears only now is still refused.
      writeGgufWithMetadata({ input: source, output: outPath, edits: { set: [{ key, type: GgufValueType.STRING, value: template }] }, signal, onProgress, overwrite: replacing }),
    );
    const written = await readGgufTemplates(outPath);
    if (written.templates.get(key) !== template) throw new Error(`${outPath} was written but its ${key} does not read back identical`);
    ctx.log.info(`chat template saved into ${outPath}`);
    void vscode.window.showInformationMessage(`Saved the chat template into ${path.basename(outPath)} (tensor data verified identical).`);
    return outPath;
  } catch (e) {
    await reportError("Save chat template", e, ctx.log);
    return undefined;
  }
}

export async function showTemplateDiff(linting: TemplateLinting, renders: RenderedOutputProvider, arg?: unknown, _ruleId?: unknown, engineArg?: unknown): Promise<boolean> {
  const doc = arg instanceof vscode.Uri ? await vscode.workspace.openTextDocument(arg) : vscode.window.activeTextEditor?.document;
  if (!doc) return false;
  await linting.whenLinted(doc);
  const engine = typeof engineArg === "string" ? parseEngineId(engineArg) : undefined;
  const finding = linting.findings(doc).find((f) => f.diff && (engine === undefined || f.engine === engine));
  if (!finding?.diff || !finding.engine) {
    void vscode.window.showInformationMessage("Every target engine renders this template like the reference engine on the whole suite.");
    return false;
  }
  const stamp = Date.now();
  const left = vscode.Uri.from({ scheme: RENDER_SCHEME, path: `/${finding.diff.reference}/${finding.conversation ?? "render"}.txt`, query: String(stamp) });
  const right = vscode.Uri.from({ scheme: RENDER_SCHEME, path: `/${finding.engine}/${finding.conversation ?? "render"}.txt`, query: String(stamp) });
  renders.set(left, finding.diff.expected);
  renders.set(right, finding.diff.actual);
  await vscode.commands.executeCommand("vscode.diff", left, right, `“${finding.conversation}”: ${ENGINE_LABELS[finding.diff.reference]} ↔ ${ENGINE_LABELS[finding.engine]}`);
  return true;
}
