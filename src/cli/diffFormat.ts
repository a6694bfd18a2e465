// Renders a model diff for `gguf-studio diff`: plain text, Markdown tables, or JSON.
import type { ModelDiff, SizeRow } from "../core/models/modelDiff";
import { llamaFileTypeName } from "../core/gguf/ggmlTypes";
import { formatBytes } from "../shared/formatBytes";

const bpw = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
const signedBytes = (n: number) => (n === 0 ? "0" : `${n > 0 ? "+" : "−"}${formatBytes(Math.abs(n))}`);
const shape = (s: readonly number[] | undefined) => (s ? `[${s.join(", ")}]` : "–");
const fileType = (n: number | undefined) => (n === undefined ? "–" : llamaFileTypeName(n).replace(/^MOSTLY_|^ALL_/, ""));
/** Rows of a size table that changed (all rows when `all`). */
const changed = (rows: readonly SizeRow[], all: boolean) => (all ? rows : rows.filter((r) => r.deltaBytes !== 0 || r.bpwA !== r.bpwB));

export function diffToJson(d: ModelDiff): string {
  return JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
}

function headerLines(d: ModelDiff): string[] {
  return [
    `A  ${d.a.path}  ${d.a.architecture ?? "?"}, ${d.a.layerCount} layers, ${d.a.tensorCount} tensors, ${formatBytes(d.a.tensorBytes)}, ${bpw(d.a.bitsPerWeight)} bpw, ${fileType(d.a.fileType)}${d.a.shards > 1 ? `, ${d.a.shards} shards` : ""}`,
    `B  ${d.b.path}  ${d.b.architecture ?? "?"}, ${d.b.layerCount} layers, ${d.b.tensorCount} tensors, ${formatBytes(d.b.tensorBytes)}, ${bpw(d.b.bitsPerWeight)} bpw, ${fileType(d.b.fileType)}${d.b.shards > 1 ? `, ${d.b.shards} shards` : ""}`,
    `tensor data ${signedBytes(d.b.tensorBytes - d.a.tensorBytes)} (B − A)`,
  ];
}

export function diffToText(d: ModelDiff, options: { all?: boolean } = {}): string {
  const out = [...headerLines(d), ""];
  out.push(`metadata: ${d.metadata.length} difference${d.metadata.length === 1 ? "" : "s"}, ${d.metadataSame} keys equal`);
  for (const m of d.metadata) {
    if (m.status === "added") out.push(`  + ${m.key} = ${m.b}`);
    else if (m.status === "removed") out.push(`  - ${m.key} = ${m.a}`);
    else out.push(`  ~ ${m.key}: ${m.a} → ${m.b}`);
  }
  out.push("");
  if (!d.alignable) {
    out.push(`tensors: not alignable: ${d.notAlignableReason}`);
    return out.join("\n") + "\n";
  }
  out.push(`tensors: ${d.tensors.length} differ, ${d.tensorsSame} identical in type and shape`);
  for (const t of d.tensors) {
    if (t.status === "only-a") out.push(`  - ${t.name} ${t.typeA} ${shape(t.shapeA)} (only in A)`);
    else if (t.status === "only-b") out.push(`  + ${t.name} ${t.typeB} ${shape(t.shapeB)} (only in B)`);
    else out.push(`  ~ ${t.name}: ${t.typeA}${t.status !== "type" ? ` ${shape(t.shapeA)}` : ""} → ${t.typeB}${t.status !== "type" ? ` ${shape(t.shapeB)}` : ""}`);
  }
  for (const [title, rows] of [["per kind", d.byKind], ["per layer", d.byLayer]] as const) {
    const shown = changed(rows, options.all ?? false);
    out.push("", `${title}${options.all ? "" : ` (${shown.length} of ${rows.length} differ; --all shows every row)`}:`);
    const w = Math.max(8, ...shown.map((r) => r.group.length));
    out.push(`  ${"group".padEnd(w)}  ${"A bytes".padStart(10)}  ${"A bpw".padStart(6)}  ${"B bytes".padStart(10)}  ${"B bpw".padStart(6)}  ${"delta".padStart(11)}`);
    for (const r of shown) {
      out.push(`  ${r.group.padEnd(w)}  ${formatBytes(r.bytesA).padStart(10)}  ${bpw(r.bpwA).padStart(6)}  ${formatBytes(r.bytesB).padStart(10)}  ${bpw(r.bpwB).padStart(6)}  ${signedBytes(r.deltaBytes).padStart(11)}`);
    }
  }
  return out.join("\n") + "\n";
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function diffToMarkdown(d: ModelDiff, options: { all?: boolean } = {}): string {
  const out = ["# GGUF diff", "", "| | file | architecture | layers | tensors | tensor data | bpw | file type |", "|---|---|---|---|---|---|---|---|"];
  for (const [label, s] of [["A", d.a], ["B", d.b]] as const) {
    out.push(`| ${label} | \`${cell(s.path)}\` | ${s.architecture ?? "?"} | ${s.layerCount} | ${s.tensorCount} | ${formatBytes(s.tensorBytes)} | ${bpw(s.bitsPerWeight)} | ${fileType(s.fileType)} |`);
  }
  out.push("", `## Metadata (${d.metadata.length} differences, ${d.metadataSame} keys equal)`, "");
  if (d.metadata.length > 0) {
    out.push("| key | change | A | B |", "|---|---|---|---|");
    for (const m of d.metadata) out.push(`| \`${cell(m.key)}\` | ${m.status} | ${cell(m.a ?? "")} | ${cell(m.b ?? "")} |`);
  }
  out.push("", "## Tensors", "");
  if (!d.alignable) {
    out.push(`Not alignable: ${d.notAlignableReason}.`);
    return out.join("\n") + "\n";
  }
  out.push(`${d.tensors.length} differ, ${d.tensorsSame} identical in type and shape.`, "");
  if (d.tensors.length > 0) {
    out.push("| tensor | change | A type | B type | A shape | B shape |", "|---|---|---|---|---|---|");
    for (const t of d.tensors) out.push(`| \`${t.name}\` | ${t.status} | ${t.typeA ?? "–"} | ${t.typeB ?? "–"} | ${shape(t.shapeA)} | ${shape(t.shapeB)} |`);
  }
  for (const [title, rows] of [["Per kind", d.byKind], ["Per layer", d.byLayer]] as const) {
    const shown = changed(rows, options.all ?? false);
    out.push("", `## ${title}${options.all ? "" : ` (${shown.length} of ${rows.length} rows differ)`}`, "", "| group | A bytes | A bpw | B bytes | B bpw | delta |", "|---|---:|---:|---:|---:|---:|");
    for (const r of shown) out.push(`| ${r.group} | ${r.bytesA} | ${bpw(r.bpwA)} | ${r.bytesB} | ${bpw(r.bpwB)} | ${r.deltaBytes > 0 ? "+" : ""}${r.deltaBytes} |`);
  }
  return out.join("\n") + "\n";
}
