// Commands of the Models view and the inspector: Inspect, Reveal, Copy path, Delete, Refresh, Export.
import { promises as fsp } from "node:fs";
import nodePath from "node:path";
import * as vscode from "vscode";
import { parseSplitName, splitShardPath } from "../../core/gguf";
import { isProcessAlive, tempFileOwner } from "../../core/tempFiles";
import { loadInspectorModel } from "../../core/models/inspectorData";
import type { ExportFormat, ExportTable } from "../../shared/inspectorProtocol";
import type { CommandTable, StudioContext } from "../context";
import { GgufInspectorProvider } from "../editors/ggufInspectorProvider";
import { exportModelReport } from "../editors/inspectorExport";
import { reportError } from "../errors";
import { ModelNode, modelUriFromArgument } from "./modelNodes";
import type { ModelsTreeProvider } from "./modelsTree";
import { assertTrustedToWriteModels } from "../trust";

function activeInspectorUri(): vscode.Uri | undefined {
  return GgufInspectorProvider.current?.active?.uri;
}

function requireModelUri(arg: unknown, what: string): vscode.Uri {
  const uri = modelUriFromArgument(arg, activeInspectorUri);
  if (!uri) throw new Error(`${what}: select a model in the Models view or open one in the GGUF inspector first`);
  return uri;
}

/** Every shard on disk of the model `uri` belongs to (just the file when it is not split). */
export async function shardsOnDisk(uri: vscode.Uri): Promise<string[]> {
  const split = parseSplitName(uri.fsPath);
  if (!split || split.count < 2) return [uri.fsPath];
  const paths = Array.from({ length: split.count }, (_, i) => splitShardPath(split.prefix, i, split.count));
  const present = await Promise.all(paths.map((p) => fsp.access(p).then(() => true, () => false)));
  return paths.filter((_, i) => present[i]);
}

async function inspectModel(arg: unknown): Promise<void> {
  let uri = modelUriFromArgument(arg, () => {
    const editorUri = vscode.window.activeTextEditor?.document.uri;
    return editorUri && editorUri.path.toLowerCase().endsWith(".gguf") ? editorUri : undefined;
  });
  if (!uri) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { GGUF: ["gguf"] }, openLabel: "Inspect" });
    uri = picked?.[0];
  }
  if (uri) await GgufInspectorProvider.open(uri);
}

async function revealModel(arg: unknown): Promise<void> {
  const uri = requireModelUri(arg, "Reveal");
  try {
    await vscode.commands.executeCommand("revealFileInOS", uri);
  } catch {
    // Browser-based hosts have no OS file manager: reveal in the Explorer instead.
    await vscode.commands.executeCommand("revealInExplorer", uri);
  }
}

async function copyModelPath(arg: unknown): Promise<string> {
  const uri = requireModelUri(arg, "Copy path");
  await vscode.env.clipboard.writeText(uri.fsPath);
  return uri.fsPath;
}

interface ConfirmItem extends vscode.QuickPickItem {
  readonly confirm?: boolean;
}

/**
 * A confirmation that lists every file it will remove. A QuickPick rather than a modal dialog: it
 * can list many shards readably, and it works where modal dialogs are refused (extension tests).
 */
async function confirmRemoval(title: string, action: string, files: readonly string[]): Promise<boolean> {
  const items: ConfirmItem[] = [
    { label: `$(trash) ${action}`, description: `${files.length} file(s)`, confirm: true },
    { label: "Cancel" },
    { label: "Files", kind: vscode.QuickPickItemKind.Separator },
    ...files.map((p) => ({ label: `$(file-binary) ${nodePath.basename(p)}`, description: nodePath.dirname(p) })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: `${action}: ${files.map((p) => nodePath.basename(p)).join(", ")}`, ignoreFocusOut: true });
  return picked?.confirm === true;
}

