// Reads and validates a *.quant.json recipe. Every problem names its JSON path so the editor and
// the CLI can point at it. Patterns are checked against what llama-quantize's tensor-type file can
// carry (it splits on whitespace, cuts at the first '=', and lowercases the pattern).
import { ggmlTypeByName } from "../gguf/ggmlTypes";
import { nestedQuantifierProblem } from "./regexSafety";
import { QuantRecipe, RecipeError, RecipeProblem, RecipeRule, RECIPE_FORMAT_VERSION } from "./recipeTypes";

/** Types a recipe may ask for: every type llama-quantize can write. */
export const RECIPE_TYPES = [
  "F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K", "Q5_1", "Q5_0", "Q4_K", "Q4_1", "Q4_0", "IQ4_XS", "IQ4_NL",
  "Q3_K", "IQ3_S", "IQ3_XXS", "Q2_K", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S", "TQ2_0", "TQ1_0", "MXFP4",
] as const;

const UNQUANTIZED = new Set(["F32", "F16", "BF16"]);

export function isRecipeType(name: string): boolean {
  return (RECIPE_TYPES as readonly string[]).includes(name.toUpperCase());
}

/** Canonical upper-case spelling, or undefined when the type is unknown to recipes. */
export function canonicalRecipeType(name: string): string | undefined {
  const t = ggmlTypeByName(name);
  return t && isRecipeType(t.name) ? t.name : undefined;
}

/** Problems with a single pattern, or undefined when llama-quantize and JS read it the same way. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "pattern is empty";
  if (/\s/.test(pattern)) return "pattern contains whitespace, which llama-quantize's tensor-type file cannot hold";
  if (pattern.includes("=")) return "pattern contains '=', which llama-quantize reads as the type separator";
  if (/[A-Z]/.test(pattern)) {
    return "pattern contains upper-case letters; llama-quantize lowercases patterns (so \\S or \\D would change meaning) and tensor names are lower-case";
  }
  if (/\(\?<[=!]/.test(pattern)) return "lookbehind is not supported by llama-quantize's std::regex";
  if (/\(\?</.test(pattern)) return "named groups are not supported by llama-quantize's std::regex";
  const nested = nestedQuantifierProblem(pattern);
  if (nested) return nested;
  try {
    new RegExp(pattern);
  } catch (e) {
    return `invalid regex: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const TOP_KEYS = new Set(["$schema", "version", "name", "model", "baseType", "rules", "imatrix", "calibration", "notes", "generatedBy"]);
const RULE_KEYS = new Set(["pattern", "type", "note"]);

/** Validates parsed JSON; returns the recipe (when there are no errors) and all problems. */
export function validateRecipe(value: unknown): { recipe?: QuantRecipe; problems: RecipeProblem[] } {
  const problems: RecipeProblem[] = [];
  const err = (path: string, message: string) => problems.push({ severity: "error", path, message });
  const warn = (path: string, message: string) => problems.push({ severity: "warning", path, message });
  if (!isObject(value)) {
    err("$", "a recipe must be a JSON object");
    return { problems };
  }
  for (const k of Object.keys(value)) if (!TOP_KEYS.has(k)) warn(k, `unknown property "${k}" is ignored`);
  const version = value.version ?? RECIPE_FORMAT_VERSION;
  if (version !== RECIPE_FORMAT_VERSION) err("version", `unsupported recipe version ${JSON.stringify(version)} (expected ${RECIPE_FORMAT_VERSION})`);

  let baseType = "";
  if (typeof value.baseType !== "string") err("baseType", "baseType is required (a quantized ggml type such as Q4_K)");
  else {
    const t = canonicalRecipeType(value.baseType);
    if (!t) err("baseType", `unknown type "${value.baseType}" (expected one of ${RECIPE_TYPES.join(", ")})`);
    else if (UNQUANTIZED.has(t)) err("baseType", `baseType must be a quantized type; llama-quantize ignores tensor types when the base is ${t}`);
    else baseType = t;
  }

  const rules: RecipeRule[] = [];
  if (value.rules !== undefined && !Array.isArray(value.rules)) err("rules", "rules must be an array");
  const rawRules: unknown[] = Array.isArray(value.rules) ? value.rules : [];
  rawRules.forEach((r, i) => {
    const at = `rules[${i}]`;
    if (!isObject(r)) return err(at, "a rule must be an object {pattern, type}");
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) warn(`${at}.${k}`, `unknown property "${k}" is ignored`);
    if (typeof r.pattern !== "string") return err(`${at}.pattern`, "pattern must be a string");
    const pp = patternProblem(r.pattern);
    if (pp) err(`${at}.pattern`, pp);
    if (typeof r.type !== "string") return err(`${at}.type`, "type must be a string");
    const t = canonicalRecipeType(r.type);
    if (!t) return err(`${at}.type`, `unknown type "${r.type}" (expected one of ${RECIPE_TYPES.join(", ")})`);
    if (r.note !== undefined && typeof r.note !== "string") warn(`${at}.note`, "note must be a string; ignored");
    rules.push(typeof r.note === "string" ? { pattern: r.pattern, type: t, note: r.note } : { pattern: r.pattern, type: t });
  });

  for (const key of ["name", "model", "imatrix", "calibration", "notes"] as const) {
    if (value[key] !== undefined && typeof value[key] !== "string") err(key, `${key} must be a string`);
  }
  if (value.generatedBy !== undefined && !isObject(value.generatedBy)) err("generatedBy", "generatedBy must be an object");
  if (problems.some((p) => p.severity === "error")) return { problems };

  const recipe: QuantRecipe = {
    ...(typeof value.$schema === "string" ? { $schema: value.$schema } : {}),
    version: RECIPE_FORMAT_VERSION,
    ...(typeof value.name === "string" ? { name: value.name } : {}),
    ...(typeof value.model === "string" ? { model: value.model } : {}),
    baseType,
    rules,
    ...(typeof value.imatrix === "string" ? { imatrix: value.imatrix } : {}),
    ...(typeof value.calibration === "string" ? { calibration: value.calibration } : {}),
    ...(typeof value.notes === "string" ? { notes: value.notes } : {}),
    ...(isObject(value.generatedBy) ? { generatedBy: value.generatedBy } : {}),
  };
  return { recipe, problems };
}

/** Parses recipe text; throws RecipeError (with every problem) when it is not a valid recipe. */
export function parseRecipe(text: string, source?: string): { recipe: QuantRecipe; warnings: RecipeProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecipeError([{ severity: "error", path: "$", message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }], source);
  }
  const { recipe, problems } = validateRecipe(json);
  if (!recipe) throw new RecipeError(problems, source);
  return { recipe, warnings: problems.filter((p) => p.severity === "warning") };
}

/** Stable, readable JSON for saving (2-space indent, trailing newline). */
export function serializeRecipe(recipe: QuantRecipe): string {
  return JSON.stringify(recipe, null, 2) + "\n";
}
