import { readGgufModel, summarizeGguf } from "../../core/gguf";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { modelToMarkdown, modelToText } from "../inspectFormat";
import { streamModelJson } from "../inspectJson";

export const inspectCommand: CliCommand = {
  name: "inspect",
  summary: "show a GGUF's facts, tensor types, bits per weight per layer/kind, metadata and tensors",
  usage: `usage: gguf-studio inspect FILE [--json | --markdown]

FILE may be any shard of a split set (<prefix>-0000i-of-0000n.gguf); all shards are read.
  --json      machine-readable JSON, streamed (64-bit integers as strings; big arrays as {lazyArray, count};
              one line per metadata entry and per tensor)
  --markdown  full report: facts, shards, type histogram, bpw by layer and kind, metadata, tensors
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args);
    rejectUnknownFlags(flags, ["json", "markdown"]);
    if (positional.length !== 1) throw new CliUsageError("give exactly one FILE");
    if (flags.has("json") && flags.has("markdown")) throw new CliUsageError("--json and --markdown exclude each other");
    const model = await readGgufModel(positional[0]);
    const summary = summarizeGguf(model);
    if (flags.has("json")) streamModelJson(model, summary, io.out);
    else if (flags.has("markdown")) io.out(modelToMarkdown(model, summary));
    else io.out(modelToText(model, summary));
    return 0;
  },
};
