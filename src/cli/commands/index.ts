// The command table. To add a command: create commands/<name>.ts exporting a CliCommand and list it here.
import { CliCommand } from "../cliCommand";
import { diffCommand } from "./diff";
import { evalCommand } from "./evalCommand";
import { inspectCommand } from "./inspect";
import { kldCommand } from "./kld";
import { mcpCommand } from "./mcp";
import { quantizeCommand } from "./quantize";
import { recipeCommand } from "./recipe";
import { setMetadataCommand } from "./setMetadata";
import { templateCommand } from "./template";

export const COMMANDS: readonly CliCommand[] = [inspectCommand, diffCommand, setMetadataCommand, quantizeCommand, kldCommand, evalCommand, recipeCommand, templateCommand, mcpCommand];
