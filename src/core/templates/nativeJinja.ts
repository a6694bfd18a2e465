// The ONE module that touches llama.cpp's native Jinja engine. node-llama-cpp exposes it only
// as an internal binding (`llama._bindings.AddonJinjaRenderer`, the class its
// JinjaTemplateChatWrapper uses), so everything that depends on that shape lives here.
// Import it only from the render worker: a native render can segfault or allocate gigabytes.
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

async function loadRendererClass(): Promise<AddonJinjaRendererClass> {
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
