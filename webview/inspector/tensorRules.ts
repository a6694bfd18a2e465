// "Copy as llama-quantize --tensor-type rules": turns a selection of tensors into regex=TYPE rules
// that reproduce their current types. llama-quantize matches each pattern with std::regex_search
// on the lower-cased pattern, so patterns are anchored and use no upper-case escapes.

export interface RuleTensor {
  readonly name: string;
  readonly layer: number; // -1 for non-layer tensors
  readonly typeName: string;
}

const LAYER_RE = /(^|\.)blk\.(\d+)\./;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The name with its layer number taken out, as a key shared by the same tensor in every layer. */
function layerTemplate(name: string): { before: string; after: string } | undefined {
  const m = LAYER_RE.exec(name);
  if (!m) return undefined;
  const start = m.index + m[1].length;
  return { before: name.slice(0, start), after: name.slice(start + m[0].length - m[1].length) };
}

/**
 * One `pattern=TYPE` per (tensor template, type). When the selection holds a template in every
 * layer where the model has it, the rule uses `\d+` instead of listing layers.
 */
export function tensorTypeRules(selected: readonly RuleTensor[], all: readonly RuleTensor[]): string[] {
  const layersInModel = new Map<string, Set<number>>();
  for (const t of all) {
    const tpl = layerTemplate(t.name);
    if (!tpl) continue;
    const key = `${tpl.before}\u0000${tpl.after}`;
    let s = layersInModel.get(key);
    if (!s) layersInModel.set(key, (s = new Set()));
    s.add(t.layer);
  }
  const groups = new Map<string, { before: string; after: string; type: string; layers: Set<number> }>();
  const rules: string[] = [];
  for (const t of selected) {
    const tpl = layerTemplate(t.name);
    if (!tpl) {
      rules.push(`^${escapeRegex(t.name)}$=${t.typeName}`);
      continue;
    }
    const key = `${tpl.before}\u0000${tpl.after}\u0000${t.typeName}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { before: tpl.before, after: tpl.after, type: t.typeName, layers: new Set() }));
    g.layers.add(t.layer);
  }
  for (const g of groups.values()) {
    const inModel = layersInModel.get(`${g.before}\u0000${g.after}`);
    const everyLayer = inModel !== undefined && [...inModel].every((l) => g.layers.has(l));
    const layers = [...g.layers].sort((a, b) => a - b);
    const layerPattern = everyLayer ? "\\d+" : layers.length === 1 ? String(layers[0]) : `(${layers.join("|")})`;
    rules.push(`^${escapeRegex(g.before)}blk\\.${layerPattern}\\.${escapeRegex(g.after)}$=${g.type}`);
  }
  return rules;
}

/** Rules as command-line arguments, single-quoted for a POSIX shell. */
export function tensorTypeArguments(rules: readonly string[]): string {
  return rules.map((r) => `--tensor-type '${r.replace(/'/g, `'\\''`)}'`).join(" \\\n");
}
