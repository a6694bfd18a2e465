// `gguf-template:` documents: a GGUF's chat template as an editable virtual file. The URI path
// is "<absolute GGUF path>/<metadata key>.jinja". Saving keeps the edit in memory (the source
// GGUF is never written); "Save Chat Template into GGUF…" writes it into a new file (or replaces the original, keeping a backup).
import * as path from "node:path";
import * as vscode from "vscode";
import { GGUF_TEMPLATE_KEY, readGgufTemplates } from "../../core/templates/sources";

export const GGUF_TEMPLATE_SCHEME = "gguf-template";

export function templateUri(ggufPath: string, key: string = GGUF_TEMPLATE_KEY): vscode.Uri {
  return vscode.Uri.from({ scheme: GGUF_TEMPLATE_SCHEME, path: `${ggufPath.split(path.sep).join("/")}/${key}.jinja` });
}

export function parseTemplateUri(uri: vscode.Uri): { ggufPath: string; key: string } {
  const slash = uri.path.lastIndexOf("/");
  const ggufPath = uri.path.slice(0, slash);
  return { ggufPath: process.platform === "win32" ? ggufPath.replace(/^\//, "").split("/").join("\\") : ggufPath, key: uri.path.slice(slash + 1).replace(/\.jinja$/, "") };
}

export class GgufTemplateFileSystem implements vscode.FileSystemProvider {
  private readonly edited = new Map<string, Uint8Array>();
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  private async content(uri: vscode.Uri): Promise<Uint8Array> {
    const edited = this.edited.get(uri.toString());
    if (edited) return edited;
    const { ggufPath, key } = parseTemplateUri(uri);
    const { templates } = await readGgufTemplates(ggufPath);
    const text = templates.get(key);
    if (text === undefined) {
      if (key === GGUF_TEMPLATE_KEY) return new Uint8Array(); // a GGUF without a template: start an empty one
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    return Buffer.from(text, "utf8");
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const data = await this.content(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: this.edited.has(uri.toString()) ? Date.now() : 0, size: data.byteLength };
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.content(uri);
  }

  writeFile(uri: vscode.Uri, content: Uint8Array): void {
    this.edited.set(uri.toString(), content);
    this.emitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions("gguf-template documents have no folders");
  }
  delete(): void {
    throw vscode.FileSystemError.NoPermissions("use Save Chat Template into GGUF… instead");
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions("use Save Chat Template into GGUF… instead");
  }
}
