// Agents pass paths they read from chat; every one must lie inside the workspace or a model folder.
// Symlinks are resolved first, so a link inside a root cannot lead outside it.
import fs from "node:fs";
import path from "node:path";
import { displayName } from "../../shared/displayText";
import { AgentToolRefusal } from "./agentToolEnv";

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    // Not there (yet): resolve the nearest existing folder above it, then append the rest.
    const parent = path.dirname(p);
    if (parent === p) return p;
    return path.join(realOrResolved(parent), path.basename(p));
  }
}

function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The absolute, symlink-resolved path, or a refusal naming why it is not allowed. */
export function allowedPath(input: string, roots: readonly string[], baseDir: string, what: string): string {
  if (input.includes("\0")) throw new AgentToolRefusal("bad-input", `${what}: the path holds a NUL character`);
  const absolute = path.resolve(baseDir, input);
  const real = realOrResolved(absolute);
  const realRoots = roots.map(realOrResolved);
  if (realRoots.some((r) => isInside(real, r))) return real;
  const shown = realRoots.length === 0 ? "none are open" : realRoots.slice(0, 6).map((r) => displayName(r)).join(", ") + (realRoots.length > 6 ? `, and ${realRoots.length - 6} more` : "");
  throw new AgentToolRefusal("outside-roots", `${what} ${displayName(input, 200)} is outside the workspace and the model folders (${shown}); GGUF Studio's tools only read and write there. Add its folder to the ggufStudio.modelFolders setting (or pass --model-folder to gguf-studio mcp).`);
}

/** Like allowedPath, and the file must exist as a regular file. */
export function allowedExistingFile(input: string, roots: readonly string[], baseDir: string, what: string): string {
  const p = allowedPath(input, roots, baseDir, what);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new AgentToolRefusal("not-found", `${what} ${displayName(input, 200)} does not exist`);
  }
  if (!stat.isFile()) throw new AgentToolRefusal("bad-input", `${what} ${displayName(input, 200)} is not a regular file`);
  return p;
}
