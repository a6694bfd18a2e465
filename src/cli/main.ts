// `gguf-studio` entry: looks the subcommand up in the command table and maps errors to exit codes
// (1: the operation failed, 2: bad usage).
import os from "node:os";
import { GgufError } from "../core/gguf";
import { OutputExistsError, removeTrackedTempsSync } from "../core/tempFiles";
import { CliCommand, CliIo, CliUsageError } from "./cliCommand";
import { COMMANDS } from "./commands";
import { boundedMessage, displayName, escapeControlChars } from "../shared/displayText";

function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ["usage: gguf-studio <command> [args]", "", "commands:", ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), "",
    "Run `gguf-studio <command> --help` for a command's options."].join("\n") + "\n";
}

export async function runCli(argv: readonly string[], rawIo: CliIo, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  // Everything printed can quote file content (tensor names, metadata, templates): terminal and bidi
  // control characters are escaped here, once, for every command. JSON stays valid (\uXXXX).
  const io: CliIo = { out: (t) => rawIo.out(escapeControlChars(t)), err: (t) => rawIo.err(escapeControlChars(t)), signal: rawIo.signal };
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    (name ? io.out : io.err)(overview(commands));
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`gguf-studio: unknown command "${displayName(name)}"\n\n${overview(commands)}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.err(`gguf-studio ${name}: ${boundedMessage(e.message)}\n\n${command.usage}`);
      return 2;
    }
    if (e instanceof OutputExistsError) {
      io.err(`gguf-studio ${name}: ${e.message} (${e.code})\n`);
      return 1;
    }
    if (e instanceof GgufError) {
      io.err(`gguf-studio ${name}: ${e.message}${e.path && !e.message.includes(e.path) ? ` [${displayName(e.path, 400)}]` : ""} (${e.code})\n`);
      return 1;
    }
    io.err(`gguf-studio ${name}: ${boundedMessage(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `inspect … | head` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(0); else throw e; });
  const controller = new AbortController();
  // SIGTERM and SIGHUP (a closed terminal, `kill`) clean up like Ctrl-C: the command is aborted,
  // removes its temp files and exits 128+n. A second signal exits at once; the exit hook still
  // removes the temp files this process tracks.
  let caught: NodeJS.Signals | undefined;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (caught) {
        removeTrackedTempsSync();
        process.exit(128 + os.constants.signals[sig]);
      }
      caught = sig;
      controller.abort();
    });
  }
  const io: CliIo = {
    out: (t) => { process.stdout.write(t); },
    err: (t) => { process.stderr.write(t); },
    signal: controller.signal,
  };
  void runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = caught ? 128 + os.constants.signals[caught] : code;
  });
}
