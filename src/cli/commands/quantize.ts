// `gguf-studio quantize`: the extension's quantize runner, headless.
import path from "node:path";
import { makeTempFolder, removeTempFolder, sweepStaleTempFolders } from "../../core/tempFiles";
import { locateTools } from "../../core/native/toolLocator";
import { findQuantPreset } from "../../core/quant/presets";
import { prepareRecipeQuantize, type RecipeQuantizeInputs } from "../../core/quant/recipeFile";
import { describeLayers } from "../../core/quant/layerPattern";
import { formatLayerMapping } from "../../core/quant/recipeRemap";
import { resolveGpuLayers, type GpuOffloadSetting } from "../../core/quant/quantizeArgs";
import {
  QuantizeError, estimateQuantizedSize, formatBytes, freeBytes, inspectSource, runQuantizeJob, type QuantizeRequest, type QuantizeStage, type SourceInfo, DEFAULT_DRY_RUN_LIMIT_MS,
} from "../../core/quant/quantizeJob";
import { CliCommand, CliIo, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";

const VALUED = ["recipe", "imatrix", "calib", "threads", "output-tensor-type", "token-embedding-type", "tensor-type", "tensor-type-file", "ctx", "chunks", "ngl", "gpu", "tools", "dry-run-limit"];
const SWITCHES = ["dry-run", "allow-requantize", "overwrite", "pure", "keep-split", "json"];

export const quantizeCommand: CliCommand = {
  name: "quantize",
  summary: "quantize a GGUF with llama-quantize (optional imatrix from a calibration text), verified",
  usage: `usage: gguf-studio quantize IN OUT TYPE [--imatrix F | --calib F] [--dry-run] [options]
       gguf-studio quantize IN OUT --recipe FILE [--imatrix F | --calib F] [--dry-run] [options]

Quantizes IN (any shard of a split set) to OUT as TYPE (any llama-quantize type, e.g. Q4_K_M),
or with the per-tensor types of a recipe (*.quant.json; it also names its imatrix, if any).
A recipe made for another layer count (recorded by \`recipe extract\`, or its model's) has its layer
ranges mapped by relative depth; the mapping table is printed first.
Writes a temp file beside OUT, verifies it, then renames it; IN is never modified.

--recipe FILE             apply a recipe: compiled to a temp --tensor-type-file (removed after)

--imatrix F               use an existing importance matrix
--calib F                 compute one first with llama-imatrix from F (plain text, or .jsonl chat
                          conversations rendered through the model's chat template); kept as
                          <OUT stem>.imatrix.gguf
--dry-run                 print the estimated output size and free space, write nothing
--dry-run-limit S         seconds llama-quantize's --dry-run may take (default ${DEFAULT_DRY_RUN_LIMIT_MS / 1000}); past that
                          our own estimate is used (it is quadratic in the tensor count)
--allow-requantize        the source is already quantized and that is intended
--overwrite               replace existing output files
--threads N               threads for both tools
--output-tensor-type T    --token-embedding-type T   --pure   --keep-split
--tensor-type PAT=T       (repeatable)   --tensor-type-file F
--ctx N --chunks N        imatrix context (default 512) and chunk cap
--ngl N                   imatrix GPU layers (default: all on CUDA/Metal tools, else 0)
--gpu auto|cpu|gpu        offload policy when --ngl is not given (default auto)
--tools DIR               folder holding llama-quantize and llama-imatrix
--json                    print the result as JSON
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args, VALUED);
    rejectUnknownFlags(flags, [...VALUED, ...SWITCHES]);
    const one = (name: string) => flags.get(name)?.at(-1);
    const recipeFile = one("recipe");
    if (recipeFile !== undefined) {
      if (positional.length !== 2) throw new CliUsageError("with --recipe, give IN and OUT only (the recipe sets the types)");
      if (flags.has("tensor-type") || flags.has("tensor-type-file") || flags.has("pure")) throw new CliUsageError("--recipe sets every tensor's type: drop --tensor-type, --tensor-type-file and --pure");
    } else {
      if (positional.length !== 3) throw new CliUsageError("give IN, OUT and TYPE (or IN, OUT and --recipe FILE)");
      if (!findQuantPreset(positional[2])) throw new CliUsageError(`unknown type "${positional[2]}"`);
    }
    const [input, output] = positional;
    // A recipe compiles into a temp folder that goes away however the command ends.
    // Folders of earlier runs that were killed (their process is gone) go first.
    await sweepStaleTempFolders();
    const tempDir = recipeFile !== undefined ? await makeTempFolder("recipe") : undefined;
    try {
      const recipe = recipeFile !== undefined && tempDir !== undefined
        ? await prepareRecipeQuantize(recipeFile, input, path.join(tempDir, "tensor-types.txt"))
        : undefined;
      if (recipe?.layerMapping) io.err(`${formatLayerMapping(recipe.layerMapping, describeLayers)}\n`);
      for (const w of recipe?.warnings ?? []) io.err(`recipe: ${w.message}\n`);
      return await quantizeWith(flags, recipe, positional, input, output, io);
    } finally {
      if (tempDir) await removeTempFolder(tempDir);
    }
  },
};

/** Builds the request (a recipe's type and tensor-type file, when given) and runs or dry-runs it. */
async function quantizeWith(
  flags: Map<string, string[]>, recipe: RecipeQuantizeInputs | undefined, positional: readonly string[], input: string, output: string, io: CliIo,
): Promise<number> {
  const one = (name: string) => flags.get(name)?.at(-1);
  const int = (name: string) => {
    const v = one(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new CliUsageError(`--${name} needs a whole number, got "${v}"`);
    return Number(v);
  };
  const gpu = (one("gpu") ?? "auto") as GpuOffloadSetting;
  if (!["auto", "cpu", "gpu"].includes(gpu)) throw new CliUsageError(`--gpu must be auto, cpu or gpu`);

  // A dry run reads the source first, so a bad source (a FIFO, a directory) is named even without tools.
  let drySource: SourceInfo | undefined;
  if (flags.has("dry-run")) {
    try {
      drySource = await inspectSource(input);
    } catch (e) {
      if (e instanceof QuantizeError) {
        io.err(`gguf-studio quantize: ${e.message} (${e.code})\n`);
        return 1;
      }
      throw e;
    }
  }
  const location = locateTools({ configuredDir: one("tools") ?? process.env.GGUF_STUDIO_LLAMA_CPP, extensionRoot: path.resolve(__dirname, "..") });
  const quantizeTool = location.found["llama-quantize"];
  if (!quantizeTool) throw new Error(`llama-quantize not found${location.settingProblem ? ` (${location.settingProblem})` : ""}; pass --tools DIR or run npm run build:native`);
  const imatrixTool = location.found["llama-imatrix"];

  // --imatrix/--calib on the command line win over the recipe's own imatrix.
  const recipeImatrix = recipe?.imatrix && !flags.has("calib") ? recipe.imatrix : undefined;
  const request: QuantizeRequest = {
    source: input,
    output,
    type: recipe ? recipe.type : positional[2],
    imatrix: one("imatrix") ?? recipeImatrix,
    calibration: one("calib"),
    imatrixContext: int("ctx"),
    imatrixChunks: int("chunks"),
    gpuLayers: resolveGpuLayers(gpu, imatrixTool?.backend ?? "unknown", int("ngl")),
    threads: int("threads"),
    allowRequantize: flags.has("allow-requantize"),
    overwrite: flags.has("overwrite"),
    pure: flags.has("pure"),
    keepSplit: flags.has("keep-split"),
    outputTensorType: one("output-tensor-type"),
    tokenEmbeddingType: one("token-embedding-type"),
    tensorTypes: flags.get("tensor-type"),
    tensorTypeFile: recipe ? recipe.tensorTypeFile : one("tensor-type-file"),
  };
  const limitText = one("dry-run-limit");
  if (limitText !== undefined && !(Number(limitText) > 0)) throw new CliUsageError(`--dry-run-limit needs a positive number of seconds, got "${limitText}"`);
  const deps = { executables: { quantize: quantizeTool.path, imatrix: imatrixTool?.path }, signal: io.signal, ...(limitText !== undefined ? { dryRunLimitMs: Number(limitText) * 1000 } : {}) };
  const json = flags.has("json");

  try {
    if (flags.has("dry-run")) {
      const source = drySource ?? (await inspectSource(input));
      const estimate = await estimateQuantizedSize(request, source, deps);
      const free = await freeBytes(path.dirname(path.resolve(output)));
      const facts = { source: source.shardPaths, ...(recipe ? { recipeEstimatedBytes: recipe.estimatedFileBytes } : {}), sourceBytes: source.bytes, estimatedBytes: estimate.bytes, estimateMethod: estimate.method, bitsPerWeight: estimate.bitsPerWeight, freeBytes: free, needsImatrix: estimate.toolSaysImatrixRequired, commandLine: estimate.commandLine };
      io.out(json ? JSON.stringify(facts, null, 2) + "\n"
        : `${estimate.method === "own-estimate" ? "llama-quantize --dry-run ran past its time limit; our own estimate (preset mixes not modelled): " : ""}estimated output: ${formatBytes(estimate.bytes)} (${estimate.bitsPerWeight.toFixed(2)} bpw) from ${formatBytes(source.bytes)}; free: ${formatBytes(free)}${free < estimate.bytes ? " (NOT ENOUGH)" : ""}${estimate.toolSaysImatrixRequired ? "\nthis type needs an importance matrix (--imatrix or --calib)" : ""}\n`);
      return 0;
    }
    let lastStage: QuantizeStage | undefined;
    let lastTenth = -1;
    const result = await runQuantizeJob(request, {
      ...deps,
      onStage: (stage, p) => {
        const tenth = Math.floor((p.fraction ?? 0) * 10);
        if (stage !== lastStage || tenth > lastTenth) io.err(`${stage}: ${p.fraction !== undefined ? `${Math.round(p.fraction * 100)}% ` : ""}${p.message}\n`);
        if (stage !== lastStage) lastTenth = -1;
        lastStage = stage;
        lastTenth = Math.max(lastTenth, tenth);
      },
    });
    io.out(json ? JSON.stringify(result, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v), 2) + "\n"
      : `wrote ${result.outputs.join(", ")}: ${formatBytes(result.outputBytes)} (${result.ratio.toFixed(2)}× smaller) in ${(result.durationMs / 1000).toFixed(1)} s, sha256 ${result.sha256}${result.imatrix ? `\nimatrix: ${result.imatrix}` : ""}\n`);
    return 0;
  } catch (e) {
    if (e instanceof QuantizeError) {
      io.err(`gguf-studio quantize: ${e.message} (${e.code})\n`);
      return 1;
    }
    throw e;
  }
}
