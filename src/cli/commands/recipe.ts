// `gguf-studio recipe optimize`: the extension's "Find Recipe for Size…", headless. Same core
// (optimizerRun): sensitivity probes, knapsack choice, real quantization and full KLD check.
// Measurements are cached in the work folder after every probe, so Ctrl-C keeps them and a rerun resumes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeFileAtomically } from "../../core/atomicWrite";
import { refuseExistingOutputs, renameIntoPlace, tempPathFor, trackTemp, untrackTemp } from "../../core/tempFiles";
import { LogitsCache } from "../../core/eval/logitsCache";
import { locateTools } from "../../core/native/toolLocator";
import { ToolCancelledError } from "../../core/native/toolRunner";
import { BudgetError, parseBudget, type Budget } from "../../core/quant/optimizer";
import { optimizeRecipe, type OptimizeResult } from "../../core/quant/optimizerRun";
import { resolveGpuLayers, type GpuOffloadSetting } from "../../core/quant/quantizeArgs";
import { serializeRecipe } from "../../core/quant/recipeParse";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { EXTRACT_USAGE, runRecipeExtract } from "./recipeExtract";

const VALUED = ["budget", "calib", "eval", "imatrix", "max-evals", "max-seconds", "out", "probe-chunks", "refine-rounds", "verify-chunks", "ctx", "threads", "ngl", "gpu", "tools", "work", "design", "top-k"];
const SWITCHES = ["json", "overwrite", "no-engine"];
const CACHE_CAP_BYTES = 64 * 1024 ** 3;
/** fillUnmeasured gives groups with nothing to borrow from this value; a sum of them is no prediction. */
const UNMEASURED_KLD = Number.MAX_SAFE_INTEGER / 2;

/** Where measurements and base logits live between runs (a rerun resumes from them). */
function defaultWorkDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "gguf-studio");
}

function formatPredicted(kld: number): string {
  return kld >= UNMEASURED_KLD ? "n/a (too few measurements)" : kld.toFixed(6);
}

/** What stdout shows: the numbers that judge the recipe. */
export function formatOptimizeResult(r: OptimizeResult, recipeFile: string, quantFile: string, wallMs: number): string {
  return [
    `recipe      ${recipeFile}`,
    `quant       ${quantFile}`,
    `size        ${r.verified.fileBytes} bytes (budget ${r.budgetBytes})`,
    `mean KLD    ${r.verified.meanKld.toFixed(6)} measured, ${formatPredicted(r.predictedKld)} predicted`,
    ...(r.verified.sameTopP !== undefined ? [`same top p  ${r.verified.sameTopP.toFixed(3)}%`] : []),
    `evaluations ${r.evaluations} probes (${r.newEvaluations} new this run), ${r.refinement.evaluations} in-context, ${r.compared.length} verification${r.compared.length === 1 ? "" : "s"}`,
    ...(r.refinement.predictionHeld ? [`refinement  not needed: the chosen recipe read ${r.refinement.measuredKld.toFixed(6)} on the probe text, as predicted`] : []),
    ...r.refinement.rounds.map((x) => `refinement  round ${x.round}: probe KLD ${x.fromKld.toFixed(6)} → ${x.toKld?.toFixed(6) ?? "not measured"}, ${x.changedGroups} group${x.changedGroups === 1 ? "" : "s"} changed, ${x.accepted ? "kept" : "not kept"}`),
    ...(r.refinement.kindFactors && Object.keys(r.refinement.kindFactors).length > 0
      ? [`refinement  in-context factor per kind: ${Object.entries(r.refinement.kindFactors).map(([k, f]) => `${k} ×${f.toFixed(2)}`).join(", ")}`]
      : []),
    ...(r.refinement.candidates && r.refinement.candidates.length > 0
      ? [`candidates  measured whole on the probe text: ${r.refinement.candidates.map((c) => `${c.label} ${c.kld.toFixed(6)}`).join(", ")}; kept: ${r.refinement.kept ?? "additive"}`]
      : []),
    ...(r.fit ? [`proxy check  reference type ${r.fit.referenceType}; leave-one-out |log error| median ${r.fit.check.medianAbsLogError.toFixed(2)}, worst ${r.fit.check.worstAbsLogError.toFixed(2)} (${r.fit.check.readings} readings)`] : []),
    ...(r.fallbacks.length > 0 ? [`fallbacks   ${r.fallbacks.length} tensor${r.fallbacks.length === 1 ? "" : "s"} cannot take the chosen type (row length), as llama-quantize: ${r.fallbacks.slice(0, 5).map((f) => `${f.tensor} ${f.from}→${f.to}`).join(", ")}${r.fallbacks.length > 5 ? ", …" : ""}`] : []),
    `design      ${r.design === "files" ? "files (llama-quantize + llama-perplexity per probe)" : `${r.design}, probe engine`}: ${r.costs.probesPlanned} probes planned`,
    `costs       model load ${(r.costs.loadMs / 1000).toFixed(1)} s + base pass ${(r.costs.baseMs / 1000).toFixed(1)} s, probes ${(r.probeWallMs / 1000).toFixed(1)} s (median ${(r.costs.medianProbeMs / 1000).toFixed(2)} s each), refinement ${(r.refinement.wallMs / 1000).toFixed(1)} s, verification ${(r.verifyWallMs / 1000).toFixed(1)} s`,
    `wall time   ${(wallMs / 1000).toFixed(1)} s`,
  ].join("\n") + "\n";
}

