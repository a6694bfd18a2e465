// The Models view: GGUF files from workspace folders, ggufStudio.modelFolders and known caches,
// split shards grouped. Each source is scanned once; file watchers then update single files.
import { promises as fsp } from "node:fs";
import os from "node:os";
import nodePath from "node:path";
import * as vscode from "vscode";
import { isGgufFileName, scanForGguf, type ScannedFile, type UnreadableFolder } from "../../core/models/folderScan";
import { formatBytes, SourceCatalog } from "../../core/models/modelCatalog";
import { existingSources, huggingFaceRepoOf, type ModelSource } from "../../core/models/modelSources";
import type { StudioContext } from "../context";
import { Disposable } from "../disposable";
import { modelSourceCandidates } from "./modelSourceCandidates";
import { ModelNode, NoticeNode, ShardNode, SourceNode, type ModelsNode } from "./modelNodes";
import type { ModelsSnapshot } from "./modelsTreeTypes";

interface SourceState {
  readonly node: SourceNode;
  readonly catalog: SourceCatalog;
  unreadable: UnreadableFolder[];
  staleTemps: ScannedFile[];
  scan: Promise<void> | undefined;
  watcher: vscode.FileSystemWatcher | undefined;
}

const SOURCE_ICONS: Record<ModelSource["kind"], string> = { workspace: "root-folder", folder: "folder", huggingFace: "cloud-download", lmStudio: "library", llamaCpp: "database" };

