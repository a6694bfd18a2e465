// gguf_list_models: the models under the roots (workspace and model folders, caches), capped.
import { displayName } from "../../shared/displayText";
import { formatBytes } from "../../shared/formatBytes";
import { scanForGguf } from "../models/folderScan";
import { groupModelFiles, type ModelGroup } from "../models/modelCatalog";
import type { AgentToolEnv } from "./agentToolEnv";
import { markdownTable } from "./boundedText";
import { asToolInput, optionalInteger, optionalString } from "./toolInput";

export async function listModelsForAgent(rawInput: unknown, env: AgentToolEnv): Promise<string> {
  const input = asToolInput(rawInput, ["filter", "maxModels"]);
  const filter = optionalString(input, "filter", 200)?.toLowerCase();
  const maxModels = optionalInteger(input, "maxModels", 1, 500, 100);
  const sources = env.listRoots ? await env.listRoots() : env.roots.map((root) => ({ label: root, root }));
  const rows: { source: string; model: ModelGroup }[] = [];
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const source of sources) {
    if (env.signal?.aborted) break;
    const scan = await scanForGguf(source.root, { signal: env.signal });
    if (scan.unreadable.length > 0) notes.push(`${scan.unreadable.length} unreadable folder(s) under ${displayName(source.root)} skipped`);
    for (const model of groupModelFiles(scan.files)) {
      if (seen.has(model.id)) continue;
      seen.add(model.id);
      if (filter && !model.id.toLowerCase().includes(filter)) continue;
      rows.push({ source: source.label, model });
    }
  }
  rows.sort((a, b) => a.model.id.localeCompare(b.model.id));
  const searched = sources.map((s) => displayName(s.root, 200));
  const lines = [`${rows.length} model(s)${filter ? ` matching "${displayName(filter, 60)}"` : ""} in ${sources.length} folder(s): ${searched.slice(0, 10).join(", ")}${searched.length > 10 ? ", …" : ""}`, ""];
  if (rows.length > 0) {
    lines.push(markdownTable(["path", "size", "shards", "source"], rows.map(({ source, model }) => [
      displayName(model.id, 300), formatBytes(model.totalSize),
      model.isSplit ? `${model.shards.length}/${model.expectedShards}${model.missingShards.length ? " (incomplete)" : ""}` : "1", displayName(source, 60),
    ]), maxModels));
  }
  lines.push(...notes);
  return lines.join("\n");
}
