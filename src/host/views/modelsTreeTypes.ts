// Types shared by the Models tree and its commands.
export type { ModelSource } from "../../core/models/modelSources";
export type UnreadableFolderList = readonly { readonly path: string; readonly message: string }[];

/** What `ggufStudio.refreshModels` returns: the tree as data (tests assert on it). */
export interface ModelsSnapshot {
  readonly sources: readonly {
    readonly id: string;
    readonly kind: string;
    readonly label: string;
    readonly root: string;
    readonly unreadable: UnreadableFolderList;
    /** Temp files of interrupted runs (their process is gone), offered for removal. */
    readonly staleTemps: readonly string[];
    readonly models: readonly {
      readonly id: string;
      readonly label: string;
      readonly isSplit: boolean;
      readonly shards: readonly string[];
      readonly missingShards: readonly string[];
      readonly totalSize: number;
      readonly architecture?: string;
      readonly fileType?: string;
      readonly error?: string;
    }[];
  }[];
}
