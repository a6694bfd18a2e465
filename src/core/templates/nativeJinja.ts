// The ONE module that touches llama.cpp's native Jinja engine. node-llama-cpp exposes it only
// as an internal binding (`llama._bindings.AddonJinjaRenderer`, the class its
// JinjaTemplateChatWrapper uses), so everything that depends on that shape lives here.
// Import it only from the render worker: a native render can segfault or allocate gigabytes.
import fs from "node:fs";
import path from "node:path";
import type { RenderContext } from "./types";

export interface NativeTemplate {
  render(context: RenderContext): string;
}

interface AddonJinjaRendererClass {
  new (template: string): { render(items?: Record<string, unknown>): string };
}

interface LlamaWithBindings {
  readonly _bindings?: { readonly AddonJinjaRenderer?: AddonJinjaRendererClass };
}

let rendererClass: Promise<AddonJinjaRendererClass> | undefined;

/** node-llama-cpp's prebuilt CPU addon for this platform, found by walking up to node_modules. */
function prebuiltAddonPath(): string | undefined {
  const os = process.platform === "win32" ? "win" : process.platform === "darwin" ? "mac" : process.platform;
  const names = [`${os}-${process.arch}`, ...(os === "mac" ? [`mac-${process.arch}-metal`] : [])];
  let dir = __dirname;
  for (;;) {
    for (const n of names) {
      const p = path.join(dir, "node_modules", "@node-llama-cpp", n, "bins", n, "llama-addon.node");
      if (fs.existsSync(p)) return p;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The Jinja renderer class straight from the prebuilt addon: ~50 ms, where getLlama() takes
 * seconds (it loads and probes the whole llama.cpp backend set), which made a cold
 * `template lint` slow. The renderer needs no backend. Falls back to getLlama() when there is
 * no prebuilt addon for this platform or it lacks the class.
 */
function loadPrebuiltRendererClass(): AddonJinjaRendererClass | undefined {
  const file = prebuiltAddonPath();
  if (!file) return undefined;
  try {
    const m = { exports: {} as { AddonJinjaRenderer?: AddonJinjaRendererClass } };
    process.dlopen(m, file);
    return typeof m.exports.AddonJinjaRenderer === "function" ? m.exports.AddonJinjaRenderer : undefined;
  } catch {
    return undefined;
  }
}

async function loadRendererClass(): Promise<AddonJinjaRendererClass> {
  const prebuilt = loadPrebuiltRendererClass();
  if (prebuilt) return prebuilt;
  // node-llama-cpp is ESM-only: a dynamic import (esbuild keeps it as import() for externals).
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = (await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error })) as unknown as LlamaWithBindings;
  const cls = llama._bindings?.AddonJinjaRenderer;
  if (typeof cls !== "function") {
    throw new Error("this node-llama-cpp build does not expose AddonJinjaRenderer (expected in 3.22.x)");
  }
  return cls;
}

/** Compiles a template with llama.cpp's engine; throws the engine's parse error. */
export async function compileNativeTemplate(source: string): Promise<NativeTemplate> {
  rendererClass ??= loadRendererClass();
  const Renderer = await rendererClass;
  const renderer = new Renderer(source);
  return { render: (context) => renderer.render(context) };
}
