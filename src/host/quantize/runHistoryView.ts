// The run history as a tree in the GGUF Studio sidebar, under the Models view: one item per run,
// its command lines as children (click one to copy it).
import path from "node:path";
import * as vscode from "vscode";
import { formatBytes } from "../../core/quant/quantizeJob";
import type { RunCommand, RunHistoryStore, RunRecord } from "../../core/quant/runHistory";

export const RUN_HISTORY_VIEW_ID = "ggufStudio.runHistory";

type HistoryNode = { kind: "run"; run: RunRecord } | { kind: "command"; run: RunRecord; command: RunCommand } | { kind: "fact"; label: string; value: string };

const STATUS_ICON: Record<RunRecord["status"], string> = { succeeded: "pass", failed: "error", cancelled: "circle-slash" };

export class RunHistoryTree implements vscode.TreeDataProvider<HistoryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<HistoryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: RunHistoryStore) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: HistoryNode): Promise<HistoryNode[]> {
    if (!node) return (await this.store.list()).map((run) => ({ kind: "run", run }));
    if (node.kind !== "run") return [];
    const r = node.run;
    const facts: HistoryNode[] = [
      { kind: "fact", label: "source", value: r.source },
      ...(r.imatrix ? [{ kind: "fact" as const, label: "imatrix", value: r.imatrix }] : []),
      ...(r.calibration ? [{ kind: "fact" as const, label: "calibration", value: r.calibration }] : []),
      ...(r.toolVersion ? [{ kind: "fact" as const, label: "llama.cpp", value: r.toolVersion }] : []),
      ...(r.sha256 ? [{ kind: "fact" as const, label: "sha256", value: r.sha256 }] : []),
      ...(r.error ? [{ kind: "fact" as const, label: "error", value: r.error }] : []),
    ];
    return [...r.commands.map((command) => ({ kind: "command" as const, run: r, command })), ...facts];
  }

  getTreeItem(node: HistoryNode): vscode.TreeItem {
    if (node.kind === "run") {
      const r = node.run;
      const item = new vscode.TreeItem(path.basename(r.output), vscode.TreeItemCollapsibleState.Collapsed);
      const size = r.outputBytes !== undefined ? ` · ${formatBytes(r.outputBytes)}` : "";
      item.description = `${r.type}${size} · ${(r.durationMs / 1000).toFixed(1)} s · ${new Date(r.finishedAt).toLocaleString()}`;
      item.iconPath = new vscode.ThemeIcon(STATUS_ICON[r.status]);
      item.tooltip = new vscode.MarkdownString(`**${r.status}** ${r.type}\n\n${r.source} → ${r.output}\n\n${r.commands.map((c) => "`" + c.commandLine + "`").join("\n\n")}`);
      item.contextValue = `quantizeRun.${r.status}`;
      if (r.status === "succeeded") item.resourceUri = vscode.Uri.file(r.output);
      return item;
    }
    if (node.kind === "command") {
      const item = new vscode.TreeItem(node.command.tool, vscode.TreeItemCollapsibleState.None);
      item.description = node.command.commandLine;
      item.tooltip = node.command.commandLine;
      item.iconPath = new vscode.ThemeIcon("terminal");
      item.command = { command: "ggufStudio.showRunHistory", title: "Copy command line", arguments: [{ copy: node.command.commandLine }] };
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.value;
    item.tooltip = node.value;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
