// Adapts the host's NativeTools (workspace trust, log channel, CancellationToken) to the core's
// ToolRunFn, so core jobs run every process through the one runner with the host's rules.
import type * as vscode from "vscode";
import type { ToolRunFn } from "../../core/eval/kldJob";
import type { StudioContext } from "../context";

export function hostToolRun(ctx: StudioContext, token?: vscode.CancellationToken): ToolRunFn {
  return (o) => ctx.tools.runExecutable(o.executable, o.args, {
    token, cwd: o.cwd, outputs: o.outputs, parseProgress: o.parseProgress, onProgress: o.onProgress, signal: o.signal, onStdin: o.onStdin,
    onLine: o.onLine ? (line, stream) => o.onLine?.(line, stream) : undefined,
  });
}

/** An AbortSignal that follows a CancellationToken (core loops check it between runs). */
export function tokenSignal(token: vscode.CancellationToken): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  if (token.isCancellationRequested) abort.abort();
  const sub = token.onCancellationRequested(() => abort.abort());
  return { signal: abort.signal, dispose: () => sub.dispose() };
}
