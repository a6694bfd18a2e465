// Public API of the GGUF core (no vscode imports anywhere below).
export { GgufError, isGgufError } from "./errors";
export type { GgufErrorCode } from "./errors";
export { GgufValueType, GGUF_VALUE_TYPE_NAMES } from "./types";
export type {
  GgufScalar, GgufArray, GgufLazyArray, GgufValue, GgufMetadataEntry, GgufTensorInfo, GgufFile, GgufShardInfo, GgufModel,
} from "./types";
export { readGgufFile, readGgufPrefix, DEFAULT_MAX_MATERIALIZED_ARRAY_LENGTH } from "./reader";
export type { GgufHeaderPrefix, ReadGgufOptions } from "./reader";
export { readGgufModel, parseSplitName, splitShardPath, splitShardPaths } from "./splitSet";
export type { SplitName } from "./splitSet";
export { readArrayPage, GgufArrayPager } from "./arrayPage";
export { metadataValue, metadataNumber, metadataString, metadataArrayLength, metadataNumberArray } from "./metadata";
export { tensorLayerIndex, tensorKind } from "./tensorNaming";
export { summarizeGguf } from "./summary";
export type { GgufSummary, GgufArchitectureFacts, GgufGroupStats, GgufTypeCount } from "./summary";
export { writeGgufWithMetadata, applyMetadataEdits } from "./writer";
export type { MetadataEdit, MetadataEdits, WriteGgufOptions, WriteGgufResult } from "./writer";
export * from "./ggmlTypes";
