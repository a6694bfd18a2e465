// The QuickPick steps of "Quantize Model…". Each returns undefined when the user backs out (Escape).
// Titles carry a step marker ("Quantize: target type") that integration tests wait for before
// pressing keys, so the same QuickPicks a user sees are what the tests drive.
import path from "node:path";
import * as vscode from "vscode";
import { OVERRIDE_TENSOR_TYPES, QUANT_PRESETS, presetBaseBitsPerWeight, type QuantPreset } from "../../core/quant/presets";
import { defaultOutputPath } from "../../core/quant/quantizeArgs";

export const STEP_TITLES = {
  source: "Quantize: source model",
  requantize: "Quantize: the source is already quantized",
  target: "Quantize: target type",
  recipe: "Quantize: recipe file",
  imatrix: "Quantize: importance matrix",
  imatrixFile: "Quantize: imatrix file",
  calibration: "Quantize: calibration text",
  output: "Quantize: output file",
  overwrite: "Quantize: output exists",
  start: "Quantize: ready",
  advanced: "Quantize: advanced options",
} as const;

interface Item<T> extends vscode.QuickPickItem {
  readonly value: T;
}

async function pick<T>(title: string, items: readonly Item<T>[], placeHolder?: string): Promise<T | undefined> {
  const chosen = await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true, matchOnDetail: false });
  return chosen?.value;
}

const BROWSE = Symbol("browse");
const RECIPE = Symbol("recipe");

/** Workspace files matching `glob`, then "Browse…" (an open dialog). */
async function pickWorkspaceFile(title: string, glob: string, filters: Record<string, string[]>, exclude?: (p: string) => boolean): Promise<string | undefined> {
  const found = (await vscode.workspace.findFiles(glob, "**/node_modules/**", 200)).map((u) => u.fsPath).filter((p) => !exclude?.(p)).sort();
  const items: Item<string | typeof BROWSE>[] = [
    ...found.map((p) => ({ label: path.basename(p), description: vscode.workspace.asRelativePath(path.dirname(p)), value: p })),
    { label: "$(folder-opened) Browse…", value: BROWSE },
  ];
  const chosen = await pick(title, items);
  if (chosen !== BROWSE) return chosen;
  const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters, title });
  return uris?.[0]?.fsPath;
}

export function pickSourceModel(): Promise<string | undefined> {
  return pickWorkspaceFile(STEP_TITLES.source, "**/*.gguf", { GGUF: ["gguf"] }, (p) => /imatrix/i.test(path.basename(p)));
}

export async function confirmRequantize(fileTypeName: string): Promise<boolean> {
  const yes = await pick(STEP_TITLES.requantize, [
    { label: "Cancel", description: "quantize from the F16/BF16/F32 original instead", value: false },
    { label: "Requantize anyway", description: `from ${fileTypeName}, with --allow-requantize (quality suffers)`, value: true },
  ]);
  return yes === true;
}

export type TargetChoice = { kind: "preset"; preset: QuantPreset } | { kind: "recipe"; path: string };

/** A recipe (*.quant.json) from the workspace, or "Browse…". */
export function pickRecipeFile(): Promise<string | undefined> {
  return pickWorkspaceFile(STEP_TITLES.recipe, "**/*.quant.json", { "Quantization recipe": ["json"] });
}

/**
 * Every llama-quantize type, with its description and base bits per weight; IQ types say they need
 * an imatrix. Last, "Recipe file…": per-tensor types from a *.quant.json, run by the same job.
 */
export async function pickTargetType(): Promise<TargetChoice | undefined> {
  const items: Item<QuantPreset | typeof RECIPE>[] = [
    ...QUANT_PRESETS.filter((p) => !p.aliasOf && p.name !== "COPY").map((p) => ({
      label: p.name,
      description: `${presetBaseBitsPerWeight(p).toFixed(2)} bpw${p.requiresImatrix ? " · needs an importance matrix" : ""}`,
      detail: p.description,
      value: p,
    })),
    { label: "$(file-code) Recipe file…", description: "per-tensor types from a .quant.json", value: RECIPE },
  ];
  const chosen = await pick(STEP_TITLES.target, items, "Type to filter, e.g. Q4_K_M, or Recipe");
  if (chosen === undefined) return undefined;
  if (chosen !== RECIPE) return { kind: "preset", preset: chosen };
  const file = await pickRecipeFile();
  return file ? { kind: "recipe", path: file } : undefined;
}

export type ImatrixChoice = { kind: "none" } | { kind: "file"; path: string } | { kind: "calibration"; path: string };

/** For types that need one, "None" is not offered: such a type cannot be run without an imatrix. */
export async function pickImatrix(preset: Pick<QuantPreset, "name" | "requiresImatrix">): Promise<ImatrixChoice | undefined> {
  const items: Item<ImatrixChoice["kind"]>[] = [
    ...(preset.requiresImatrix ? [] : [{ label: "None", description: "quantize without an importance matrix", value: "none" as const }]),
    { label: "Compute from a calibration text…", description: "llama-imatrix on plain text, or .jsonl chat rendered with the model's template", value: "calibration" },
    { label: "Use an existing imatrix file…", value: "file" },
  ];
  const kind = await pick(STEP_TITLES.imatrix, items, preset.requiresImatrix ? `${preset.name} needs an importance matrix` : undefined);
  if (kind === undefined) return undefined;
  if (kind === "none") return { kind };
  const file = kind === "file"
    ? await pickWorkspaceFile(STEP_TITLES.imatrixFile, "**/*imatrix*", { "imatrix": ["gguf", "dat"] })
    : await pickWorkspaceFile(STEP_TITLES.calibration, "**/*.{txt,jsonl}", { "Calibration text": ["txt", "jsonl", "md"] });
  return file ? { kind, path: file } : undefined;
}

