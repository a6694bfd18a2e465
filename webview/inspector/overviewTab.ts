// Overview: the facts a user wants first, the quant-mix bar and warnings.
import type { InspectorModel, QuantEvalSummary } from "../../src/shared/inspectorProtocol";
import { clear, el } from "./dom";
import { typeMapSection } from "./overviewMap";
import { formatBpw, formatBytes, formatCount, formatShort, typeColour } from "./format";

/** Each fact carries its raw value in data-value so tests compare numbers, not formatting. */
function fact(id: string, label: string, text: string, raw: string | number | undefined): HTMLElement {
  return el(
    "div",
    { class: "fact", "data-fact": id, "data-value": raw === undefined ? "" : String(raw) },
    el("div", { class: "fact-label" }, label),
    el("div", { class: "fact-value" }, text),
  );
}

export function renderOverview(root: HTMLElement, m: InspectorModel): void {
  clear(root);
  const o = m.overview;
  const dash = "—";
  // A preview has not read every tensor yet: those figures show as pending, with no data-value.
  const pending = "…";
  const p = o.partial === true;
  const facts = el(
    "div",
    { class: "facts" },
    fact("architecture", "Architecture", o.architecture ?? dash, o.architecture),
    fact("name", "Name", o.modelName ?? dash, o.modelName),
    p ? fact("parameters", "Parameters", pending, undefined) : fact("parameters", "Parameters", `${formatShort(o.parameterCount)} (${formatCount(o.parameterCount)})`, o.parameterCount),
    p && o.isSplit
      ? fact("file-size", "File size", pending, undefined)
      : fact("file-size", "File size", `${formatBytes(o.fileSize)}${o.isSplit ? ` in ${o.shardPaths.length} shards` : ""}`, o.fileSize),
    fact("file-type", "File type", o.fileTypeName?.replace(/^MOSTLY_/, "") ?? dash, o.fileTypeName),
    p ? fact("bpw", "Bits per weight", pending, undefined) : fact("bpw", "Bits per weight", formatBpw(o.bitsPerWeight), o.bitsPerWeight),
    fact("context-length", "Context length", o.contextLength === undefined ? dash : formatCount(o.contextLength), o.contextLength),
    fact("layers", "Layers", o.layerCount === undefined ? dash : String(o.layerCount), o.layerCount),
    fact("experts", "Experts", o.expertCount === undefined ? dash : `${o.expertCount}${o.expertUsedCount ? ` (${o.expertUsedCount} used)` : ""}`, o.expertCount),
    fact("vocab-size", "Vocabulary", o.vocabSize === undefined ? dash : formatCount(o.vocabSize), o.vocabSize),
    p && o.isSplit ? fact("tensor-count", "Tensors", pending, undefined) : fact("tensor-count", "Tensors", formatCount(o.tensorCount), o.tensorCount),
    fact("gguf-version", "GGUF version", String(o.ggufVersion), o.ggufVersion),
  );

  const warnings = el("div", { class: "warnings", id: "overview-warnings" });
  for (const w of o.warnings) warnings.append(el("div", { class: "warning", "data-code": w.code }, el("span", { class: "codicon-warn" }, "⚠"), ` ${w.message}`));

  const mix = p ? el("section", { class: "mix" }, el("h3", {}, "Quant mix (bytes per tensor type)"), el("div", { class: "mix-pending" }, `${pending} reading tensor infos`)) : quantMix(m);
  const evaluation = el("section", { class: "evaluation", id: "overview-eval" });
  root.append(el("h2", { class: "title" }, o.fileName), el("div", { class: "path", title: o.path }, o.shardPaths.join("\n")), warnings, facts, evaluation, mix, typeMapSection());
  fillEvaluation(evaluation);
}

let lastEval: QuantEvalSummary | undefined;

/** Results arrive after the model; kept so a re-rendered Overview shows them again. */
export function setEvalSummary(summary: QuantEvalSummary | undefined): void {
  lastEval = summary;
  const slot = document.getElementById("overview-eval");
  if (slot) fillEvaluation(slot);
}

function fillEvaluation(slot: HTMLElement): void {
  clear(slot);
  const s = lastEval;
  if (!s) return;
  const pct = (v: number) => `${v.toFixed(2)}%`;
  const facts = el("div", { class: "facts" });
  if (s.meanKld !== undefined) facts.append(fact("eval-mean-kld", "Mean KLD", s.meanKld.toFixed(6), s.meanKld));
  if (s.sameTopP !== undefined) facts.append(fact("eval-same-top-p", "Same top p", pct(s.sameTopP), s.sameTopP));
  if (s.accuracy !== undefined) {
    const vsBase = s.baseAccuracy !== undefined ? ` (base ${pct(s.baseAccuracy)})` : "";
    facts.append(fact("eval-accuracy", "Accuracy", `${pct(s.accuracy)} ± ${(s.accuracyError ?? 0).toFixed(2)}${vsBase}`, s.accuracy));
  }
  if (s.flipsPercent !== undefined) facts.append(fact("eval-flips", "Flips vs base", pct(s.flipsPercent), s.flipsPercent));
  if (s.efficiency !== undefined) facts.append(fact("eval-efficiency", "Efficiency", `${s.efficiency.toFixed(2)}${s.baseEfficiency !== undefined ? ` (base ${s.baseEfficiency.toFixed(2)})` : ""}`, s.efficiency));
  if (s.divergence !== undefined) facts.append(fact("eval-divergence", `Divergence@${s.divergenceTokens ?? "?"} exact`, pct(s.divergence), s.divergence));
  slot.append(el("h3", {}, s.isBase ? "Evaluation (as a base model)" : `Evaluation against ${s.baseName}`), facts, el("div", { class: "eval-when" }, `measured ${s.measuredAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}`));
}

function quantMix(m: InspectorModel): HTMLElement {
  const mix = m.overview.typeMix;
  const total = mix.reduce((s, e) => s + e.bytes, 0);
  const bar = el("div", { class: "mix-bar", id: "quant-mix-bar", role: "img", "aria-label": "Bytes per tensor type" });
  const legend = el("table", { class: "mix-legend" });
  legend.append(el("tr", {}, el("th", {}, "Type"), el("th", {}, "Tensors"), el("th", {}, "Bytes"), el("th", {}, "Share"), el("th", {}, "bpw")));
  for (const e of mix) {
    const share = total > 0 ? e.bytes / total : 0;
    const colour = typeColour(e.typeName, e.typeBitsPerWeight);
    const seg = el("div", { class: "mix-seg", "data-type": e.typeName, "data-bytes": String(e.bytes), title: `${e.typeName}: ${formatBytes(e.bytes)} (${(share * 100).toFixed(1)}%)` });
    seg.style.width = `${(share * 100).toFixed(3)}%`;
    seg.style.background = colour;
    if (share > 0.06) seg.textContent = e.typeName;
    bar.append(seg);
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = colour;
    legend.append(
      el(
        "tr",
        { "data-type": e.typeName },
        el("td", {}, swatch, e.typeName),
        el("td", { class: "num" }, formatCount(e.tensorCount)),
        el("td", { class: "num" }, formatBytes(e.bytes)),
        el("td", { class: "num" }, `${(share * 100).toFixed(1)}%`),
        el("td", { class: "num" }, formatBpw(e.typeBitsPerWeight)),
      ),
    );
  }
  return el("section", { class: "mix" }, el("h3", {}, "Quant mix (bytes per tensor type)"), bar, legend);
}
