// Child-process render server for the in-Node engines (bundled to dist/native-render-worker.js).
// `--engine llama.cpp` renders with llama.cpp's native engine, `--engine hf-jinja` with
// @huggingface/jinja. Protocol: one JSON line per batch on stdin, one reply line on stdout
// (see engineProcess.ts). It runs in its own process because a native render can segfault,
// spin, or grow to gigabytes: the parent kills it and starts another. It also limits itself
// (engineWatchdog.ts): it ends when the parent dies, even in the middle of a render.
import { Template } from "@huggingface/jinja";
import readline from "node:readline";
import { compileNativeTemplate } from "./nativeJinja";
import type { RenderContext, RenderOutcome } from "./types";
import { startEngineWatchdog } from "./engineWatchdog";

const MAX_OUTPUT_CHARS = 1 << 20;
const engineArg = process.argv.indexOf("--engine");
const engine = engineArg >= 0 ? process.argv[engineArg + 1] : "llama.cpp";
const numberArg = (name: string): number => {
  const i = process.argv.indexOf(name);
  const n = i >= 0 ? Number(process.argv[i + 1]) : 0;
  return Number.isFinite(n) && n > 0 ? n : 0;
};
const clock = startEngineWatchdog({ timeoutMs: numberArg("--timeout-ms"), memoryCapMiB: numberArg("--memory-mib") });

interface BatchRequest {
  readonly id: number;
  readonly template: string;
  readonly contexts: RenderContext[];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function capped(output: string): RenderOutcome {
  return output.length > MAX_OUTPUT_CHARS ? { ok: false, stage: "limit", error: "output exceeds 1 MiB" } : { ok: true, output };
}

async function renderBatch(req: BatchRequest): Promise<RenderOutcome[]> {
  let render: (ctx: RenderContext) => string;
  if (engine !== "hf-jinja") {
    // A missing or incompatible addon is "engine unavailable", never a template syntax error.
    try {
      await compileNativeTemplate("");
    } catch (e) {
      return req.contexts.map(() => ({ ok: false, stage: "unavailable", error: `llama.cpp engine unavailable: ${message(e)}` }));
    }
  }
  try {
    if (engine === "hf-jinja") {
      const t = new Template(req.template);
      render = (ctx) => t.render(ctx);
    } else {
      const t = await compileNativeTemplate(req.template);
      render = (ctx) => t.render(ctx);
    }
  } catch (e) {
    return req.contexts.map(() => ({ ok: false, stage: "parse", error: message(e) }));
  }
  return req.contexts.map((ctx): RenderOutcome => {
    try {
      return capped(render(ctx));
    } catch (e) {
      return { ok: false, stage: "render", error: message(e) };
    }
  });
}

const lines = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
lines.on("line", (line) => {
  chain = chain.then(async () => {
    let reply: unknown;
    try {
      const req = JSON.parse(line) as BatchRequest;
      clock.start();
      reply = { id: req.id, results: await renderBatch(req) };
    } catch (e) {
      reply = { id: 0, error: message(e) };
    }
    clock.end();
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
lines.on("close", () => void chain.then(() => process.exit(0)));
