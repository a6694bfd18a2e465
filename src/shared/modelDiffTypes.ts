// The result of comparing two models (core/models/modelDiff), as the CLI prints it and the Compare
// Models webview shows it. Types only.

export interface MetadataDiffEntry {
  readonly key: string;
  readonly status: "added" | "removed" | "changed";
  /** Display text of the value in A / B (absent on the side that lacks the key). */
  readonly a?: string;
  readonly b?: string;
}

export interface TensorDiffEntry {
  readonly name: string;
  readonly status: "type" | "shape" | "type+shape" | "only-a" | "only-b";
  readonly typeA?: string;
  readonly typeB?: string;
  readonly shapeA?: readonly number[];
  readonly shapeB?: readonly number[];
  readonly bytesA?: number;
  readonly bytesB?: number;
}

export interface SizeRow {
  /** A kind ("ffn_down"), a layer ("blk.3"), "non-layer" or "other". */
  readonly group: string;
  readonly bytesA: number;
  readonly bytesB: number;
  readonly bpwA: number | undefined;
  readonly bpwB: number | undefined;
  readonly deltaBytes: number;
}

export interface ModelSide {
  readonly path: string;
  readonly architecture: string | undefined;
  readonly layerCount: number;
  readonly tensorCount: number;
  readonly tensorBytes: number;
  readonly bitsPerWeight: number | undefined;
  readonly fileType: number | undefined;
  readonly shards: number;
}

export interface ModelDiff {
  readonly a: ModelSide;
  readonly b: ModelSide;
  readonly metadata: readonly MetadataDiffEntry[];
  /** Keys equal on both sides. */
  readonly metadataSame: number;
  /** False when the architectures differ: no tensor tables then. */
  readonly alignable: boolean;
  readonly notAlignableReason?: string;
  readonly tensors: readonly TensorDiffEntry[];
  readonly tensorsSame: number;
  readonly byKind: readonly SizeRow[];
  readonly byLayer: readonly SizeRow[];
}
