// Finds llama.cpp's tools: the configured folder first, then the extension's bundled bin/,
// then PATH. Bundled GPU builds win over the CPU build of the same platform.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runTool, ToolFailedError } from "./toolRunner";
import { absolutePathEntries } from "./childEnv";

/** llama.cpp's tools, and the optimizer's probe engine built beside them from the same source. */
export const NATIVE_TOOLS = ["llama-quantize", "llama-imatrix", "llama-perplexity", "llama-gguf-split", "gguf-studio-probe"] as const;
export type NativeToolName = (typeof NATIVE_TOOLS)[number];

export type ToolSource = "setting" | "bundled" | "path";
export type ToolBackend = "cpu" | "cuda" | "metal" | "vulkan" | "unknown";

export interface LocatedTool {
  readonly name: NativeToolName;
  readonly path: string;
  readonly source: ToolSource;
  readonly backend: ToolBackend;
}

export interface ToolLocation {
  readonly found: Partial<Record<NativeToolName, LocatedTool>>;
  readonly missing: NativeToolName[];
  /** Why the configured folder was not used, when it was set but unusable. */
  readonly settingProblem?: string;
}

export interface LocateOptions {
  /** ggufStudio.llamaCppPath, a folder holding the tools. */
  readonly configuredDir?: string;
  /** The extension's (or repository's) root; bundled tools live in <root>/bin/<platform>-<arch>-<backend>/. */
  readonly extensionRoot: string;
  readonly pathEnv?: string;
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
}

const BACKEND_PREFERENCE: ToolBackend[] = ["cuda", "metal", "vulkan", "cpu"];

function exeName(name: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? `${name}.exe` : name;
}

function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Bundled tool folders for this platform, best backend first. */
export function bundledToolDirs(extensionRoot: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): { dir: string; backend: ToolBackend }[] {
  const binRoot = path.join(extensionRoot, "bin");
  return BACKEND_PREFERENCE.map((backend) => ({ dir: path.join(binRoot, `${platform}-${arch}-${backend}`), backend })).filter((d) =>
    fs.existsSync(d.dir),
  );
}

export function locateTools(options: LocateOptions): ToolLocation {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const found: Partial<Record<NativeToolName, LocatedTool>> = {};
  let settingProblem: string | undefined;

  const candidates: { dir: string; source: ToolSource; backend: ToolBackend }[] = [];
  if (options.configuredDir) {
    if (fs.existsSync(options.configuredDir) && fs.statSync(options.configuredDir).isDirectory()) {
      candidates.push({ dir: options.configuredDir, source: "setting", backend: backendFromStamp(options.configuredDir) });
    } else {
      settingProblem = `ggufStudio.llamaCppPath is set to "${options.configuredDir}", which is not a folder`;
    }
  }
  for (const b of bundledToolDirs(options.extensionRoot, platform, arch)) candidates.push({ ...b, source: "bundled" });
  // Absolute entries only: `.` on PATH would pick up a "llama-quantize" from the folder we were started in.
  const pathDirs = absolutePathEntries(options.pathEnv ?? process.env.PATH);
  for (const dir of pathDirs) candidates.push({ dir, source: "path", backend: "unknown" });

  for (const name of NATIVE_TOOLS) {
    for (const c of candidates) {
      const file = path.join(c.dir, exeName(name, platform));
      if (isExecutableFile(file)) {
        found[name] = { name, path: file, source: c.source, backend: c.backend };
        break;
      }
    }
  }
  const missing = NATIVE_TOOLS.filter((n) => !found[n]);
  return settingProblem ? { found, missing, settingProblem } : { found, missing };
}

/** The backend recorded by scripts/build-native.mjs, if the folder was built by it. */
function backendFromStamp(dir: string): ToolBackend {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(dir, "build-stamp.json"), "utf8")) as { backend?: string };
    return (BACKEND_PREFERENCE as string[]).includes(stamp.backend ?? "") ? (stamp.backend as ToolBackend) : "unknown";
  } catch {
    return "unknown";
  }
}

export interface ToolVersion {
  /** e.g. "1 (abc1234)" as printed by `--version`. */
  readonly version: string;
  /** e.g. "GNU 12.2.0 for x86_64-linux-gnu". */
  readonly builtWith?: string;
}

/**
 * Asks a tool for its version. `--version` works for every tool but llama-quantize, which prints
 * its usage and exits 1; it prints its build info when given arguments, so it is asked to open a
 * file that does not exist (it fails before creating any output).
 */
export async function probeToolVersion(executable: string, signal?: AbortSignal): Promise<ToolVersion> {
  const lines: string[] = [];
  const collect = (l: string) => lines.push(l);
  const isQuantize = path.basename(executable).replace(/\.exe$/, "") === "llama-quantize";
  const args = isQuantize
    ? [path.join(os.tmpdir(), "gguf-studio-version-probe-missing.gguf"), path.join(os.tmpdir(), "gguf-studio-version-probe-never-written.gguf"), "Q8_0"]
    : ["--version"];
  try {
    await runTool({ executable, args, signal, onLine: collect });
  } catch (e) {
    // The quantize probe fails by design; anything else (missing, crashed) is a real failure.
    if (!(isQuantize && e instanceof ToolFailedError)) throw e;
  }
  const version = lines.map((l) => /^version:\s*(.+)$/.exec(l.trim())?.[1]).find((v) => v !== undefined);
  const builtWith = lines.map((l) => /^built with\s+(.+)$/.exec(l.trim())?.[1]).find((v) => v !== undefined);
  if (!version) throw new Error(`${path.basename(executable)} printed no version line`);
  return builtWith ? { version, builtWith } : { version };
}