const OPTIMIZE_USAGE = `usage: gguf-studio recipe optimize BASE --budget B --calib F --eval F --out RECIPE.quant.json [options]

Finds a per-tensor quantization recipe for BASE (an F16/BF16/F32 GGUF) that fits the size budget
with the lowest mean KL divergence: measures each (layer, kind) group's KLD at candidate types on
short slices of the calibration text, picks one type per group under the budget, re-measures each
group inside the chosen recipe to correct for errors that compound and picks again, then quantizes
and checks the result with a full KLD evaluation on the held-out eval text.
Writes RECIPE.quant.json and the verified quant next to it (RECIPE.gguf).

--budget B        bytes (4326656), a size (3.5GB, 3.2GiB, 900MiB) or bits per weight (4.5bpw)
--calib F         text the sensitivity probes measure on (keep it apart from --eval)
--eval F          held-out text for the final KLD evaluation
--imatrix F       importance matrix for every quantization (adds IQ types to the candidates)
--design D        sparse (default: every group at one type, each type on two groups, the rest from the
                  weight-error proxy: at most G + 2·T + 10 evaluations) or grid (every group at every type)
--no-engine       probe with llama-quantize + llama-perplexity files instead of the probe engine (slow)
--top-k K         base log-probabilities the probe engine keeps per token (default 64)
--max-evals N     stop after N new evaluations, probes and refinement together (unmeasured groups are estimated)
--max-seconds S   stop probing and refining after S seconds
--refine-rounds N rounds of in-context refinement on --calib (default 2; 0: the additive choice as is)
--probe-chunks N  chunks of --calib per probe (default 12)
--verify-chunks N chunks of --eval for the final evaluation (default 24)
--ctx N           tokens per chunk (default 256)
--threads N       threads for llama-quantize and llama-perplexity
--ngl N           GPU layers (default: all on CUDA/Metal tools, else 0)
--gpu auto|cpu|gpu  offload policy when --ngl is not given (default auto)
--work DIR        measurements cache and base logits, kept between runs (default ${defaultWorkDir()})
--tools DIR       folder holding llama-quantize, llama-perplexity and gguf-studio-probe
--overwrite       replace an existing RECIPE.quant.json and its .gguf (without it they are refused up front)
--json            print the result as JSON

Ctrl-C stops; the measurements made so far stay in the work folder and a rerun resumes from them.
`;

