// One opened GGUF model: the header of every shard parsed once, shared by all editors showing it.
// Watches its files so a deletion or rewrite shows in the editor instead of failing later.
import { promises as fsp } from "node:fs";
import nodePath from "node:path";
import * as vscode from "vscode";
import { MetadataArrayBrowser } from "../../core/models/arrayBrowser";
import { inspectorErrorOf, loadInspectorModel, type LoadedModel } from "../../core/models/inspectorData";
import { loadInspectorPreview, PARSE_SLICE_MS, type InspectorPreview } from "../../core/models/inspectorStream";
import type { FileState, InspectorErrorInfo } from "../../shared/inspectorProtocol";
import { Disposable } from "../disposable";

export class GgufDocument extends Disposable implements vscode.CustomDocument {
  private _loaded: LoadedModel | undefined;
  private _error: InspectorErrorInfo | undefined;
  private _arrays: MetadataArrayBrowser | undefined;
  private _fileState: FileState = "present";
  private watchers: vscode.Disposable[] = [];
  /** size:mtime of each file as read, so late watcher events about that same content do not flag a change. */
  private readSignatures = new Map<string, string | undefined>();
  private readonly stateEmitter = this._register(new vscode.EventEmitter<FileState>());
  private readonly reloadEmitter = this._register(new vscode.EventEmitter<void>());
  private readonly disposeEmitter = this._register(new vscode.EventEmitter<void>());
  /** Fires when a watched file is deleted, recreated or rewritten. */
  readonly onDidChangeFileState = this.stateEmitter.event;
  /** Fires after reload() parsed the file(s) again. */
  readonly onDidReload = this.reloadEmitter.event;
  readonly onDidDispose = this.disposeEmitter.event;

  private constructor(readonly uri: vscode.Uri) {
    super();
  }

  private loading: Promise<void> = Promise.resolve();
  private previewing: Promise<InspectorPreview | undefined> = Promise.resolve(undefined);
  private _generation = 0;
  private _settled = false;

  /**
   * Starts reading and returns at once, so VS Code creates the webview while the header is parsed
   * (the two overlap; a 60k-tensor header takes a few hundred ms, parsed in slices of a few ms so
   * the extension host keeps serving the webview). Await `whenLoaded()` before use.
   */
  static open(uri: vscode.Uri): GgufDocument {
    const doc = new GgufDocument(uri);
    doc.loading = doc.load().catch((e: unknown) => doc.failed(e));
    return doc;
  }

  /** Resolves once the current read (or reload) finished; never rejects (errors land in `error`). */
  whenLoaded(): Promise<void> {
    return this.loading;
  }

  /**
   * The metadata and first tensor rows of the current read, ready long before a big header is
   * parsed; undefined when that read failed (the full read reports why) or the file is not local.
   */
  whenPreview(): Promise<InspectorPreview | undefined> {
    return this.previewing;
  }

  /** Counts reads: each reload starts a new generation, so stale streams can stop. */
  get generation(): number {
    return this._generation;
  }

  /** True once the current read finished (loaded or failed). */
  get settled(): boolean {
    return this._settled;
  }

  get loaded(): LoadedModel | undefined {
    return this._loaded;
  }
  get error(): InspectorErrorInfo | undefined {
    return this._error;
  }
  get arrays(): MetadataArrayBrowser | undefined {
    return this._arrays;
  }
  get fileState(): FileState {
    return this._fileState;
  }
  /** Every file the model is made of (all shards), or just the opened file when it failed to parse. */
  get paths(): readonly string[] {
    return this._loaded?.view.overview.shardPaths ?? [this.uri.fsPath];
  }

  private async load(): Promise<void> {
    this._generation++;
    this._settled = false;
    const openedBefore = this.uri.scheme === "file" ? await fileSignature(this.uri.fsPath) : undefined;
    this.previewing = this.uri.scheme === "file" ? loadInspectorPreview(this.uri.fsPath).catch(() => undefined) : Promise.resolve(undefined);
    // The preview first: it is what the webview shows while the rest is parsed.
    await this.previewing;
    await this._arrays?.close();
    this._arrays = undefined;
    if (this.uri.scheme !== "file") {
      this._loaded = undefined;
      this._error = { code: "io", message: `only local files can be inspected (this one is ${this.uri.scheme}:)`, path: this.uri.toString() };
    } else {
      try {
        this._loaded = await loadInspectorModel(this.uri.fsPath, { yieldEveryMs: PARSE_SLICE_MS });
        this._error = undefined;
        this._arrays = new MetadataArrayBrowser(this._loaded.model.shards[0]?.path ?? this.uri.fsPath, this._loaded.model.metadata);
      } catch (e) {
        this._loaded = undefined;
        this._error = inspectorErrorOf(this.uri.fsPath, e);
      }
    }
    this._settled = true;
    this.readSignatures = new Map(await Promise.all(this.paths.map(async (p) => [p, await fileSignature(p)] as const)));
    this.watch();
    // Rewritten while it was being read: what is shown may mix two versions, so offer a reload.
    if (openedBefore !== undefined && this.readSignatures.get(this.uri.fsPath) !== openedBefore) this.setFileState("changed");
  }

  /** A watcher saw `p` deleted, created or changed: a change only if its size or mtime differs from what was read. */
  private async onFileEvent(p: string): Promise<void> {
    const now = await fileSignature(p);
    if (now === undefined) this.setFileState("deleted");
    else if (now !== this.readSignatures.get(p) || this._fileState === "deleted") this.setFileState("changed");
  }

  private failed(e: unknown): void {
    this._loaded = undefined;
    this._error = inspectorErrorOf(this.uri.fsPath, e);
    this._settled = true;
  }

  async reload(): Promise<void> {
    this.loading = this.load().catch((e: unknown) => this.failed(e));
    await this.loading;
    await this.checkFiles();
    this.reloadEmitter.fire();
  }

  /** Re-checks the files on disk (watchers can miss events, e.g. on network drives). */
  async checkFiles(): Promise<void> {
    if (this.uri.scheme !== "file") return;
    const present = await Promise.all(this.paths.map((p) => fsp.access(p).then(() => true, () => false)));
    if (present.some((p) => !p)) this.setFileState("deleted");
    else if (this._fileState === "deleted") this.setFileState("changed");
  }

  private setFileState(s: FileState): void {
    if (s === this._fileState) return;
    this._fileState = s;
    this.stateEmitter.fire(s);
  }

  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    this._fileState = "present";
    if (this.uri.scheme !== "file") return;
    for (const p of this.paths) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(nodePath.dirname(p)), nodePath.basename(p)));
      // Every event is checked against the disk: a late "delete" from a rename that already put the file back is no deletion.
      for (const event of [w.onDidDelete, w.onDidCreate, w.onDidChange]) event(() => void this.onFileEvent(p));
      this.watchers.push(w);
    }
  }

  override dispose(): void {
    this.disposeEmitter.fire();
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    void this._arrays?.close();
    super.dispose();
  }
}

async function fileSignature(p: string): Promise<string | undefined> {
  try {
    const s = await fsp.stat(p);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}
