// The environment and working folder every child process we start gets. Models and templates
// come from folders we do not control, so nothing in the current folder may be able to inject
// code into a child: no relative PATH entries (`.`, empty), no NODE_OPTIONS (`--require ./x.js`
// resolves against the cwd) and no PYTHON* variables (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME).
// Python itself also runs with -I (see engines.ts), which ignores the cwd and user site-packages.
import fs from "node:fs";
import path from "node:path";

const DROPPED = /^(?:NODE_OPTIONS|NODE_PATH|NODE_REPL_EXTERNAL_MODULE|PYTHON\w*)$/i;

/** Only absolute PATH entries, in order: a relative one would resolve against the child's cwd. */
export function absolutePathEntries(value: string | undefined): string[] {
  return (value ?? "").split(path.delimiter).filter((entry) => entry.length > 0 && path.isAbsolute(entry));
}

/** A copy of `base` safe to hand to a child process; `extra` is applied last (and is trusted). */
export function childProcessEnv(base: NodeJS.ProcessEnv = process.env, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined || DROPPED.test(key)) continue;
    env[key] = /^path$/i.test(key) ? absolutePathEntries(value).join(path.delimiter) : value;
  }
  return { ...env, ...extra };
}

/**
 * The absolute path of `command`: itself when it has a directory part, else the first match on
 * PATH's absolute entries. Resolving here, not in the kernel, keeps `.` on PATH from meaning
 * "whatever folder the user happens to be in".
 */
export function resolveExecutable(command: string, envPath: string | undefined = process.env.PATH): string | undefined {
  if (command.includes("/") || command.includes("\\")) return path.resolve(command);
  const names = process.platform === "win32" ? [`${command}.exe`, command] : [command];
  for (const dir of absolutePathEntries(envPath)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        if (fs.statSync(candidate).isFile()) {
          fs.accessSync(candidate, fs.constants.X_OK);
          return candidate;
        }
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}
