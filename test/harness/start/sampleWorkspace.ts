// The workspace `npm start` opens: the two fixture models, a stock Q4_K_M of tiny-llama, a recipe
// (*.quant.json) and the quant it makes, and KLD results for both, so the Models view, the
// inspector, the recipe editor and the KLD chart have something to show at once. Made once with the
// CLI (`node dist/cli.js quantize|kld`, the same core the extension runs) and cached in .studio/.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fixturesDir, repoRoot } from "../paths";

/** Bump when the sample's contents change, so caches made by an older version are rebuilt. */
const SAMPLE_VERSION = 1;

export const studioDir = path.join(repoRoot, ".studio");
export const sampleFolder = path.join(studioDir, "samples");
/** KLD results of the sample quants, copied into each run's throw-away extension storage. */
export const sampleKldResults = path.join(studioDir, "kld-results");
const stampFile = path.join(studioDir, "samples.json");

const BASE = "tiny-llama-f16.gguf";
const STOCK = "tiny-llama-Q4_K_M.gguf";
const RECIPE = "tiny-llama-mix.quant.json";
const RECIPE_QUANT = "tiny-llama-mix.gguf";
const EVAL_TEXT = "code-eval.txt";

/** A Dynamic-style mix for tiny-llama's 6 layers, written the way a user would in the recipe editor. */
const recipe = {
  version: 1,
  name: "tiny-llama mix (sample)",
  model: BASE,
  baseType: "Q4_K",
  rules: [
    { pattern: "^token_embd\\.weight$", type: "Q5_K", note: "embeddings one step higher" },
    { pattern: "^output\\.weight$", type: "Q6_K", note: "output (lm_head) two steps higher" },
    { pattern: "\\.attn_v\\.", type: "Q5_K", note: "attn_v one step higher (as llama.cpp's mixes)" },
    { pattern: "^blk\\.(0|5)\\.ffn_down", type: "Q6_K", note: "ffn_down of the first and last layers higher" },
  ],
  notes: "Sample recipe made by `npm start`. Open it with GGUF Studio: Open Recipe Editor.",
};

const readme = `# GGUF Studio samples

Made by \`npm start\` (cached in \`.studio/\`; delete that folder to make them again).

- \`${BASE}\`, \`tiny-moe-f16.gguf\`: the test fixtures (tiny random-weight models, F16).
- \`${STOCK}\`: \`gguf-studio quantize ${BASE} ${STOCK} Q4_K_M\`.
- \`${RECIPE}\` and \`${RECIPE_QUANT}\`: a per-tensor recipe and the quant it makes.
- \`code-calib.txt\` / \`${EVAL_TEXT}\`: calibration and held-out evaluation text.

Try: click a model in the GGUF Studio view (inspector), right-click \`${RECIPE}\` → Open Recipe Editor,
or run **GGUF Studio: Open KLD Chart** (both quants were measured against the F16 base).
`;

interface Stamp {
  version: number;
  fixtures: string;
  kld: boolean;
}

function expectedStamp(): Omit<Stamp, "kld"> {
  const sums = fs.readFileSync(path.join(fixturesDir, "SHA256SUMS"), "utf8");
  return { version: SAMPLE_VERSION, fixtures: crypto.createHash("sha256").update(sums).digest("hex").slice(0, 16) };
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(fs.readFileSync(stampFile, "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

function cacheIsCurrent(): boolean {
  const stamp = readStamp();
  const want = expectedStamp();
  return !!stamp && stamp.version === want.version && stamp.fixtures === want.fixtures &&
    [BASE, STOCK, RECIPE, RECIPE_QUANT].every((f) => fs.existsSync(path.join(sampleFolder, f)));
}

/** Runs `node dist/cli.js ARGS` in `cwd`; its stderr progress goes to `say`, a failure throws with its output. */
function runCli(args: string[], cwd: string, say: (line: string) => void): Promise<void> {
  const cli = path.join(repoRoot, "dist", "cli.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split("\n")) if (line.trim()) say(`  ${line.trim()}`);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`gguf-studio ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`)),
    );
  });
}

async function makeModels(folder: string, say: (line: string) => void): Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  for (const entry of fs.readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!entry.isFile() || !/\.(gguf|txt)$/.test(entry.name)) continue;
    const dest = path.join(folder, entry.name);
    fs.copyFileSync(path.join(fixturesDir, entry.name), dest);
    // Fixtures are checked in read-only; the copies are the user's to play with.
    fs.chmodSync(dest, 0o644);
  }
  fs.writeFileSync(path.join(folder, RECIPE), JSON.stringify(recipe, null, 2) + "\n");
  fs.writeFileSync(path.join(folder, "README.md"), readme);
  say(`making ${STOCK} (llama-quantize Q4_K_M)`);
  await runCli(["quantize", BASE, STOCK, "Q4_K_M"], folder, say);
  say(`making ${RECIPE_QUANT} from ${RECIPE}`);
  await runCli(["quantize", BASE, RECIPE_QUANT, "--recipe", RECIPE], folder, say);
}

/**
 * The sample folder, made on first use (a few seconds: two quantizations of a 13 MB model and one
 * short llama-perplexity KLD run). Models are built in a side folder and renamed into place, so an
 * interrupted first run leaves no half-made sample; the stamp, written last, marks it complete.
 */
export async function ensureSampleWorkspace(say: (line: string) => void): Promise<{ folder: string; kldResults?: string }> {
  if (cacheIsCurrent()) {
    return { folder: sampleFolder, ...(readStamp()?.kld ? { kldResults: sampleKldResults } : {}) };
  }
  if (!fs.existsSync(path.join(repoRoot, "dist", "cli.js"))) throw new Error("dist/cli.js is missing: run `node esbuild.mjs` (npm start builds it first)");
  say(`making the sample workspace in ${path.relative(repoRoot, sampleFolder)}/ (once)`);
  fs.mkdirSync(studioDir, { recursive: true });
  for (const stale of [stampFile, sampleFolder, sampleKldResults]) fs.rmSync(stale, { recursive: true, force: true });
  const partial = path.join(studioDir, `samples.partial-${process.pid}`);
  try {
    await makeModels(partial, say);
    fs.renameSync(partial, sampleFolder);
  } catch (e) {
    fs.rmSync(partial, { recursive: true, force: true });
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(/not found/.test(message) ? `${message}\nThe sample models need the llama.cpp tools: run \`npm run setup\`.` : message);
  }

  // The chart's points: cheap here (8 chunks of 128 tokens), and optional: a failure only leaves the chart empty.
  let kld = false;
  const partialResults = `${sampleKldResults}.partial-${process.pid}`;
  try {
    say("measuring KLD of both quants against the F16 base (llama-perplexity)");
    await runCli(["kld", BASE, STOCK, RECIPE_QUANT, "--text", EVAL_TEXT, "--ctx", "128", "--chunks", "8", "--store", partialResults], sampleFolder, say);
    fs.renameSync(partialResults, sampleKldResults);
    kld = true;
  } catch (e) {
    fs.rmSync(partialResults, { recursive: true, force: true });
    say(`warning: no KLD results for the chart: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  fs.writeFileSync(stampFile, JSON.stringify({ ...expectedStamp(), kld } satisfies Stamp, null, 2));
  return { folder: sampleFolder, ...(kld ? { kldResults: sampleKldResults } : {}) };
}
