// gguf_inspect: a model's facts and tensor-type tables from its header, capped for a chat context.
import { readGgufModel, summarizeGguf } from "../gguf";
import { formatBytes } from "../../shared/formatBytes";
import { displayName } from "../../shared/displayText";
import type { AgentToolEnv } from "./agentToolEnv";
import { markdownTable } from "./boundedText";
import { allowedExistingFile } from "./pathPolicy";
import { asToolInput, optionalInteger, requiredString } from "./toolInput";

const count = (n: number) => n.toLocaleString("en-US");
const bpw = (b: number | undefined) => (b === undefined ? "?" : b.toFixed(2));

export async function inspectForAgent(rawInput: unknown, env: AgentToolEnv): Promise<string> {
  const input = asToolInput(rawInput, ["path", "maxRows"]);
  const file = allowedExistingFile(requiredString(input, "path"), env.roots, env.baseDir, "Model");
  const maxRows = optionalInteger(input, "maxRows", 1, 200, 40);
  const model = await readGgufModel(file);
  const s = summarizeGguf(model);
  const a = s.architecture;
  const fileBytes = model.shards.reduce((n, x) => n + x.fileSize, 0);
  const facts: [string, string | number | readonly number[] | undefined][] = [
    ["architecture", a.architecture && displayName(a.architecture)],
    ["name", a.name && displayName(a.name)],
    ["file type", a.fileTypeName && `${a.fileTypeName} (${a.fileType})`],
    ["parameters", count(s.parameterCount)],
    ["file size", `${formatBytes(fileBytes)}${model.isSplit ? ` in ${model.shards.length} shards` : ""}`],
    ["bits per weight", bpw(s.bitsPerWeight)],
    ["tensors", count(s.tensorCount)],
    ["context length", a.contextLength],
    ["layers", a.blockCount],
    ["embedding size", a.embeddingLength],
    ["heads / kv heads", a.headCount !== undefined ? `${String(a.headCount)} / ${String(a.headCountKv ?? "?")}` : undefined],
    ["experts (used)", a.expertCount !== undefined ? `${a.expertCount} (${a.expertUsedCount ?? "?"})` : undefined],
    ["vocabulary size", a.vocabSize],
    ["chat template", a.chatTemplatePresent ? a.chatTemplateNames.map((n) => displayName(n)).join(", ") : "none"],
  ];
  const out = [`# ${displayName(file, 300)}`, ""];
  for (const [k, v] of facts) if (v !== undefined) out.push(`- ${k}: ${Array.isArray(v) ? v.join(",") : String(v)}`);
  if (s.unknownTypeTensorCount > 0) out.push(`- tensors of unknown type: ${s.unknownTypeTensorCount}`);
  out.push("", "## Tensor types", "");
  const total = s.tensorBytes || 1;
  out.push(markdownTable(["type", "tensors", "parameters", "bytes", "share"],
    s.typeHistogram.map((h) => [h.typeName, count(h.tensorCount), count(h.elementCount), formatBytes(h.bytes), `${((h.bytes / total) * 100).toFixed(1)}%`]), maxRows));
  out.push("", "## Bits per weight by tensor kind", "");
  out.push(markdownTable(["kind", "tensors", "bytes", "bpw", "types"],
    s.byKind.map((g) => [displayName(g.group, 60), count(g.tensorCount), formatBytes(g.bytes), bpw(g.bitsPerWeight), Object.entries(g.types).map(([t, n]) => `${t}×${n}`).join(" ")]), maxRows));
  return out.join("\n");
}
