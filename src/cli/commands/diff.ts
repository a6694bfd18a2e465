// `gguf-studio diff A B`: what differs between two models, from their headers only.
import { readGgufModel } from "../../core/gguf";
import { diffModels } from "../../core/models/modelDiff";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { diffToJson, diffToMarkdown, diffToText } from "../diffFormat";

export const diffCommand: CliCommand = {
  name: "diff",
  summary: "compare two GGUFs: metadata, tensors whose type or shape differs, bytes and bpw per kind and layer",
  usage: `usage: gguf-studio diff A.gguf B.gguf [--json | --markdown] [--all]

Compares two models (any shard of a split set reads the whole set), e.g. a quant and its base or
two publishers' quants. Reads headers only. Long metadata arrays are summarized (the vocabulary is
compared byte for byte). Tensors are aligned by name when both models have the same architecture;
otherwise only the metadata is compared and the tensors are reported as not alignable.
  --json      everything as JSON (every per-kind and per-layer row)
  --markdown  Markdown tables
  --all       list every per-kind and per-layer row, not only those that differ
Exit code: 0 either way (a difference is not an error).
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args);
    rejectUnknownFlags(flags, ["json", "markdown", "all"]);
    if (positional.length !== 2) throw new CliUsageError("give two files, A and B");
    if (flags.has("json") && flags.has("markdown")) throw new CliUsageError("--json and --markdown exclude each other");
    const [a, b] = await Promise.all([readGgufModel(positional[0]), readGgufModel(positional[1])]);
    const diff = await diffModels(a, b);
    const all = flags.has("all");
    io.out(flags.has("json") ? diffToJson(diff) : flags.has("markdown") ? diffToMarkdown(diff, { all }) : diffToText(diff, { all }));
    return 0;
  },
};
