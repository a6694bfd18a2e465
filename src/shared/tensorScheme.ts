// Pure (no Node, no DOM): shared by the core (model diff) and the webviews (tensor-type map).
// Where a tensor sits in the layer × kind grid that the tensor-type map draws and the model diff
// tabulates: a layer row and a kind column, the non-layer row (token_embd, output, ...), or the
// "other" row for names outside the scheme (never dropped).

/** Row codes in TensorScheme.rowOf: a layer number (>= 0), or one of these. */
export const NON_LAYER_ROW = -1;
export const OTHER_ROW = -2;

export interface SchemeTensor {
  readonly name: string;
  readonly layer: number | undefined;
  readonly kind: string;
}

export interface TensorScheme {
  /** Layer numbers present, ascending. */
  readonly layers: readonly number[];
  /** Kind columns in first-seen order (attention before FFN in llama.cpp's own order). */
  readonly kinds: readonly string[];
  /** Non-layer kinds (token_embd, output, output_norm, ...) in first-seen order. */
  readonly nonLayerKinds: readonly string[];
  /** Per tensor, in input order: its layer, NON_LAYER_ROW or OTHER_ROW (parallel arrays: 60k tensors stay cheap). */
  readonly rowOf: Int32Array;
  /** Per tensor: its column, i.e. its kind (free-form in the "other" row). */
  readonly columnOf: readonly string[];
}

/** A kind that is a name (letters, digits, '_' and '.' parts), not a per-tensor serial number. */
const KIND_SHAPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/**
 * Kinds become columns when they are names and, in a model with more than one layer, occur in at
 * least two layers; a name with a serial number in it ("attn_q.17") or seen once goes to "other".
 */
export function buildTensorScheme(tensors: readonly SchemeTensor[]): TensorScheme {
  const kindLayers = new Map<string, { first: number; many: boolean }>();
  const layerSet = new Set<number>();
  for (const t of tensors) {
    if (t.layer === undefined) continue;
    layerSet.add(t.layer);
    const k = kindLayers.get(t.kind);
    if (!k) kindLayers.set(t.kind, { first: t.layer, many: false });
    else if (!k.many && k.first !== t.layer) k.many = true;
  }
  const multiLayer = layerSet.size > 1;
  const kinds: string[] = [];
  const isColumn = new Set<string>();
  for (const [kind, seen] of kindLayers) {
    if (KIND_SHAPE.test(kind) && (!multiLayer || seen.many)) {
      kinds.push(kind);
      isColumn.add(kind);
    }
  }
  const nonLayerKinds: string[] = [];
  const nonLayerSeen = new Map<string, boolean>();
  const rowOf = new Int32Array(tensors.length);
  const columnOf = new Array<string>(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    columnOf[i] = t.kind;
    if (t.layer !== undefined) {
      rowOf[i] = isColumn.has(t.kind) ? t.layer : OTHER_ROW;
      continue;
    }
    let ok = nonLayerSeen.get(t.kind);
    if (ok === undefined) {
      ok = KIND_SHAPE.test(t.kind);
      nonLayerSeen.set(t.kind, ok);
      if (ok) nonLayerKinds.push(t.kind);
    }
    rowOf[i] = ok ? NON_LAYER_ROW : OTHER_ROW;
  }
  return { layers: [...layerSet].sort((a, b) => a - b), kinds, nonLayerKinds, rowOf, columnOf };
}

export function rowLabel(row: number): string {
  return row >= 0 ? `blk.${row}` : row === NON_LAYER_ROW ? "non-layer" : "other";
}