/** `suggestion` overrides the "<model>-<TYPE>.gguf" default (a recipe run suggests "<recipe name>.gguf"). */
export async function pickOutputPath(source: string, sourceShards: readonly string[], type: string, suggestion?: string): Promise<string | undefined> {
  const suggested = suggestion ?? defaultOutputPath(source, type);
  return vscode.window.showInputBox({
    title: STEP_TITLES.output,
    value: suggested,
    valueSelection: [path.dirname(suggested).length + 1, suggested.length - ".gguf".length],
    ignoreFocusOut: true,
    prompt: "Where to write the quantized model",
    validateInput: (v) => {
      const p = path.resolve(v.trim());
      if (v.trim().length === 0) return "Give a file name";
      if (sourceShards.some((s) => path.resolve(s) === p)) return "That is the source model itself; choose another name";
      if (!p.toLowerCase().endsWith(".gguf")) return "The output should end in .gguf";
      return undefined;
    },
  }).then((v) => (v === undefined ? undefined : path.resolve(v.trim())));
}

export async function confirmOverwrite(existing: readonly string[]): Promise<boolean> {
  const yes = await pick(STEP_TITLES.overwrite, [
    { label: "Cancel", value: false },
    { label: "Overwrite", description: existing.map((p) => path.basename(p)).join(", "), value: true },
  ]);
  return yes === true;
}

export interface AdvancedOptions {
  threads?: number;
  gpuLayers?: number;
  imatrixContext?: number;
  imatrixChunks?: number;
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  pure?: boolean;
  keepSplit?: boolean;
}

export type StartChoice = "start" | "advanced";

/** Shows the dry-run estimate and free space; the user starts, opens the advanced options, or backs out. */
export function confirmStart(summary: string, detail: string, enough: boolean): Promise<StartChoice | undefined> {
  const items: Item<StartChoice>[] = [
    ...(enough ? [{ label: "$(play) Start", description: summary, detail, value: "start" as const }] : []),
    { label: "$(settings) Advanced options…", description: "threads, imatrix context/chunks/GPU layers, output/embedding types, --pure, --keep-split", value: "advanced" },
  ];
  return pick(STEP_TITLES.start, items, enough ? summary : `Not enough disk space: ${summary}`);
}

async function askNumber(title: string, prompt: string, current?: number): Promise<number | undefined | null> {
  const v = await vscode.window.showInputBox({
    title, prompt, value: current === undefined ? "" : String(current), ignoreFocusOut: true,
    validateInput: (s) => (s.trim() === "" || /^\d+$/.test(s.trim()) ? undefined : "A whole number, or empty for the default"),
  });
  if (v === undefined) return null;
  return v.trim() === "" ? undefined : Number(v.trim());
}

async function pickOverrideType(title: string, current?: string): Promise<string | undefined | null> {
  const items: Item<string | undefined>[] = [{ label: "Default", description: "as the preset decides", value: undefined }, ...OVERRIDE_TENSOR_TYPES.map((t) => ({ label: t, value: t }))];
  const chosen = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, placeHolder: current ?? "Default" });
  return chosen === undefined ? null : chosen.value;
}

/** Walks the advanced options; Escape at any step keeps what was set before it. */
export async function editAdvancedOptions(o: AdvancedOptions, isSplit: boolean): Promise<AdvancedOptions> {
  const next = { ...o };
  const threads = await askNumber(`${STEP_TITLES.advanced}: threads`, "Threads for llama-quantize and llama-imatrix (empty: all cores)", o.threads);
  if (threads === null) return next;
  next.threads = threads;
  const ctxSize = await askNumber(`${STEP_TITLES.advanced}: imatrix context`, "Tokens per imatrix chunk, -c (empty: 512)", o.imatrixContext);
  if (ctxSize === null) return next;
  next.imatrixContext = ctxSize;
  const chunks = await askNumber(`${STEP_TITLES.advanced}: imatrix chunks`, "Most chunks of the calibration text to use, --chunks (empty: all)", o.imatrixChunks);
  if (chunks === null) return next;
  next.imatrixChunks = chunks;
  const ngl = await askNumber(`${STEP_TITLES.advanced}: GPU layers for the imatrix`, "-ngl for llama-imatrix (empty: the ggufStudio.gpuOffload setting)", o.gpuLayers);
  if (ngl === null) return next;
  next.gpuLayers = ngl;
  const out = await pickOverrideType(`${STEP_TITLES.advanced}: output.weight type (--output-tensor-type)`, o.outputTensorType);
  if (out === null) return next;
  next.outputTensorType = out;
  const emb = await pickOverrideType(`${STEP_TITLES.advanced}: token embedding type (--token-embedding-type)`, o.tokenEmbeddingType);
  if (emb === null) return next;
  next.tokenEmbeddingType = emb;
  const flags = await vscode.window.showQuickPick(
    [
      { label: "--pure", description: "every tensor the same type, no k-quant mix", picked: !!o.pure },
      ...(isSplit ? [{ label: "--keep-split", description: "write the output as shards like the source", picked: !!o.keepSplit }] : []),
    ],
    { title: `${STEP_TITLES.advanced}: flags`, canPickMany: true, ignoreFocusOut: true },
  );
  if (flags === undefined) return next;
  next.pure = flags.some((f) => f.label === "--pure");
  next.keepSplit = flags.some((f) => f.label === "--keep-split");
  return next;
}
