// Saves a tensor-type map export (from the inspector, compare view or recipe editor) where the user says.
import path from "node:path";
import * as vscode from "vscode";
import { writeFileAtomically } from "../core/atomicWrite";

/** Asks where to save (default beside the model) and writes PNG (base64 in) or SVG; returns the path. */
export async function saveTypeMapExport(format: "png" | "svg", data: string, defaultPath: string): Promise<string | undefined> {
  const target = await vscode.window.showSaveDialog({
    title: `Export tensor-type map (${format.toUpperCase()})`, defaultUri: vscode.Uri.file(defaultPath),
    filters: format === "png" ? { "PNG image": ["png"] } : { "SVG image": ["svg"] },
  });
  if (!target) return undefined;
  await writeFileAtomically(target.fsPath, format === "png" ? Buffer.from(data, "base64") : data);
  return path.normalize(target.fsPath);
}
