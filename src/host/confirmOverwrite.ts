// The extension's side of "never replace a file without asking": the CLI needs --overwrite, the
// extension a modal confirmation. Save dialogs ask on their own; paths that arrive another way
// (command arguments, names derived from another file) come through here.
import { promises as fsp } from "node:fs";
import nodePath from "node:path";
import * as vscode from "vscode";

/** The paths among `paths` that exist now. */
export async function existingPaths(paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(paths.map((p) => fsp.lstat(p).then(() => true, () => false)));
  return paths.filter((_, i) => found[i]);
}

/**
 * True when nothing would be replaced, or the user confirmed replacing it in a modal; then the
 * write may pass `overwrite: true`. False when the user declined (nothing is written).
 */
export async function confirmOverwrite(paths: readonly string[], action = "Replace"): Promise<boolean> {
  const existing = await existingPaths(paths);
  if (existing.length === 0) return true;
  const names = existing.map((p) => nodePath.basename(p)).join(", ");
  const choice = await vscode.window.showWarningMessage(
    `${names} already exist${existing.length === 1 ? "s" : ""}. ${action} ${existing.length === 1 ? "it" : "them"}?`,
    { modal: true, detail: existing.join("\n") },
    action,
  );
  return choice === action;
}
