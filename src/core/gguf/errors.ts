// One error type for every way a GGUF can be wrong, so callers (UI, CLI, tests) can branch on
// `code` and show where in the file the problem is.
import { boundedMessage } from "../../shared/displayText";

export type GgufErrorCode =
  | "io"
  | "not-a-file"
  | "truncated"
  | "bad-magic"
  | "unsupported-version"
  | "count-too-large"
  | "length-past-eof"
  | "unknown-value-type"
  | "nesting-too-deep"
  | "duplicate-key"
  | "duplicate-tensor"
  | "bad-tensor-shape"
  | "bad-alignment"
  | "misaligned-tensor"
  | "overlapping-tensors"
  | "tensor-data-past-eof"
  | "value-out-of-range"
  | "bad-split"
  | "missing-shard"
  | "bad-edit"
  | "same-path"
  | "hash-mismatch"
  | "cancelled";

export class GgufError extends Error {
  constructor(
    readonly code: GgufErrorCode,
    message: string,
    /** Byte offset in the file where the problem was found, when it has one. */
    readonly offset?: number,
    readonly path?: string,
  ) {
    // Messages quote names from the file: escaped and capped so a hostile name cannot flood a terminal.
    super(boundedMessage(offset === undefined ? message : `${message} (at byte ${offset})`));
    this.name = "GgufError";
  }
}

export function isGgufError(e: unknown): e is GgufError {
  return e instanceof GgufError;
}