export class ModelsTreeProvider extends Disposable implements vscode.TreeDataProvider<ModelsNode> {
  private readonly changed = this._register(new vscode.EventEmitter<ModelsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private states = new Map<string, SourceState>();
  private sourcesReady: Promise<void> | undefined;

  constructor(private readonly ctx: StudioContext) {
    super();
    ctx.onConfigChange((e) => {
      if (["modelFolders", "scan"].some((k) => e.affectsConfiguration(`ggufStudio.${k}`))) this.reloadSources();
    });
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.reloadSources()));
  }

  /** Recomputes the list of sources; sources still listed keep their catalog and watcher. */
  private reloadSources(): void {
    this.sourcesReady = undefined;
    this.changed.fire(undefined);
  }

  private async ensureSources(): Promise<SourceState[]> {
    this.sourcesReady ??= this.computeSources();
    await this.sourcesReady;
    return [...this.states.values()];
  }

  private async computeSources(): Promise<void> {
    const candidates = modelSourceCandidates(this.ctx);
    const present = await existingSources(candidates);
    const next = new Map<string, SourceState>();
    for (const s of present) {
      const old = this.states.get(s.id);
      next.set(s.id, old ?? { node: new SourceNode(s), catalog: new SourceCatalog(), unreadable: [], staleTemps: [], scan: undefined, watcher: undefined });
    }
    for (const [id, old] of this.states) if (!next.has(id)) old.watcher?.dispose();
    this.states = next;
  }

  /** Full rescan of every source (the Refresh button); returns the tree as data. */
  async refresh(): Promise<ModelsSnapshot> {
    this.sourcesReady = undefined;
    const states = await this.ensureSources();
    for (const s of states) s.scan = undefined;
    this.changed.fire(undefined);
    return this.snapshot();
  }

  /** Every stale temp file the last scans found, across sources. */
  staleTemps(): string[] {
    return [...this.states.values()].flatMap((st) => st.staleTemps.map((t) => t.path));
  }

  async snapshot(): Promise<ModelsSnapshot> {
    const states = await this.ensureSources();
    const sources = [];
    for (const st of states) {
      await this.ensureScanned(st);
      const models = [];
      for (const g of st.catalog.groups()) {
        const info = await st.catalog.info(g);
        models.push({
          id: g.id, label: g.label, isSplit: g.isSplit, shards: g.shards.map((f) => f.path), missingShards: g.missingShards,
          totalSize: g.totalSize, architecture: info.architecture, fileType: info.fileType, error: info.error,
        });
      }
      const s = st.node.source;
      sources.push({ id: s.id, kind: s.kind, label: s.label, root: s.root, unreadable: st.unreadable, staleTemps: st.staleTemps.map((t) => t.path), models });
    }
    return { sources };
  }

  private ensureScanned(st: SourceState): Promise<void> {
    st.scan ??= this.scan(st);
    return st.scan;
  }

  private async scan(st: SourceState): Promise<void> {
    const root = st.node.source.root;
    const started = Date.now();
    const result = await scanForGguf(root);
    st.catalog.replaceAll(result.files);
    st.unreadable = result.unreadable;
    st.staleTemps = result.staleTemps;
    for (const u of result.unreadable) this.ctx.log.warn(`Models: skipped unreadable folder ${u.path} (${u.message})`);
    this.ctx.log.info(`Models: ${result.files.length} GGUF file(s) in ${root} (${Date.now() - started} ms)`);
    if (!st.watcher) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), "**/*.gguf"));
      w.onDidCreate((uri) => void this.fileChanged(st, uri));
      w.onDidChange((uri) => void this.fileChanged(st, uri));
      w.onDidDelete((uri) => this.fileDeleted(st, uri));
      st.watcher = this._register(w);
    }
  }

  /** One file appeared or changed: update that entry only. */
  private async fileChanged(st: SourceState, uri: vscode.Uri): Promise<void> {
    if (uri.scheme !== "file" || !isGgufFileName(uri.fsPath)) return;
    try {
      const stat = await fsp.stat(uri.fsPath);
      if (!stat.isFile()) return;
      st.catalog.upsert({ path: uri.fsPath, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      st.catalog.remove(uri.fsPath);
    }
    this.changed.fire(st.node);
  }

  private fileDeleted(st: SourceState, uri: vscode.Uri): void {
    // A deleted folder reports only itself: drop every file below it.
    const removed = st.catalog.remove(uri.fsPath) ?? st.catalog.removeUnder(uri.fsPath);
    if (removed) this.changed.fire(st.node);
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case "source": {
        const s = node.source;
        const item = new vscode.TreeItem(s.label, s.kind === "workspace" ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = s.id;
        item.description = s.kind === "workspace" ? undefined : s.root.replace(os.homedir(), "~");
        item.tooltip = s.root;
        item.iconPath = new vscode.ThemeIcon(SOURCE_ICONS[s.kind]);
        item.contextValue = "ggufSource";
        return item;
      }
      case "model":
        return modelItem(node);
      case "shard": {
        const item = new vscode.TreeItem(nodePath.basename(node.path), vscode.TreeItemCollapsibleState.None);
        item.id = `shard:${node.path}`;
        item.description = node.size === undefined ? "missing" : formatBytes(node.size);
        item.tooltip = node.path;
        item.resourceUri = node.resourceUri;
        item.iconPath = new vscode.ThemeIcon(node.size === undefined ? "warning" : "file-binary");
        item.contextValue = node.size === undefined ? "ggufShardMissing" : "ggufShard";
        if (node.size !== undefined) item.command = { command: "ggufStudio.inspectModel", title: "Inspect", arguments: [node.resourceUri] };
        return item;
      }
      case "notice": {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon(node.command ? "trash" : "warning");
        item.contextValue = "ggufNotice";
        item.command = node.command;
        return item;
      }
    }
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (!node) return (await this.ensureSources()).map((s) => s.node);
    if (node.kind === "source") {
      const st = this.states.get(node.source.id);
      if (!st) return [];
      await this.ensureScanned(st);
      const groups = st.catalog.groups();
      const infos = await mapLimited(groups, 2, (g) => st.catalog.info(g));
      const children: ModelsNode[] = groups.map((g, i) => new ModelNode(node.source, g, infos[i]));
      if (st.unreadable.length > 0) {
        const list = st.unreadable.map((u) => `${u.path}: ${u.message}`).join("\n");
        children.push(new NoticeNode(`${st.unreadable.length} folder(s) skipped: unreadable`, list, st.unreadable));
      }
      if (st.staleTemps.length > 0) {
        const bytes = st.staleTemps.reduce((a, t) => a + t.size, 0);
        const notice = new NoticeNode(`${st.staleTemps.length} leftover temp file(s) of interrupted runs (${formatBytes(bytes)}): delete…`, st.staleTemps.map((t) => t.path).join("\n"));
        notice.command = { command: "ggufStudio.sweepTempFiles", title: "Delete leftover temp files", arguments: [st.staleTemps.map((t) => t.path)] };
        children.push(notice);
      }
      if (groups.length === 0 && st.unreadable.length === 0) children.push(new NoticeNode("No GGUF files", `No *.gguf under ${node.source.root}`));
      return children;
    }
    if (node.kind === "model" && node.group.isSplit) {
      const present = new Map(node.group.shards.map((s) => [s.path, s.size]));
      const all = [...node.group.shards.map((s) => s.path), ...node.group.missingShards].sort();
      return all.map((p, i) => new ShardNode(node, p, i, present.get(p)));
    }
    return [];
  }

  getParent(node: ModelsNode): ModelsNode | undefined {
    if (node.kind === "model") return this.states.get(node.source.id)?.node;
    if (node.kind === "shard") return node.model;
    return undefined;
  }
}

function modelItem(node: ModelNode): vscode.TreeItem {
  const g = node.group;
  const info = node.info;
  const item = new vscode.TreeItem(g.label, g.isSplit ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = `model:${g.id}`;
  const repo = huggingFaceRepoOf(g.id);
  const parts = [formatBytes(g.totalSize), info.architecture, info.fileType, repo].filter((p): p is string => !!p);
  if (g.missingShards.length > 0) parts.push(`missing ${g.missingShards.length} shard(s)`);
  if (info.error) parts.push("unreadable header");
  item.description = parts.join(" · ");
  const tip = new vscode.MarkdownString(undefined, true);
  tip.appendMarkdown(`**${g.label}**\n\n`);
  if (info.name) tip.appendText(`${info.name}\n\n`);
  tip.appendText([...g.shards.map((s) => s.path), ...g.missingShards.map((p) => `${p} (missing)`)].join("\n"));
  if (info.error) tip.appendText(`\n\n${info.error}`);
  item.tooltip = tip;
  item.resourceUri = node.resourceUri;
  item.iconPath = new vscode.ThemeIcon(info.error || g.missingShards.length > 0 ? "warning" : g.isSplit ? "files" : "file-binary");
  item.contextValue = g.isSplit ? "ggufModel ggufSplit" : "ggufModel";
  // A split set expands on click (its shards are below); its inline button and menu still inspect it.
  if (!g.isSplit) item.command = { command: "ggufStudio.inspectModel", title: "Inspect", arguments: [node.resourceUri] };
  return item;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
