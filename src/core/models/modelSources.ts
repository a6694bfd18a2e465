// Where GGUF files live on a machine: workspace folders, folders the user lists, and the caches
// that popular tools download into. Only folders that exist become sources.
import { promises as fsp } from "node:fs";
import nodePath from "node:path";

export type ModelSourceKind = "workspace" | "folder" | "huggingFace" | "lmStudio" | "llamaCpp";

export interface ModelSource {
  /** Stable id: kind plus absolute root. */
  readonly id: string;
  readonly kind: ModelSourceKind;
  readonly label: string;
  /** Absolute folder. */
  readonly root: string;
}

export interface SourceSettings {
  readonly workspaceFolders: readonly { readonly name: string; readonly path: string }[];
  readonly modelFolders: readonly string[];
  readonly scanHuggingFaceCache: boolean;
  readonly scanLmStudio: boolean;
  readonly scanLlamaCppCache: boolean;
}

export interface MachineEnvironment {
  readonly home: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
}

function source(kind: ModelSourceKind, label: string, root: string): ModelSource {
  const abs = nodePath.resolve(root);
  return { id: `${kind}:${abs}`, kind, label, root: abs };
}

/** "~/x" and "$HOME/x" expanded, relative paths left relative to the first workspace folder by the caller. */
export function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/") || p.startsWith("~\\")) return nodePath.join(home, p.slice(2));
  return p.replace(/^\$HOME(?=[/\\]|$)/, home);
}

/** Hugging Face hub cache: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function huggingFaceHubCache(m: MachineEnvironment): string {
  const e = m.env;
  if (e.HF_HUB_CACHE) return expandHome(e.HF_HUB_CACHE, m.home);
  if (e.HUGGINGFACE_HUB_CACHE) return expandHome(e.HUGGINGFACE_HUB_CACHE, m.home);
  if (e.HF_HOME) return nodePath.join(expandHome(e.HF_HOME, m.home), "hub");
  const cache = e.XDG_CACHE_HOME ? expandHome(e.XDG_CACHE_HOME, m.home) : nodePath.join(m.home, ".cache");
  return nodePath.join(cache, "huggingface", "hub");
}

/** LM Studio's models folders (current and older layouts). */
export function lmStudioModelFolders(m: MachineEnvironment): string[] {
  return [nodePath.join(m.home, ".lmstudio", "models"), nodePath.join(m.home, ".cache", "lm-studio", "models")];
}

/** llama.cpp's download cache (`-hf` / `--model-url`): LLAMA_CACHE, else the per-OS cache folder. */
export function llamaCppCache(m: MachineEnvironment): string {
  if (m.env.LLAMA_CACHE) return expandHome(m.env.LLAMA_CACHE, m.home);
  if (m.platform === "darwin") return nodePath.join(m.home, "Library", "Caches", "llama.cpp");
  if (m.platform === "win32") return nodePath.join(m.env.LOCALAPPDATA ?? nodePath.join(m.home, "AppData", "Local"), "llama.cpp");
  const cache = m.env.XDG_CACHE_HOME ? expandHome(m.env.XDG_CACHE_HOME, m.home) : nodePath.join(m.home, ".cache");
  return nodePath.join(cache, "llama.cpp");
}

/** Every source the settings ask for, existing or not, without duplicates (first wins). */
export function candidateSources(settings: SourceSettings, m: MachineEnvironment): ModelSource[] {
  const out: ModelSource[] = [];
  for (const w of settings.workspaceFolders) out.push(source("workspace", w.name, w.path));
  const base = settings.workspaceFolders[0]?.path ?? m.home;
  for (const f of settings.modelFolders) {
    const trimmed = f.trim();
    if (trimmed.length === 0) continue;
    const abs = nodePath.resolve(base, expandHome(trimmed, m.home));
    out.push(source("folder", abs, abs));
  }
  if (settings.scanHuggingFaceCache) out.push(source("huggingFace", "Hugging Face cache", huggingFaceHubCache(m)));
  if (settings.scanLmStudio) for (const f of lmStudioModelFolders(m)) out.push(source("lmStudio", "LM Studio", f));
  if (settings.scanLlamaCppCache) out.push(source("llamaCpp", "llama.cpp cache", llamaCppCache(m)));
  const seen = new Set<string>();
  return out.filter((s) => (seen.has(s.root) ? false : (seen.add(s.root), true)));
}

/** The candidates whose folder exists (and is a folder). */
export async function existingSources(sources: readonly ModelSource[]): Promise<ModelSource[]> {
  const ok = await Promise.all(
    sources.map(async (s) => {
      try {
        return (await fsp.stat(s.root)).isDirectory();
      } catch {
        return false;
      }
    }),
  );
  return sources.filter((_, i) => ok[i]);
}

/** "org/name" for a file inside the HF hub cache (models--org--name/snapshots/…), else undefined. */
export function huggingFaceRepoOf(path: string): string | undefined {
  const m = /(?:^|[/\\])models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]/.exec(path);
  return m ? `${m[1]}/${m[2].replace(/--/g, "/")}` : undefined;
}
