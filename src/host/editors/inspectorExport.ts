// Writes an inspector export (summary or table as JSON/Markdown/CSV) where the user chooses.
import nodePath from "node:path";
import * as vscode from "vscode";
import { writeFileAtomically } from "../../core/atomicWrite";
import type { LoadedModel } from "../../core/models/inspectorData";
import { EXPORT_EXTENSIONS, renderExport } from "../../core/models/modelReport";
import type { ExportFormat, ExportTable } from "../../shared/inspectorProtocol";

const FILTER_NAMES: Readonly<Record<ExportFormat, string>> = { json: "JSON", markdown: "Markdown", csv: "CSV" };

export function defaultExportName(loaded: LoadedModel, table: ExportTable, format: ExportFormat): string {
  const base = loaded.view.overview.fileName.replace(/(-\d{5}-of-\d{5})?\.gguf$/i, "");
  return `${base}-${table}.${EXPORT_EXTENSIONS[format]}`;
}

/**
 * Asks where to save (unless `target` is given) and writes the export. Returns the path written,
 * or undefined when the user cancelled the dialog.
 */
export async function exportModelReport(loaded: LoadedModel, table: ExportTable, format: ExportFormat, target?: vscode.Uri): Promise<string | undefined> {
  let uri = target;
  if (!uri) {
    const dir = nodePath.dirname(loaded.view.overview.path);
    uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(nodePath.join(dir, defaultExportName(loaded, table, format))),
      filters: { [FILTER_NAMES[format]]: [EXPORT_EXTENSIONS[format]] },
      saveLabel: "Export",
      title: `Export ${table} as ${FILTER_NAMES[format]}`,
    });
    if (!uri) return undefined;
  }
  const text = renderExport(loaded, table, format);
  if (uri.scheme === "file") await writeFileAtomically(uri.fsPath, text);
  else await vscode.workspace.fs.writeFile(uri, Buffer.from(text, "utf8"));
  return uri.scheme === "file" ? uri.fsPath : uri.toString();
}
