// The optional steps of "Find Recipe for Size…": an importance matrix and a measurement budget.
// Each answers undefined when the user backs out, so the command stops without running anything.
import * as vscode from "vscode";
import type { OptimizationPlan } from "../../core/quant/optimizerRun";

export const OPTIMIZE_TITLES = { imatrix: "Find recipe: importance matrix", measure: "Find recipe: measurement budget", limit: "Find recipe: measurement limit" } as const;

/** null: no imatrix (the default); a path; undefined: cancelled. */
export async function askImatrix(): Promise<string | null | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: "No importance matrix", description: "default", detail: "k-quant candidates; what the benchmark's defaults use", value: "none" as const },
      { label: "Importance matrix file…", detail: "every probe and the result use it; adds IQ2/IQ3 candidates (for tensors it has data for)", value: "file" as const },
    ],
    { title: OPTIMIZE_TITLES.imatrix, ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  if (picked.value === "none") return null;
  const file = await vscode.window.showOpenDialog({ title: "Importance matrix (llama-imatrix output)", filters: { Imatrix: ["gguf", "dat"] } });
  return file?.[0]?.fsPath;
}

/** What the probe count is made of, for the chosen design. */
function designText(plan: OptimizationPlan): string {
  const g = plan.groups.length;
  const t = plan.types.length;
  if (plan.design === "sparse") return `probe engine: ${g} groups at one type + each of ${t - 1} other types on 2 groups + ≤10 in context (types ${plan.types.join(", ")})`;
  return `${plan.design === "grid" ? "probe engine" : "llama-quantize + llama-perplexity per probe"}: ${g} tensor groups × ${plan.types.join(", ")}`;
}

/** The limit on measurements; `{}` means measure everything the plan needs. */
export async function askMeasurementBudget(plan: OptimizationPlan): Promise<{ maxEvaluations?: number; maxMs?: number } | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: `All ${plan.probes} probes`, description: "no limit", detail: `${designText(plan)}; cached, so a rerun resumes`, value: "all" as const },
      { label: "At most N evaluations…", detail: "groups left unmeasured borrow estimates from measured ones of the same kind", value: "evals" as const },
      { label: "At most N minutes…", detail: "probing and refinement stop at the limit; the result is still verified", value: "minutes" as const },
    ],
    { title: OPTIMIZE_TITLES.measure, placeHolder: `A run from scratch makes ${plan.probes} probe evaluations`, ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  if (picked.value === "all") return {};
  const text = await vscode.window.showInputBox({
    title: OPTIMIZE_TITLES.limit, ignoreFocusOut: true,
    prompt: picked.value === "evals" ? `Most probe evaluations to make (of ${plan.probes})` : "Most minutes to spend measuring",
    validateInput: (v) => (/^\s*\d+\s*$/.test(v) && Number(v) > 0 ? undefined : "A whole number above 0"),
  });
  if (text === undefined) return undefined;
  return picked.value === "evals" ? { maxEvaluations: Number(text) } : { maxMs: Number(text) * 60_000 };
}
