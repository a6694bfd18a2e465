import * as vscode from "vscode";
import { isGgufError } from "../core/gguf";
import { ToolCancelledError } from "../core/native/toolRunner";
import { boundedMessage } from "../shared/displayText";

export function isCancellation(e: unknown): boolean {
  return (
    e instanceof ToolCancelledError ||
    e instanceof vscode.CancellationError ||
    (isGgufError(e) && e.code === "cancelled") ||
    (e instanceof Error && e.name === "Canceled")
  );
}

/** Shows an error to the user; cancellation is silent (the user asked for it). Returns the message shown. */
export async function reportError(context: string, e: unknown, log?: vscode.LogOutputChannel): Promise<string | undefined> {
  if (isCancellation(e)) {
    log?.info(`${context}: cancelled`);
    return undefined;
  }
  // Errors quote file content (names, tool output): escaped and capped before anyone sees them.
  const message = boundedMessage(`${context}: ${e instanceof Error ? e.message : String(e)}`);
  log?.error(message);
  void vscode.window.showErrorMessage(message);
  return message;
}
