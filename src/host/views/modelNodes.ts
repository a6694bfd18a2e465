// Elements of the Models tree. Context menus hand these to commands; `modelUriFromArgument`
// turns any of them (or a Uri, or nothing: the focused inspector) into the model's file.
import * as vscode from "vscode";
import type { ModelGroup, ModelHeaderInfo } from "../../core/models/modelCatalog";
import type { ModelSource, UnreadableFolderList } from "./modelsTreeTypes";

export class SourceNode {
  readonly kind = "source";
  constructor(readonly source: ModelSource) {}
}

export class ModelNode {
  readonly kind = "model";
  constructor(
    readonly source: ModelSource,
    readonly group: ModelGroup,
    readonly info: ModelHeaderInfo,
  ) {}
  /** The first shard (or the file): what Inspect, Quantize… and the others act on. */
  get resourceUri(): vscode.Uri {
    return vscode.Uri.file(this.group.id);
  }
  /** Every shard present on disk. */
  get shardUris(): vscode.Uri[] {
    return this.group.shards.map((s) => vscode.Uri.file(s.path));
  }
}

export class ShardNode {
  readonly kind = "shard";
  constructor(
    readonly model: ModelNode,
    readonly path: string,
    readonly index: number,
    readonly size: number | undefined,
  ) {}
  get resourceUri(): vscode.Uri {
    return vscode.Uri.file(this.path);
  }
}

export class NoticeNode {
  readonly kind = "notice";
  /** Runs when the notice is clicked (e.g. delete leftover temp files). */
  command: vscode.Command | undefined;
  constructor(
    readonly label: string,
    readonly tooltip: string,
    readonly unreadable?: UnreadableFolderList,
  ) {}
}

export type ModelsNode = SourceNode | ModelNode | ShardNode | NoticeNode;

/**
 * The model file a command should act on: a Uri, a Models-tree element, a path string, the first
 * of a multi-selection, else the model in the focused GGUF inspector (via `activeModel`).
 */
export function modelUriFromArgument(arg: unknown, activeModel?: () => vscode.Uri | undefined): vscode.Uri | undefined {
  if (Array.isArray(arg)) return modelUriFromArgument(arg[0], activeModel);
  if (arg instanceof vscode.Uri) return arg;
  if (arg instanceof ModelNode) return arg.resourceUri;
  if (arg instanceof ShardNode) return arg.model.resourceUri;
  if (typeof arg === "string" && arg.length > 0) return vscode.Uri.file(arg);
  if (arg && typeof arg === "object" && "resourceUri" in arg && (arg as { resourceUri: unknown }).resourceUri instanceof vscode.Uri) {
    return (arg as { resourceUri: vscode.Uri }).resourceUri;
  }
  return activeModel?.();
}
