// Restricted mode: what GGUF Studio does not do in an untrusted workspace besides running native
// code (see nativeTools.ts): write, replace or delete model files. package.json's
// capabilities.untrustedWorkspaces.description says the same; keep them in step.
import * as vscode from "vscode";

export const UNTRUSTED_MODEL_WRITE_MESSAGE =
  "GGUF Studio writes, replaces or deletes model files only in a trusted workspace. Trust this workspace to save templates into a GGUF or delete models.";

export class UntrustedModelWriteError extends Error {
  constructor() {
    super(UNTRUSTED_MODEL_WRITE_MESSAGE);
    this.name = "UntrustedModelWriteError";
  }
}

/** Second line behind the command gate in extension.ts, for callers that reach a writer another way. */
export function assertTrustedToWriteModels(): void {
  if (!vscode.workspace.isTrusted) throw new UntrustedModelWriteError();
}
