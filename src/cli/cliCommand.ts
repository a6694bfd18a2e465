// The shape every `gguf-studio <command>` implements; main.ts only looks commands up in a table.

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Cancelled on SIGINT, SIGTERM and SIGHUP so long commands clean up their temp files. */
  readonly signal: AbortSignal;
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text. */
  readonly usage: string;
  /** Returns the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad arguments: main.ts prints the message and the command's usage, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/** Splits flags (`--x`, `--key value` for names in `valued`) from positional arguments. */
export function parseFlags(args: readonly string[], valued: readonly string[] = []): { flags: Map<string, string[]>; positional: string[] } {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") { positional.push(...args.slice(i + 1)); break; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value = eq > 0 ? a.slice(eq + 1) : "";
      if (eq < 0 && valued.includes(name)) {
        if (i + 1 >= args.length) throw new CliUsageError(`--${name} needs a value`);
        value = args[++i];
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else positional.push(a);
  }
  return { flags, positional };
}

export function rejectUnknownFlags(flags: Map<string, string[]>, known: readonly string[]): void {
  for (const f of flags.keys()) if (!known.includes(f)) throw new CliUsageError(`unknown option --${f}`);
}