/** Asks, naming every shard, then moves them to the trash (or deletes them when there is no trash). Returns the paths removed. */
async function deleteModel(arg: unknown): Promise<string[]> {
  assertTrustedToWriteModels();
  const uri = requireModelUri(arg, "Delete");
  const shards = arg instanceof ModelNode ? arg.group.shards.map((s) => s.path) : await shardsOnDisk(uri);
  const what = shards.length > 1 ? `${shards.length} shards of ${nodePath.basename(uri.fsPath)}` : nodePath.basename(uri.fsPath);
  if (!(await confirmRemoval(`Delete ${what}?`, "Move to Trash", shards))) return [];
  const removed: string[] = [];
  let permanently = false;
  for (const p of shards) {
    try {
      await vscode.workspace.fs.delete(vscode.Uri.file(p), { useTrash: !permanently, recursive: false });
    } catch (e) {
      if (permanently) throw e;
      // No trash on this system (or in this host): ask once more before deleting for good.
      const left = shards.filter((s) => !removed.includes(s));
      const why = e instanceof Error ? e.message : String(e);
      if (!(await confirmRemoval(`The trash is not available here (${why}). Delete ${what} permanently?`, "Delete Permanently", left))) return removed;
      permanently = true;
      await vscode.workspace.fs.delete(vscode.Uri.file(p), { useTrash: false, recursive: false });
    }
    removed.push(p);
  }
  void vscode.window.showInformationMessage(`${permanently ? "Deleted" : "Moved to trash"}: ${what}`);
  return removed;
}

/**
 * Deletes temp files of interrupted runs (the Models view found them; their process is gone),
 * after a modal confirmation. Re-checks each one: a file whose process is alive again is kept.
 */
async function sweepTempFiles(tree: ModelsTreeProvider | undefined, arg: unknown): Promise<string[]> {
  if (!vscode.workspace.isTrusted) throw new Error("deleting files needs a trusted workspace");
  const given = Array.isArray(arg) ? arg.filter((p): p is string => typeof p === "string") : tree?.staleTemps() ?? [];
  const stale = given.filter((p) => {
    const pid = tempFileOwner(nodePath.basename(p));
    return pid !== undefined && !isProcessAlive(pid);
  });
  if (stale.length === 0) {
    void vscode.window.showInformationMessage("No leftover temp files of interrupted GGUF Studio runs.");
    return [];
  }
  const choice = await vscode.window.showWarningMessage(
    `Delete ${stale.length} leftover temp file(s) of interrupted GGUF Studio runs?`,
    { modal: true, detail: stale.join("\n") },
    "Delete",
  );
  if (choice !== "Delete") return [];
  const removed: string[] = [];
  for (const p of stale) if (await fsp.rm(p, { force: true }).then(() => true, () => false)) removed.push(p);
  await tree?.refresh();
  return removed;
}

export interface ExportSummaryOptions {
  readonly table?: ExportTable;
  readonly format?: ExportFormat;
  /** Where to write; a save dialog asks when absent. */
  readonly target?: vscode.Uri;
}

async function exportSummary(arg: unknown, options: ExportSummaryOptions = {}): Promise<string | undefined> {
  const uri = requireModelUri(arg, "Export summary");
  const doc = GgufInspectorProvider.current?.openDocuments.find((d) => d.uri.toString() === uri.toString());
  const loaded = doc?.loaded ?? (await loadInspectorModel(uri.fsPath));
  let format = options.format;
  if (!format) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: "Markdown", format: "markdown" as const },
        { label: "JSON", format: "json" as const },
        { label: "CSV", format: "csv" as const },
      ],
      { title: `Export summary of ${nodePath.basename(uri.fsPath)}` },
    );
    format = pick?.format;
  }
  if (!format) return undefined;
  return exportModelReport(loaded, options.table ?? "summary", format, options.target);
}

/** Wraps a handler so failures reach the user (and the log) instead of vanishing. */
function guarded<A extends unknown[], R>(what: string, fn: (ctx: StudioContext, ...args: A) => Promise<R>) {
  return async (ctx: StudioContext, ...args: A): Promise<R | undefined> => {
    try {
      return await fn(ctx, ...args);
    } catch (e) {
      await reportError(what, e, ctx.log);
      return undefined;
    }
  };
}

export function modelCommands(tree: () => ModelsTreeProvider | undefined): CommandTable {
  return {
    "ggufStudio.inspectModel": guarded("Inspect model", (_ctx, arg: unknown) => inspectModel(arg)),
    "ggufStudio.refreshModels": guarded("Refresh models", async () => tree()?.refresh()),
    "ggufStudio.revealModel": guarded("Reveal model", (_ctx, arg: unknown) => revealModel(arg)),
    "ggufStudio.copyModelPath": guarded("Copy model path", (_ctx, arg: unknown) => copyModelPath(arg)),
    "ggufStudio.deleteModel": guarded("Delete model", (_ctx, arg: unknown) => deleteModel(arg)),
    "ggufStudio.sweepTempFiles": guarded("Delete leftover temp files", (_ctx, arg: unknown) => sweepTempFiles(tree(), arg)),
    "ggufStudio.exportSummary": guarded("Export summary", (_ctx, arg: unknown, options?: unknown) => exportSummary(arg, (options ?? {}) as ExportSummaryOptions)),
  };
}
