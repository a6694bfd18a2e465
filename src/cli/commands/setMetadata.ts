import { readGgufFile, writeGgufWithMetadata } from "../../core/gguf";
import { refuseExistingOutputs } from "../../core/tempFiles";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { METADATA_ARG_HELP, parseMetadataArg } from "../metadataArgs";

export const setMetadataCommand: CliCommand = {
  name: "set-metadata",
  summary: "write a copy of a GGUF with metadata keys set or removed (tensor data unchanged, verified)",
  usage: `usage: gguf-studio set-metadata IN OUT [KEY=VALUE...] [--remove KEY...] [--overwrite]

Writes OUT (a temp file, fsynced, verified tensor by tensor against IN, then renamed). IN is never
modified. For a split set, IN is any shard and OUT names the first output shard
(<prefix>-00001-of-0000N.gguf); metadata edits go to the first shard.
${METADATA_ARG_HELP}
--remove KEY     remove a key (repeatable)
--overwrite      replace OUT if it exists (without it an existing OUT is refused)

Keys and values that are not edited are copied byte for byte (strings that are not valid UTF-8 included).
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args, ["remove"]);
    rejectUnknownFlags(flags, ["remove", "overwrite"]);
    if (positional.length < 2) throw new CliUsageError("give IN and OUT");
    const [input, output, ...assignments] = positional;
    const remove = flags.get("remove") ?? [];
    if (assignments.length === 0 && remove.length === 0) throw new CliUsageError("nothing to change: give KEY=VALUE or --remove KEY");
    // Refused before anything is read or parsed: a mistyped OUT must not cost the user a file.
    await refuseExistingOutputs([output], flags.has("overwrite"));
    const source = await readGgufFile(input, { maxMaterializedArrayLength: 0 });
    for (const k of remove) if (!source.metadata.has(k)) throw new CliUsageError(`--remove ${k}: no such key in ${input}`);
    const set = [];
    for (const a of assignments) set.push(await parseMetadataArg(a, source.metadata));
    const result = await writeGgufWithMetadata({ input, output, edits: { set, remove }, signal: io.signal, overwrite: flags.has("overwrite") });
    io.out(`wrote ${result.outputs.join(", ")}: ${set.length} key(s) set, ${remove.length} removed; ${result.verifiedTensorCount}/${result.tensorCount} tensors verified unchanged\n`);
    return 0;
  },
};