export const recipeCommand: CliCommand = {
  name: "recipe",
  summary: "recipe optimize: find a per-tensor quant recipe for a size budget; recipe extract: a quant's types as a recipe",
  usage: `${OPTIMIZE_USAGE}\n${EXTRACT_USAGE}`,
  async run(args, io) {
    if (args[0] === "extract") return runRecipeExtract(args.slice(1), io);
    const { flags, positional } = parseFlags(args, VALUED);
    rejectUnknownFlags(flags, [...VALUED, ...SWITCHES]);
    const [sub, base, ...extra] = positional;
    if (sub !== "optimize") throw new CliUsageError(sub ? `unknown recipe subcommand "${sub}" (expected optimize or extract)` : "give a subcommand: optimize or extract");
    if (!base) throw new CliUsageError("give the BASE model");
    if (extra.length > 0) throw new CliUsageError(`unexpected argument "${extra[0]}"`);
    const one = (name: string) => flags.get(name)?.at(-1);
    const need = (name: string, what: string) => {
      const v = one(name);
      if (!v) throw new CliUsageError(`give ${what} with --${name}`);
      return v;
    };
    const int = (name: string) => {
      const v = one(name);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v) || Number(v) === 0) throw new CliUsageError(`--${name} needs a positive whole number, got "${v}"`);
      return Number(v);
    };
    const refineRounds = () => {
      const v = one("refine-rounds");
      if (v !== undefined && !/^\d+$/.test(v)) throw new CliUsageError(`--refine-rounds needs a whole number (0 turns refinement off), got "${v}"`);
      return v === undefined ? undefined : Number(v);
    };
    const budgetText = need("budget", "the size budget");
    let budget: Budget;
    try {
      budget = parseBudget(budgetText);
    } catch (e) {
      throw new CliUsageError(e instanceof Error ? e.message : String(e));
    }
    const calib = need("calib", "the calibration text");
    const evalPath = need("eval", "the held-out evaluation text");
    const out = need("out", "the recipe file to write");
    if (!out.endsWith(".quant.json")) throw new CliUsageError(`--out must end in .quant.json, got "${out}"`);
    const quantOut = out.replace(/\.quant\.json$/, ".gguf");
    const overwrite = flags.has("overwrite");
    // Checked before hours of probing, and again (atomically) when the files are put in place.
    await refuseExistingOutputs([out, quantOut], overwrite);
    if (path.resolve(calib) === path.resolve(evalPath)) io.err("warning: --calib and --eval are the same file: the probes tune on the text that judges the result\n");
    const maxEvaluations = int("max-evals");
    const maxSecondsText = one("max-seconds");
    if (maxSecondsText !== undefined && !(Number(maxSecondsText) > 0)) throw new CliUsageError(`--max-seconds needs a positive number, got "${maxSecondsText}"`);
    const gpu = (one("gpu") ?? "auto") as GpuOffloadSetting;
    if (!["auto", "cpu", "gpu"].includes(gpu)) throw new CliUsageError("--gpu must be auto, cpu or gpu");
    for (const [what, file] of [["BASE", base], ["--calib", calib], ["--eval", evalPath], ...(one("imatrix") ? [["--imatrix", one("imatrix") as string]] : [])]) {
      if (!fs.existsSync(file)) throw new Error(`${what} file not found: ${file}`);
    }

    const location = locateTools({ configuredDir: one("tools") ?? process.env.GGUF_STUDIO_LLAMA_CPP, extensionRoot: path.resolve(__dirname, "..") });
    const quantize = location.found["llama-quantize"];
    const perplexity = location.found["llama-perplexity"];
    if (!quantize || !perplexity) {
      throw new Error(`${!quantize ? "llama-quantize" : "llama-perplexity"} not found${location.settingProblem ? ` (${location.settingProblem})` : ""}; pass --tools DIR or run npm run build:native`);
    }
    const design = one("design") ?? "sparse";
    if (design !== "sparse" && design !== "grid") throw new CliUsageError(`--design must be sparse or grid, got "${design}"`);
    const engine = flags.has("no-engine") ? undefined : location.found["gguf-studio-probe"];
    if (!engine && !flags.has("no-engine")) io.err("note: gguf-studio-probe not found (npm run build:native builds it); probing with llama-quantize + llama-perplexity files, which is much slower\n");
    const work = one("work") ?? defaultWorkDir();
    const started = Date.now();
    let lastPhase = "";
    let result: OptimizeResult;
    try {
      result = await optimizeRecipe({
        quantize: quantize.path, perplexity: perplexity.path, basePath: base, budget, evalPath, probeTextPath: calib,
        ...(one("imatrix") ? { imatrix: one("imatrix") } : {}),
        probeChunks: int("probe-chunks"), refineRounds: refineRounds(), verifyChunks: int("verify-chunks"), contextSize: int("ctx"),
        maxEvaluations, maxMs: maxSecondsText !== undefined ? Number(maxSecondsText) * 1000 : undefined,
        workDir: path.join(work, "optimizer"), cache: new LogitsCache(path.join(work, "logits"), CACHE_CAP_BYTES),
        threads: int("threads"), gpuLayers: resolveGpuLayers(gpu, perplexity.backend, int("ngl")), signal: io.signal,
        ...(engine ? { engine: engine.path, design, topK: int("top-k"), imatrixTool: location.found["llama-imatrix"]?.path } : {}),
        onProgress: (p) => {
          if (p.phase !== lastPhase && p.phase === "verify") io.err("probes done; verifying\n");
          lastPhase = p.phase;
          const rate = p.rate ? `, ${p.rate.toFixed(2)} probes/s, ETA ${Math.ceil((p.etaMs ?? 0) / 1000)} s` : "";
          io.err(`${p.phase} ${p.done}/${p.total}: ${p.message} (${((Date.now() - started) / 1000).toFixed(0)} s${rate})\n`);
        },
      });
    } catch (e) {
      if (e instanceof ToolCancelledError || io.signal.aborted) {
        io.err(`cancelled; the measurements made so far are kept in ${path.join(work, "optimizer")} and a rerun resumes from them\n`);
        return 130;
      }
      if (e instanceof BudgetError) {
        io.err(`gguf-studio recipe optimize: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    const wallMs = Date.now() - started;
    const recipe = { ...result.recipe, model: path.relative(path.dirname(path.resolve(out)), path.resolve(base)) || path.basename(base) };
    await writeFileAtomically(out, serializeRecipe(recipe), { overwrite });
    // The work folder may be on another file system: copy to a temp name beside the target, then rename.
    const quantTmp = tempPathFor(quantOut);
    trackTemp(quantTmp);
    try {
      await fs.promises.copyFile(result.verified.quantPath, quantTmp);
      await renameIntoPlace(quantTmp, quantOut, overwrite);
    } finally {
      await fs.promises.rm(quantTmp, { force: true });
      untrackTemp(quantTmp);
    }
    await fs.promises.rm(result.verified.quantPath, { force: true });
    if (flags.has("json")) {
      io.out(JSON.stringify({
        recipeFile: out, quantFile: quantOut, budgetBytes: result.budgetBytes, fileBytes: result.verified.fileBytes,
        predictedKld: result.predictedKld >= UNMEASURED_KLD ? null : result.predictedKld, meanKld: result.verified.meanKld,
        sameTopP: result.verified.sameTopP ?? null, kld99_9: result.verified.kld99_9 ?? null,
        evaluations: result.evaluations, newEvaluations: result.newEvaluations, compared: result.compared,
        refinement: { evaluations: result.refinement.evaluations, probeTextKld: result.refinement.measuredKld, predictionHeld: result.refinement.predictionHeld, rounds: result.refinement.rounds },
        probeWallMs: result.probeWallMs, verifyWallMs: result.verifyWallMs, wallMs, measurementsFile: result.measurementsFile, grouping: result.grouping,
        design: result.design, costs: result.costs, fallbacks: result.fallbacks, kindFactors: result.refinement.kindFactors ?? null, candidates: result.refinement.candidates ?? null, kept: result.refinement.kept ?? null, fit: result.fit ?? null,
      }, null, 2) + "\n");
    } else {
      io.out(formatOptimizeResult(result, out, quantOut, wallMs));
    }
    return 0;
  },
};
